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
 * Announces `changes`: the friend view to every connection of every friend, the own view to the user's other
 * connections. A change whose friend list was not cached gets it from the directory (one query for all of them),
 * cached along with `save` in the same store round trip that finds the friends' connections. Posts run with bounded
 * concurrency and never stop on one failure; a connection that is gone (410) is removed from its owner only.
 */
export async function announce(
  deps: PresenceDeps,
  endpoint: string,
  announced: readonly PresenceChange[],
  alreadyLoaded: readonly UserContext[] = [],
): Promise<AnnounceStats> {
  const missing = announced.filter((c) => c.friendView !== null && c.friendIds === null).map((c) => c.userId);
  const loaded = missing.length > 0 ? await deps.directory.loadContexts([...new Set(missing)]) : new Map<string, UserContext>();
  const save = [...alreadyLoaded, ...loaded.values()];
  const changes = announced.map((c) =>
    c.friendView !== null && c.friendIds === null ? { ...c, friendIds: loaded.get(c.userId)?.friendIds ?? [] } : c,
  );
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
