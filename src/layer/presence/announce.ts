// Fan-out: tells friends' connections and the user's other connections what changed, with bounded concurrency.
import { mapSettled } from '../shared/async';
import type { PresenceChange, UserContext } from './model';
import type { PresenceDeps } from './ports';
import { messageFor } from './views';

/** Outcome counts of one fan-out. */
export interface AnnounceStats {
  sent: number;
  gone: number;
  failed: number;
}

interface Delivery {
  readonly ownerId: string;
  readonly connectionId: string;
  readonly payload: string;
}

/**
 * Loads contexts for changes whose friend list was not cached (one query for all of them) and returns the changes with
 * friend ids filled in, plus the contexts to cache.
 */
export async function withFriendIds(
  deps: PresenceDeps,
  changes: readonly PresenceChange[],
): Promise<{ changes: PresenceChange[]; loaded: UserContext[] }> {
  const missing = changes.filter((c) => c.friendView !== null && c.friendIds === null).map((c) => c.userId);
  if (missing.length === 0) return { changes: [...changes], loaded: [] };
  const contexts = await deps.directory.loadContexts([...new Set(missing)]);
  return {
    changes: changes.map((c) =>
      c.friendView !== null && c.friendIds === null ? { ...c, friendIds: contexts.get(c.userId)?.friendIds ?? [] } : c,
    ),
    loaded: [...contexts.values()],
  };
}

/**
 * Announces `changes`: the friend view to every connection of every friend, the own view to the user's other
 * connections. One store round trip finds the friends' connections (and caches `save`); posts run with bounded
 * concurrency and never stop on one failure; a connection that is gone (410) is removed from its owner only.
 */
export async function announce(
  deps: PresenceDeps,
  endpoint: string,
  changes: readonly PresenceChange[],
  save: readonly UserContext[] = [],
): Promise<AnnounceStats> {
  const friendIds = new Set<string>();
  for (const change of changes) {
    if (change.friendView) for (const id of change.friendIds ?? []) friendIds.add(id);
  }
  const connections =
    friendIds.size > 0 || save.length > 0 ? await deps.store.connectionsOf([...friendIds], save) : new Map<string, string[]>();

  const deliveries: Delivery[] = [];
  for (const change of changes) {
    if (change.friendView) {
      const payload = JSON.stringify(messageFor(change.userId, change.friendView, change.snapshot, 'friend'));
      for (const friendId of change.friendIds ?? []) {
        for (const connectionId of connections.get(friendId) ?? []) deliveries.push({ ownerId: friendId, connectionId, payload });
      }
    }
    if (change.ownView && change.ownConnectionIds.length > 0) {
      const payload = JSON.stringify(messageFor(change.userId, change.ownView, change.snapshot, 'own'));
      for (const connectionId of change.ownConnectionIds) deliveries.push({ ownerId: change.userId, connectionId, payload });
    }
  }

  const stats: AnnounceStats = { sent: 0, gone: 0, failed: 0 };
  const gone: Delivery[] = [];
  const results = await mapSettled(deliveries, deps.fanoutConcurrency, (d) => deps.gateway.post(endpoint, d.connectionId, d.payload));
  results.forEach((result, i) => {
    if (result.status === 'rejected') {
      stats.failed += 1;
      deps.log.warn('post to connection failed', { connectionId: deliveries[i]?.connectionId, error: String(result.reason) });
    } else if (result.value === 'gone') {
      stats.gone += 1;
      gone.push(deliveries[i] as Delivery);
    } else {
      stats.sent += 1;
    }
  });
  if (gone.length > 0) {
    const now = deps.clock();
    const removals = await mapSettled(gone, deps.fanoutConcurrency, (d) =>
      deps.store.remove({ userId: d.ownerId, connectionId: d.connectionId, now, deferAnnounce: true }),
    );
    for (const removal of removals) {
      if (removal.status === 'rejected') deps.log.warn('removing a gone connection failed', { error: String(removal.reason) });
    }
  }
  return stats;
}
