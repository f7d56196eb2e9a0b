// Token extraction (WebSocket query / subprotocol, REST header) and verification with aws-jwt-verify.
import { CognitoJwtVerifier, JwtRsaVerifier } from 'aws-jwt-verify';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import type { Fetcher } from 'aws-jwt-verify/https';
import type { JwtPayload } from 'aws-jwt-verify/jwt-model';
import type { AuthConfig } from './config';
import { UnauthorizedError } from './errors';

/** The WebSocket subprotocol of this API; the token travels as the second protocol value. */
export const SUBPROTOCOL = 'presence.v1';

/** The version 2 subprotocol: like presence.v1, and the connection opts in to `presence-batch` messages. */
export const SUBPROTOCOL_V2 = 'presence.v2';

/** Longest accepted user id. */
export const MAX_USER_ID_LENGTH = 128;

type Headers = Record<string, string | undefined> | null | undefined;

/** A header value, looked up case-insensitively. */
export function headerOf(headers: Headers, name: string): string | undefined {
  if (!headers) return undefined;
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === wanted) return value;
  return undefined;
}

/** The token of a REST request: `Authorization: Bearer <jwt>` or the bare token. */
export function tokenFromAuthorizationHeader(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  if (!trimmed) return undefined;
  const match = /^Bearer\s+(.+)$/i.exec(trimmed);
  return (match ? match[1] : trimmed)?.trim() || undefined;
}

/** Whether the client offered the `presence.v1` subprotocol. */
export function offersSubprotocol(headers: Headers): boolean {
  return chosenSubprotocol(headers) !== undefined;
}

/** The subprotocol the server answers with: `presence.v2` or `presence.v1` when offered (v2 preferred). */
export function chosenSubprotocol(headers: Headers): string | undefined {
  const offered = (headerOf(headers, 'Sec-WebSocket-Protocol') ?? '').split(',').map((p) => p.trim());
  if (offered.includes(SUBPROTOCOL_V2)) return SUBPROTOCOL_V2;
  return offered.includes(SUBPROTOCOL) ? SUBPROTOCOL : undefined;
}

/** The parts of an authorizer event that say where the token is. */
export interface TokenSource {
  readonly headers?: Headers;
  readonly queryStringParameters?: Record<string, string | undefined> | null;
  /** `eventType: 'CONNECT'` marks a WebSocket `$connect`; REST events have no `eventType`. */
  readonly requestContext?: { readonly eventType?: unknown } | null;
}

/** Whether an authorizer event is a WebSocket `$connect` (the only request whose query string may carry a token). */
export function isWebSocketConnect(request: TokenSource): boolean {
  return request.requestContext?.eventType === 'CONNECT';
}

/**
 * The token of a request, wherever the contract allows it. WebSocket `$connect`: query `Authorization` / `token`, the
 * subprotocol pair `presence.v1, <jwt>`, or the `Authorization` header. REST: the `Authorization` header only; a
 * token in a REST query string is ignored.
 */
export function extractToken(request: TokenSource): string | undefined {
  if (isWebSocketConnect(request)) {
    const query = request.queryStringParameters ?? {};
    const fromQuery = [query.Authorization, query.authorization, query.token].find((value) => value?.trim());
    if (fromQuery) return fromQuery.trim();
    const protocols = (headerOf(request.headers, 'Sec-WebSocket-Protocol') ?? '')
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean);
    if (protocols.includes(SUBPROTOCOL) || protocols.includes(SUBPROTOCOL_V2)) {
      const token = protocols.find((p) => p !== SUBPROTOCOL && p !== SUBPROTOCOL_V2);
      if (token) return token;
    }
  }
  return tokenFromAuthorizationHeader(headerOf(request.headers, 'Authorization'));
}

/** JWKS fetcher that accepts https and http (local issuers), with a timeout. */
export class HttpJwksFetcher implements Fetcher {
  constructor(private readonly timeoutMs = 3000) {}

  async fetch(uri: string): Promise<ArrayBuffer> {
    const response = await fetch(uri, { signal: AbortSignal.timeout(this.timeoutMs) });
    if (response.status !== 200) throw new Error(`JWKS fetch failed with status ${response.status}`);
    return response.arrayBuffer();
  }
}

/** What a verified token says. */
export interface VerifiedToken {
  readonly userId: string;
  /** Epoch ms the token expires (0: no `exp`). */
  readonly expiresAt: number;
  /** `cognito:groups`. */
  readonly groups: readonly string[];
}

/** Verifies tokens and returns the user id (or all the claims the service uses). */
export interface TokenVerifier {
  verify(token: string): Promise<string>;
  verifyClaims(token: string): Promise<VerifiedToken>;
}

/** The claims of a verified payload the service uses. */
export function claimsOf(payload: JwtPayload): VerifiedToken {
  const groups = payload['cognito:groups'];
  return {
    userId: userIdOf(payload),
    expiresAt: typeof payload.exp === 'number' ? payload.exp * 1000 : 0,
    groups: Array.isArray(groups) ? groups.filter((g): g is string => typeof g === 'string') : [],
  };
}

function verifierOf(verify: (token: string) => Promise<JwtPayload>): TokenVerifier {
  return {
    verify: async (token) => userIdOf(await verify(token)),
    verifyClaims: async (token) => claimsOf(await verify(token)),
  };
}

/** The user id of a verified payload: `cognito:username`, else `username`, else `sub`. */
export function userIdOf(payload: JwtPayload): string {
  const candidates = [payload['cognito:username'], payload.username, payload.sub];
  const userId = candidates.find((c): c is string => typeof c === 'string' && c.length > 0);
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (!userId || userId.length > MAX_USER_ID_LENGTH || /[\u0000-\u001f]/.test(userId)) {
    throw new UnauthorizedError('token carries no usable user id');
  }
  return userId;
}

/** Creates the verifier once (module scope in the authorizer); JWKS are cached across invocations. */
export function createTokenVerifier(config: AuthConfig): TokenVerifier {
  const jwksCache = new SimpleJwksCache({ fetcher: new HttpJwksFetcher() });
  const tokenUse = config.tokenUse === 'any' ? null : config.tokenUse;
  if (config.cognitoUserPoolId) {
    const verifier = CognitoJwtVerifier.create(
      { userPoolId: config.cognitoUserPoolId, tokenUse, clientId: config.audience },
      { jwksCache },
    );
    return verifierOf((token) => verifier.verify(token) as Promise<JwtPayload>);
  }
  const verifier = JwtRsaVerifier.create(
    {
      issuer: config.issuer,
      jwksUri: config.jwksUri,
      // ID tokens carry the client in `aud`, access tokens in `client_id`: accept either, checked below.
      audience: null,
      customJwtCheck: ({ payload }) => {
        const aud = payload.aud;
        const audiences = Array.isArray(aud) ? aud : aud ? [aud] : [];
        if (!audiences.includes(config.audience) && payload.client_id !== config.audience) {
          throw new Error('audience not allowed');
        }
        if (tokenUse && payload.token_use !== tokenUse) throw new Error('token_use not allowed');
      },
    },
    { jwksCache },
  );
  return verifierOf((token) => verifier.verify(token) as Promise<JwtPayload>);
}
