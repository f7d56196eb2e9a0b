// Use case: a connection reports its page and/or status; the store applies privacy and roll-up atomically.
import { RateLimitedError } from '../shared/errors';
import type { ConnectionStatus } from './model';
import type { PresenceDeps, UpdateInput } from './ports';
import { announce } from './announce';
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
}

/**
 * Applies an update: with the context cached, one store round trip plus the fan-out's, and no query. A page that may
 * not be shared is never stored nor sent. Throws {@link RateLimitedError} when the connection exceeds its rate.
 */
export async function updatePresence(deps: PresenceDeps, input: UpdatePresenceInput): Promise<void> {
  const base: UpdateInput = {
    userId: input.userId,
    connectionId: input.connectionId,
    now: deps.clock(),
    ...(input.status !== undefined ? { status: input.status } : {}),
    ...(input.message !== undefined ? { message: input.message } : {}),
    ...(input.url !== undefined ? { page: shareablePage(input.url, input.title ?? '') } : {}),
  };
  let result = await deps.store.update(base);
  if (result.kind === 'need-context') {
    const context = (await deps.directory.loadContexts([input.userId])).get(input.userId);
    if (!context) throw new Error('directory returned no context');
    result = await deps.store.update({ ...base, context });
    if (result.kind === 'need-context') throw new Error('context was not cached');
  }
  if (result.kind === 'rate-limited') throw new RateLimitedError(result.notify);
  // The friend list may have expired from the cache since the privacy settings were read: announce reloads it.
  await announce(deps, input.endpoint, [result.change]);
}
