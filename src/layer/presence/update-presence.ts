// Use case: a connection reports its page, status, message or activity; the store applies privacy, order (seq) and
// roll-up atomically and records the change for delivery.
import { RateLimitedError } from '../shared/errors';
import type { Activity, ConnectionStatus } from './model';
import type { PresenceDeps, UpdateInput } from './ports';
import { closeExpired, requestResync } from './heartbeat';
import { shareablePage } from './privacy';

/** Input of {@link updatePresence}. */
export interface UpdatePresenceInput {
  readonly userId: string;
  readonly connectionId: string;
  readonly endpoint: string;
  readonly url?: string;
  readonly title?: string;
  readonly status?: ConnectionStatus;
  readonly message?: string | null;
  readonly activity?: Activity | null;
  readonly seq?: number;
  readonly authorizedUntil?: number;
}

/**
 * Applies an update: with the context cached, one store round trip plus the delivery's, and no query. A page that may
 * not be shared is never stored nor sent; an update whose `seq` is not newer than the last applied changes nothing.
 */
export async function updatePresence(deps: PresenceDeps, input: UpdatePresenceInput): Promise<void> {
  const base: UpdateInput = {
    userId: input.userId,
    connectionId: input.connectionId,
    now: deps.clock(),
    ...(input.status !== undefined ? { status: input.status } : {}),
    ...(input.message !== undefined ? { message: input.message } : {}),
    ...(input.url !== undefined ? { page: shareablePage(input.url, input.title ?? '') } : {}),
    ...(input.activity !== undefined
      ? { activity: input.activity === null ? null : JSON.stringify(input.activity) }
      : {}),
    ...(input.seq !== undefined ? { seq: input.seq } : {}),
    ...(input.authorizedUntil ? { authorizedUntil: input.authorizedUntil } : {}),
  };
  let result = await deps.store.update(base);
  if (result.kind === 'need-context') {
    const context = (await deps.directory.loadContexts([input.userId])).get(input.userId);
    if (!context) throw new Error('directory returned no context');
    result = await deps.store.update({ ...base, context });
    if (result.kind === 'need-context') throw new Error('context was not cached');
  }
  switch (result.kind) {
    case 'rate-limited':
      throw new RateLimitedError(result.notify);
    case 'expired':
      return closeExpired(deps, input);
    case 'applied':
      if (result.change) await deps.deliverer.deliverChanges(input.endpoint, [result.change]);
      if (result.resync) await requestResync(deps, input);
      return;
    default:
      return; // stale: an older update processed late changes nothing
  }
}
