// Use case: a heartbeat (or any other message) keeps the connection alive; notifies no one. Also the token-expiry and
// resync paths every message shares.
import { RateLimitedError, TokenExpiredError } from '../shared/errors';
import { directMessage } from '../delivery/ports';
import type { PresenceDeps } from './ports';
import { RESYNC_MESSAGE, TOKEN_EXPIRED_MESSAGE } from './messages';

/** Input of {@link heartbeat}. */
export interface HeartbeatInput {
  readonly userId: string;
  readonly connectionId: string;
  readonly endpoint: string;
  /** Expiry of a fresh token the message carried (epoch ms). */
  readonly authorizedUntil?: number;
}

/**
 * Refreshes the connection's liveness in one store round trip. Throws {@link RateLimitedError} (with `notify` telling
 * whether to tell the client, at most once a second) when the connection exceeds its rate, and
 * {@link TokenExpiredError} once the connection's token has expired (after {@link closeExpired}).
 */
export async function heartbeat(deps: PresenceDeps, input: HeartbeatInput): Promise<void> {
  await touchOrThrow(deps, input, false);
}

/**
 * Charges a rejected message to the connection's rate limit without refreshing anything else: a flood of bad messages
 * is answered `rate_limited` (at most once a second) instead of one error per message.
 */
export async function chargeRejectedMessage(deps: PresenceDeps, input: HeartbeatInput): Promise<void> {
  await touchOrThrow(deps, input, true);
}

/** Asks the client to resend its status and page (its user's choice is unknown: their state was lost). */
export async function requestResync(deps: PresenceDeps, input: HeartbeatInput): Promise<void> {
  await deps.deliverer.sendTo(input.endpoint, directMessage(input.userId, input.connectionId, RESYNC_MESSAGE));
}

/**
 * Ends a connection whose token expired: tells it `token_expired`, closes the socket and removes the connection (the
 * user's friends are told after the grace window, as for a timeout). Then throws {@link TokenExpiredError}.
 */
export async function closeExpired(deps: PresenceDeps, input: HeartbeatInput): Promise<never> {
  await deps.deliverer
    .close(input.endpoint, [{ ownerId: input.userId, connectionId: input.connectionId, notice: TOKEN_EXPIRED_MESSAGE }])
    .catch(() => undefined);
  const removed = await deps.store.remove({
    userId: input.userId,
    connectionId: input.connectionId,
    now: deps.clock(),
  });
  if (removed.kind === 'removed' && removed.change)
    await deps.deliverer.deliverChanges(input.endpoint, [removed.change]);
  throw new TokenExpiredError();
}

async function touchOrThrow(deps: PresenceDeps, input: HeartbeatInput, countOnly: boolean): Promise<void> {
  const result = await deps.store.touch({
    userId: input.userId,
    connectionId: input.connectionId,
    now: deps.clock(),
    countOnly,
    ...(input.authorizedUntil ? { authorizedUntil: input.authorizedUntil } : {}),
  });
  switch (result.kind) {
    case 'rate-limited':
      throw new RateLimitedError(result.notify);
    case 'expired':
      return closeExpired(deps, input);
    case 'resync':
      return requestResync(deps, input);
    case 'applied':
      // Redis did not know this live connection (reaped in a race, or lost): it is back, as the user's choice allows.
      if (result.change) await deps.deliverer.deliverChanges(input.endpoint, [result.change]);
      if (result.resync) await requestResync(deps, input);
      return;
    default:
      return;
  }
}
