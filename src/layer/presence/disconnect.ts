// Use case: a connection closed ($disconnect, best effort). Removes exactly it; the last one starts the grace window.
import type { PresenceDeps } from './ports';

/** Input of {@link disconnect}. */
export interface DisconnectInput {
  readonly userId: string;
  readonly connectionId: string;
  readonly endpoint: string;
}

/** Removes the connection (1 store round trip); friends hear of it only if what they see changed. */
export async function disconnect(deps: PresenceDeps, input: DisconnectInput): Promise<void> {
  const result = await deps.store.remove({ userId: input.userId, connectionId: input.connectionId, now: deps.clock() });
  if (result.kind === 'removed' && result.change) await deps.deliverer.deliverChanges(input.endpoint, [result.change]);
}
