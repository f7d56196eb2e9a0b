// Use case: a heartbeat (or any other message) keeps the connection alive; notifies no one.
import { RateLimitedError } from '../shared/errors';
import type { PresenceDeps } from './ports';
import { announce } from './announce';

/** Input of {@link heartbeat}. */
export interface HeartbeatInput {
  readonly userId: string;
  readonly connectionId: string;
  readonly endpoint: string;
}

/**
 * Refreshes the connection's liveness in one store round trip. Throws {@link RateLimitedError} (with `notify` telling
 * whether to tell the client, at most once a second) when the connection exceeds its rate.
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

async function touchOrThrow(deps: PresenceDeps, input: HeartbeatInput, countOnly: boolean): Promise<void> {
  const result = await deps.store.touch({
    userId: input.userId,
    connectionId: input.connectionId,
    now: deps.clock(),
    countOnly,
  });
  if (result.kind === 'rate-limited') throw new RateLimitedError(result.notify);
  if (result.kind === 'revived') {
    // Redis did not know this live connection (reaped in a race or lost): it counts as coming back online.
    await announce(deps, input.endpoint, [result.change]);
  }
}
