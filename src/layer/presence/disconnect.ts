// Use case: a connection closed ($disconnect, best effort). Removes exactly it; the last one starts the grace window.
import { hasNotifications } from './model';
import type { PresenceDeps } from './ports';
import { announce } from './announce';

/** Input of {@link disconnect}. */
export interface DisconnectInput {
  readonly userId: string;
  readonly connectionId: string;
  readonly endpoint: string;
}

/** Removes the connection (at most 2 store round trips). Friends hear of it only if what they see changed. */
export async function disconnect(deps: PresenceDeps, input: DisconnectInput): Promise<void> {
  const change = await deps.store.remove({ userId: input.userId, connectionId: input.connectionId, now: deps.clock() });
  if (!change || !hasNotifications(change)) return;
  await announce(deps, input.endpoint, [change]);
}
