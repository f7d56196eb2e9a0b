// Dev token issuer: an RS256 key pair made at start, a JWKS document, and signed tokens shaped like Cognito's.
import { createPrivateKey, generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';

/** Claims a dev token may override (for tests of bad tokens). */
export interface DevTokenOptions {
  readonly audience?: string;
  readonly issuer?: string;
  readonly tokenUse?: 'id' | 'access';
  /** Seconds from now; negative for an expired token. */
  readonly expiresIn?: number;
  readonly extraClaims?: Record<string, unknown>;
}

/** A local issuer that aws-jwt-verify accepts exactly like a real one. */
export interface DevIssuer {
  readonly issuer: string;
  readonly audience: string;
  readonly kid: string;
  /** The JWKS document to serve at `{issuer}/.well-known/jwks.json`. */
  readonly jwks: { keys: Record<string, unknown>[] };
  /** A signed ID token for `userId`. */
  sign(userId: string, options?: DevTokenOptions): string;
}

const b64url = (data: Buffer | string): string => Buffer.from(data).toString('base64url');

/** Signs `payload` with `key` (RS256), for tests that need tokens from a foreign key too. */
export function signJwt(payload: Record<string, unknown>, key: KeyObject, kid: string): string {
  const header = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid }));
  const body = b64url(JSON.stringify(payload));
  const signature = sign('RSA-SHA256', Buffer.from(`${header}.${body}`), key);
  return `${header}.${body}.${b64url(signature)}`;
}

/** Creates an issuer with a fresh key pair (or the given PEM private key). */
export function createDevIssuer(options: { issuer: string; audience: string; privateKeyPem?: string }): DevIssuer {
  const privateKey = options.privateKeyPem
    ? createPrivateKey(options.privateKeyPem)
    : generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const kid = randomUUID();
  const publicJwk = { ...(privateKey.export({ format: 'jwk' }) as Record<string, unknown>) };
  for (const field of ['d', 'p', 'q', 'dp', 'dq', 'qi']) delete publicJwk[field];
  return {
    issuer: options.issuer,
    audience: options.audience,
    kid,
    jwks: { keys: [{ ...publicJwk, kid, alg: 'RS256', use: 'sig' }] },
    sign(userId, o = {}) {
      const now = Math.floor(Date.now() / 1000);
      const tokenUse = o.tokenUse ?? 'id';
      const audience = o.audience ?? options.audience;
      return signJwt(
        {
          sub: randomUUID(),
          iss: o.issuer ?? options.issuer,
          token_use: tokenUse,
          ...(tokenUse === 'id'
            ? { aud: audience, 'cognito:username': userId }
            : { client_id: audience, username: userId }),
          iat: now,
          exp: now + (o.expiresIn ?? 3600),
          jti: randomUUID(),
          ...o.extraClaims,
        },
        privateKey,
        kid,
      );
    },
  };
}
