// Use case: a connection opens. Adds it, warms the friend cache, and announces the user when they come online.
import type { ConnectionStatus } from './model';
import { hasNotifications } from './model';
import type { PresenceDeps } from './ports';
import { announce } from './announce';

/** Input of {@link connectUser}. */
export interface ConnectInput {
  readonly userId: string;
  readonly connectionId: string;
  readonly endpoint: string;
  /** Initial status of the connection (lets an invisible user reconnect without appearing online). */
  readonly status?: ConnectionStatus;
}

/** Registers a new connection: at most 2 store round trips and 1 query (only when the friend list is not cached). */
export async function connectUser(deps: PresenceDeps, input: ConnectInput): Promise<void> {
  const now = deps.clock();
  const change = await deps.store.connect({
    userId: input.userId,
    connectionId: input.connectionId,
    now,
    ...(input.status ? { status: input.status } : {}),
  });
  if (change.friendIds !== null) {
    if (hasNotifications(change)) await announce(deps, input.endpoint, [change]);
    return;
  }
  // Not cached: load and cache the context now, even when nobody is told anything, so the updates that follow a
  // connect find it (the cache write rides on the fan-out's round trip).
  const context = (await deps.directory.loadContexts([input.userId])).get(input.userId);
  if (!context) return;
  await announce(deps, input.endpoint, [{ ...change, friendIds: context.friendIds }], [context]);
}
