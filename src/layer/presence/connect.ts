// Use case: a connection opens. Registers it (with the user's standing choice) and tells friends; nothing that can fail
// after the registration may refuse the $connect, so a refused $connect never leaves a phantom behind.
import { UnavailableError } from '../shared/errors';
import type { ConnectionStatus, Detail } from './model';
import { directMessage } from '../delivery/ports';
import type { ConnectResult, PresenceDeps } from './ports';
import { RESYNC_MESSAGE } from './messages';

/** Input of {@link connectUser}. */
export interface ConnectUserInput {
  readonly userId: string;
  readonly connectionId: string;
  readonly endpoint: string;
  /** `?status=`: overrides the standing choice (an invisible user never flashes online while reconnecting). */
  readonly status?: ConnectionStatus;
  readonly detail: Detail;
  readonly batch: boolean;
  /** Epoch ms the token expires (0: unknown). */
  readonly authorizedUntil: number;
}

/** How long after `$connect` a message to the new connection waits (API Gateway answers 410 until it returned). */
export const AFTER_CONNECT_MS = 1000;

/**
 * Registers a new connection: 1 store round trip with the friend list cached, else 1 query then 1 round trip (the
 * query runs before anything is written). Deliveries follow; they never fail the connect (the outbox keeps them).
 */
export async function connectUser(deps: PresenceDeps, input: ConnectUserInput): Promise<void> {
  const base = {
    userId: input.userId,
    connectionId: input.connectionId,
    now: deps.clock(),
    detail: input.detail,
    batch: input.batch,
    authorizedUntil: input.authorizedUntil,
    ...(input.status ? { status: input.status } : {}),
  };
  let result: ConnectResult;
  try {
    result = await deps.store.connect(base);
    if (result.kind === 'need-context') {
      const context = (await deps.directory.loadContexts([input.userId])).get(input.userId);
      if (!context) throw new Error('directory returned no context');
      result = await deps.store.connect({ ...base, context });
      if (result.kind === 'need-context') throw new Error('context was not cached');
    }
  } catch (error) {
    // The $connect is refused: if the write went through before the store stopped answering, undo it.
    if (error instanceof UnavailableError && error.dependency === 'redis') {
      await deps.store
        .undoConnect({ userId: input.userId, connectionId: input.connectionId, now: deps.clock() })
        .catch(() => undefined);
    }
    throw error;
  }
  // Committed: from here on, failures are the delivery module's to retry.
  try {
    if (result.resync) {
      await deps.deliverer.sendTo(
        input.endpoint,
        directMessage(input.userId, input.connectionId, RESYNC_MESSAGE, base.now),
        AFTER_CONNECT_MS,
      );
    }
    if (result.change) await deps.deliverer.deliverChanges(input.endpoint, [result.change]);
  } catch (error) {
    deps.log.warn('delivery after connect deferred to the workers', {
      connectionId: input.connectionId,
      error: String(error),
    });
  }
}
