// Token renewal on an open WebSocket: a fresh `jwt` in any client message extends the connection's authorization.
import { JwtExpiredError } from 'aws-jwt-verify/error';
import type { TokenVerifier } from './auth';
import { UnauthorizedError } from './errors';

/** Verified tokens seen by this container (PageNow clients send the same token with every message). */
const seen = new Map<string, { userId: string; expiresAt: number }>();
const SEEN_MAX = 1000;

/**
 * The new authorization deadline a message's `jwt` grants the connection of `userId`: its `exp` (epoch ms), or
 * undefined for an expired token (which extends nothing and is otherwise ignored). A forged, malformed or foreign
 * token (bad signature, other issuer or audience, another user) throws {@link UnauthorizedError}.
 */
export async function renewedUntil(
  verifier: () => TokenVerifier,
  userId: string,
  jwt: string | undefined,
): Promise<number | undefined> {
  if (!jwt) return undefined;
  let claims = seen.get(jwt);
  if (!claims) {
    try {
      claims = await verifier().verifyClaims(jwt);
    } catch (error) {
      if (error instanceof JwtExpiredError) return undefined;
      throw new UnauthorizedError('the token in this message is not valid');
    }
    if (seen.size >= SEEN_MAX) seen.delete(seen.keys().next().value as string);
    seen.set(jwt, { userId: claims.userId, expiresAt: claims.expiresAt });
  }
  if (claims.userId !== userId) throw new UnauthorizedError('the token in this message belongs to another user');
  if (claims.expiresAt !== 0 && claims.expiresAt <= Date.now()) return undefined;
  return claims.expiresAt || undefined;
}
