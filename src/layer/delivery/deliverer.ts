// The delivery module: turns pending changes into messages for the connections interested in them, posts them under
// the deployment-wide rate cap, keeps what failed in the targets' mailboxes for retry, and acknowledges the outbox.
import { mapSettled, sleep } from '../shared/async';
import type { PendingChange, UserContext } from '../presence/model';
import type {
  ConnectionGateway,
  Deliverer,
  DomainLog,
  FriendDirectory,
  ListsAhead,
  GroupDeps,
  GroupSubscriber,
  PresenceStore,
  TargetConnection,
} from '../presence/ports';
import { messageForChange } from '../presence/views';
import type {
  Delivery,
  DeliveryMetrics,
  DeliveryStore,
  EventPublisher,
  MailResult,
  OutboxAck,
  RateCap,
  WorkQueue,
} from './ports';
import { NO_METRICS, directMessage } from './ports';
import { planCalls } from './batches';
import type { Call } from './batches';

/** Tuning of the delivery module. */
export interface DeliverySettings {
  /** `@connections` calls in flight per container. */
  readonly concurrency: number;
  /** A 410 for a connection whose `$connect` ran less than this long ago means "not yet", not "gone". */
  readonly connectWindowMs: number;
  /** First retry delay; doubles per failed attempt up to `retryMaxMs`. */
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  /** Largest `presence-batch` message. */
  readonly maxBatchBytes: number;
  /** How long a claimed outbox entry or mailbox stays ours. */
  readonly leaseMs: number;
  /** Entries claimed per shard per step. */
  readonly claimLimit: number;
  /**
   * Outbox entries of several shards planned together at most (a drain over many shards): changes of different shards
   * for the same connection then share one `presence-batch` call. Bounds the memory of one plan. Default: `claimLimit`.
   */
  readonly planLimit?: number;
}

/** What the delivery module needs. */
export interface DeliveryDeps {
  readonly store: PresenceStore;
  readonly directory: FriendDirectory;
  readonly outbox: DeliveryStore;
  readonly gateway: ConnectionGateway;
  readonly cap: RateCap;
  readonly queue: WorkQueue;
  readonly events: EventPublisher;
  /** Cached groups and their subscriber indexes (group fan-out). */
  readonly groups: GroupDeps;
  readonly clock: () => number;
  readonly log: DomainLog;
  /** Sent / failed / lag / rate-cap waits (none when absent). */
  readonly metrics?: DeliveryMetrics;
}

/** Subscribers of each (group, member who changed) probe: key `${groupId}\n${userId}`. */
type GroupTargets = Map<string, readonly GroupSubscriber[]>;

const probeKey = (groupId: string, userId: string) => `${groupId}\n${userId}`;

/** Counts of one delivery step. */
export interface DeliveryStats {
  changes: number;
  calls: number;
  sent: number;
  gone: number;
  retried: number;
  deferred: number;
  events: number;
}

/** An empty {@link DeliveryStats}. */
export function emptyDeliveryStats(): DeliveryStats {
  return { changes: 0, calls: 0, sent: 0, gone: 0, retried: 0, deferred: 0, events: 0 };
}

type CallOutcome = 'sent' | 'gone' | 'retry';

/** Users per friend-list query of one plan, and such queries in flight at once (about the Postgres pool size). */
const CONTEXT_CHUNK = 500;
const CONTEXT_CHUNKS_AT_ONCE = 2;

/** Shards claimed from (or drained) at once in a drain over many shards. */
const SHARDS_AT_ONCE = 16;

/** Rounds of permits a batch of closes waits for before leaving the rest to API Gateway's idle timeout. */
const CLOSE_ATTEMPTS = 20;

/** The delivery module (one per container). */
export class DeliveryService implements Deliverer {
  constructor(
    private readonly deps: DeliveryDeps,
    readonly settings: DeliverySettings,
  ) {}

  /** Delay before attempt `attempts + 1`, with jitter so retries of many functions do not line up. */
  backoff(attempts: number): number {
    const base = Math.min(this.settings.retryMaxMs, this.settings.retryBaseMs * 2 ** Math.min(attempts, 10));
    return Math.round(base * (0.75 + Math.random() * 0.5));
  }

  async deliverChanges(
    endpoint: string,
    changes: readonly PendingChange[],
    stats = emptyDeliveryStats(),
    lists?: ListsAhead,
  ): Promise<DeliveryStats> {
    if (changes.length === 0) return stats;
    const { deps } = this;
    const now = deps.clock();
    const acks: OutboxAck[] = [];
    const retryShards = new Set<number>();
    stats.changes += changes.length;

    // Friend lists that were not cached come from the directory, in chunks (a plan over many shards may miss thousands),
    // or from the loads the caller started ahead; the changes of a list that cannot be loaded wait (nothing is lost),
    // the others go on.
    const needsList = (c: PendingChange) => c.record.friendsChanged && c.friendIds === null;
    const missing = [...new Set(changes.filter(needsList).map((c) => c.record.userId))];
    const loaded = new Map<string, UserContext>();
    const unavailable = new Set<string>();
    const ahead: string[] = [];
    const toLoad: string[] = [];
    for (const id of missing) (lists?.has(id) ? ahead : toLoad).push(id);
    const chunks: string[][] = [];
    for (let i = 0; i < toLoad.length; i += CONTEXT_CHUNK) chunks.push(toLoad.slice(i, i + CONTEXT_CHUNK));
    const [aheadLists, loads] = await Promise.all([
      Promise.all(ahead.map((id) => lists?.get(id))),
      mapSettled(chunks, CONTEXT_CHUNKS_AT_ONCE, (chunk) => deps.directory.loadContexts(chunk)),
    ]);
    ahead.forEach((id, i) => {
      const result = aheadLists[i];
      if (!result) unavailable.add(id);
      else {
        const context = result.get(id);
        if (context) loaded.set(id, context);
      }
    });
    loads.forEach((result, i) => {
      const chunk = chunks[i] as string[];
      if (result.status === 'fulfilled') for (const [userId, context] of result.value) loaded.set(userId, context);
      else {
        deps.log.warn('friend lists unavailable: deliveries wait', {
          users: chunk.length,
          error: String(result.reason),
        });
        for (const userId of chunk) unavailable.add(userId);
      }
    });
    const waits = (c: PendingChange) => needsList(c) && unavailable.has(c.record.userId);
    const ready = unavailable.size > 0 ? changes.filter((c) => !waits(c)) : changes;
    for (const c of unavailable.size > 0 ? changes.filter(waits) : []) {
      acks.push({ userId: c.record.userId, v: c.record.v, retryAt: now + this.backoff(1) });
      retryShards.add(deps.outbox.shardOf(c.record.userId));
    }
    const friendsOf = (c: PendingChange): readonly string[] =>
      c.friendIds ?? loaded.get(c.record.userId)?.friendIds ?? [];
    const groupsOf = (c: PendingChange): readonly string[] =>
      (c.friendIds !== null ? c.groupIds : undefined) ?? loaded.get(c.record.userId)?.groupIds ?? [];

    // Targets: friends' connections for friend changes, the user's own for own changes (one round trip), and, at the
    // same time, the subscribers of the user's groups for status-level changes (one script per group).
    const users = new Set<string>();
    for (const c of ready) {
      if (c.record.friendsChanged) for (const id of friendsOf(c)) users.add(id);
      if (c.record.ownChanged) users.add(c.record.userId);
    }
    const probes = ready
      .filter((c) => c.record.statusChanged)
      .flatMap((c) => groupsOf(c).map((groupId) => ({ groupId, userId: c.record.userId })));
    const [targets, groupTargets] = await Promise.all([
      users.size > 0 ? deps.store.connectionsOf([...users]) : new Map<string, TargetConnection[]>(),
      this.groupTargets(probes),
    ]);
    // The lists just loaded are cached while the calls go out, not before: a cache, off the path to the friends.
    const caching =
      loaded.size > 0
        ? deps.store.saveContexts([...loaded.values()]).catch((error: unknown) => {
            deps.log.warn('caching friend lists failed', { users: loaded.size, error: String(error) });
          })
        : undefined;
    const deliveries: Delivery[] = [];
    for (const c of ready) deliveries.push(...this.plan(c, friendsOf(c), targets, groupsOf(c), groupTargets));
    const calls = planCalls(deliveries, this.settings.maxBatchBytes);
    const oldest = ready.reduce((min, c) => Math.min(min, c.record.v), Number.POSITIVE_INFINITY);
    const { outcomes, deferred } = await this.post(endpoint, calls, stats, {}, oldest);
    await caching;
    // Events leave with the change: if publishing fails, the whole change is retried later (same v: duplicates only).
    const failedEvents = new Set<string>();
    const withEvents = ready.filter((c) => c.record.events.length > 0);
    if (withEvents.length > 0) {
      try {
        await deps.events.publish(
          withEvents.flatMap((c) =>
            c.record.events.map((e) => ({
              userId: c.record.userId,
              status: e.status,
              previousStatus: e.previousStatus,
              v: e.v,
              at: e.at,
            })),
          ),
        );
        stats.events += withEvents.reduce((n, c) => n + c.record.events.length, 0);
      } catch (error) {
        deps.log.warn('publishing presence events failed: retried later', { error: String(error) });
        for (const c of withEvents) failedEvents.add(c.record.userId);
      }
    }
    for (const c of ready) {
      const retry = failedEvents.has(c.record.userId);
      acks.push(
        retry
          ? { userId: c.record.userId, v: c.record.v, retryAt: now + this.backoff(1) }
          : { userId: c.record.userId, v: c.record.v },
      );
      if (retry) retryShards.add(deps.outbox.shardOf(c.record.userId));
    }

    // What was not delivered now waits in its target's mailbox (newest per source user), retried by the workers.
    const mail: Delivery[] = [...deferred];
    const gone: Call[] = [];
    calls.forEach((call, i) => {
      const outcome = outcomes[i];
      if (outcome === 'retry') mail.push(...call.deliveries);
      else if (outcome === 'gone') gone.push(call);
    });
    const kept = await this.removeGone(gone, stats);
    mail.push(...kept);
    await this.forgetGroupSubscribers(gone, kept);
    stats.retried += mail.length - deferred.length;
    stats.deferred += deferred.length;
    await deps.outbox.settle(acks, mail, now + this.backoff(0));
    for (const d of mail) retryShards.add(deps.outbox.shardOf(d.ownerId));
    if (retryShards.size > 0) await this.notify([...retryShards], this.settings.retryBaseMs);
    return stats;
  }

  async sendTo(endpoint: string, target: Delivery, delayMs?: number): Promise<void> {
    if (delayMs !== undefined) return this.sendLater(target, delayMs);
    const stats = emptyDeliveryStats();
    const calls = planCalls([target], this.settings.maxBatchBytes);
    const { outcomes, deferred } = await this.post(endpoint, calls, stats, { failOpen: true });
    const mail = outcomes[0] === 'retry' || deferred.length > 0 ? [target] : [];
    if (outcomes[0] === 'gone') mail.push(...(await this.removeGone(calls, stats)));
    if (mail.length > 0) {
      await this.deps.outbox.settle([], mail, this.deps.clock() + this.settings.retryBaseMs);
      await this.notify([this.deps.outbox.shardOf(target.ownerId)], this.settings.retryBaseMs);
    }
  }

  async close(
    endpoint: string,
    targets: readonly {
      readonly ownerId: string;
      readonly connectionId: string;
      readonly notice?: Record<string, unknown>;
    }[],
  ): Promise<number> {
    if (targets.length === 0) return 0;
    const notices = targets.flatMap((t) => (t.notice ? [directMessage(t.ownerId, t.connectionId, t.notice)] : []));

    // A last word before the socket closes: best effort, it is not retried once the connection is gone.
    if (notices.length > 0)
      await this.post(endpoint, planCalls(notices, this.settings.maxBatchBytes), emptyDeliveryStats());
    let pending = targets.map((t) => t.connectionId);
    let failures = 0;
    for (let attempt = 0; pending.length > 0 && attempt < CLOSE_ATTEMPTS; attempt += 1) {
      const { granted, retryInMs } = await this.deps.cap.acquire(pending.length);
      if (granted < pending.length) this.metrics.capWaited(pending.length - granted);
      const now = pending.slice(0, granted);
      pending = pending.slice(granted);
      const results = await mapSettled(now, this.settings.concurrency, (id) => this.deps.gateway.close(endpoint, id));
      failures += results.filter((r) => r.status === 'rejected').length;
      if (pending.length > 0 && granted === 0) await sleep(Math.max(retryInMs, 10));
    }
    return failures + pending.length;
  }

  /** Stores a message for a connection to be delivered by the workers after `delayMs` (e.g. after `$connect`). */
  private async sendLater(target: Delivery, delayMs: number): Promise<void> {
    await this.deps.outbox.settle([], [target], this.deps.clock() + delayMs);
    await this.notify([this.deps.outbox.shardOf(target.ownerId)], delayMs);
  }

  async drain(
    endpoint: string,
    shards: readonly number[],
    deadline: number,
    lists?: ListsAhead,
  ): Promise<DeliveryStats> {
    const stats = emptyDeliveryStats();
    let failure: unknown;
    try {
      await this.drainOutboxes(endpoint, shards, deadline, stats, lists);
    } catch (error) {
      failure = error;
    }
    // Mailboxes are per target connection already (a box holds what every source left for it): one shard at a time.
    const mail = await mapSettled(shards, SHARDS_AT_ONCE, (shard) => this.drainMail(endpoint, shard, deadline, stats));
    const failed = mail.find((r) => r.status === 'rejected');
    if (failure === undefined && failed) failure = failed.reason;
    if (failure !== undefined) throw failure;
    return stats;
  }

  /**
   * Delivers the due outbox entries of `shards` until none is left or `deadline` passes. Each step claims from every
   * shard still holding entries (up to `planLimit` entries in all) and delivers them as one plan, so a connection that
   * is a friend of several changed users in different shards (a mass expiry, a sweep pass) gets one `presence-batch`
   * call instead of one call per shard. A shard whose claim fails is left for the next drain (nothing was claimed);
   * the others go on and the first error is thrown at the end.
   */
  async drainOutboxes(
    endpoint: string,
    shards: readonly number[],
    deadline: number,
    stats = emptyDeliveryStats(),
    lists?: ListsAhead,
  ): Promise<DeliveryStats> {
    const { deps, settings } = this;
    const planLimit = settings.planLimit ?? settings.claimLimit;
    let open = [...shards];
    let failure: unknown;
    while (open.length > 0 && deps.clock() < deadline) {
      const limit = Math.max(1, Math.min(settings.claimLimit, Math.floor(planLimit / open.length)));
      const now = deps.clock();
      const claims = await mapSettled(open, SHARDS_AT_ONCE, (shard) =>
        deps.outbox.claimOutbox(shard, now, settings.leaseMs, limit),
      );
      const changes: PendingChange[] = [];
      const more: number[] = [];
      claims.forEach((claim, i) => {
        if (claim.status === 'rejected') {
          failure ??= claim.reason;
          return;
        }
        for (const change of claim.value) changes.push(change);
        if (claim.value.length >= limit) more.push(open[i] as number);
      });
      if (changes.length > 0) await this.deliverChanges(endpoint, changes, stats, lists);
      open = more;
    }
    if (failure !== undefined) throw failure;
    return stats;
  }

  /** Delivers due mailboxes of one shard until none is left or `deadline` passes. */
  async drainMail(
    endpoint: string,
    shard: number,
    deadline: number,
    stats = emptyDeliveryStats(),
  ): Promise<DeliveryStats> {
    const { deps } = this;
    while (deps.clock() < deadline) {
      const boxes = await deps.outbox.claimMail(shard, deps.clock(), this.settings.leaseMs, this.settings.claimLimit);
      if (boxes.length === 0) break;
      const deliveries: Delivery[] = boxes.flatMap((box) =>
        box.items.map((item) => ({
          ownerId: box.ownerId,
          connectionId: box.connectionId,
          connectedAt: box.connectedAt,
          batch: box.batch,
          fromUserId: item.fromUserId,
          v: item.v,
          message: item.message,
        })),
      );
      const calls = planCalls(deliveries, this.settings.maxBatchBytes);
      // direct messages (errors, replies) carry no version: the lag is of presence changes only
      const oldest = deliveries.reduce((min, d) => (d.v > 0 ? Math.min(min, d.v) : min), Number.POSITIVE_INFINITY);
      const { outcomes } = await this.post(endpoint, calls, stats, {}, oldest);
      const byConnection = new Map<string, { sent: [string, number][]; retry: boolean; gone: boolean }>();
      const goneCalls: Call[] = [];
      calls.forEach((call, i) => {
        const entry = byConnection.get(call.connectionId) ?? { sent: [], retry: false, gone: false };
        const outcome = outcomes[i];
        if (outcome === 'sent') entry.sent.push(...call.deliveries.map((d): [string, number] => [d.fromUserId, d.v]));
        else if (outcome === 'gone') {
          entry.gone = true;
          goneCalls.push(call);
        } else entry.retry = true;
        byConnection.set(call.connectionId, entry);
      });
      const kept = new Set((await this.removeGone(goneCalls, stats)).map((d) => d.connectionId));
      const now = deps.clock();
      const results: (MailResult & { ownerId: string })[] = boxes.map((box) => {
        const entry = byConnection.get(box.connectionId) ?? { sent: [], retry: true, gone: false };
        if (entry.gone && !kept.has(box.connectionId)) {
          return { connectionId: box.connectionId, ownerId: box.ownerId, outcome: 'gone', delivered: [] };
        }
        const retry = entry.retry || kept.has(box.connectionId);
        if (retry) stats.retried += 1;
        return {
          connectionId: box.connectionId,
          ownerId: box.ownerId,
          outcome: retry ? 'retry' : 'sent',
          retryAt: now + this.backoff(box.attempts),
          delivered: entry.sent,
        };
      });
      await deps.outbox.ackMail(results);
      if (boxes.length < this.settings.claimLimit) break;
    }
    return stats;
  }

  /**
   * Subscribers of the groups of users who changed. A group that has subscribers but is not cached is loaded from the
   * directory (one query for all of them, once per FRIEND_CACHE_SECONDS) and probed again; if the directory is down,
   * those groups are skipped for this change (their members' next change reaches them).
   */
  private async groupTargets(probes: readonly { groupId: string; userId: string }[]): Promise<GroupTargets> {
    const result: GroupTargets = new Map();
    if (probes.length === 0) return result;
    const { store, directory } = this.deps.groups;
    const first = await store.subscribersOf(probes);
    const again = probes.filter((_, i) => first[i] === 'need-group');
    probes.forEach((p, i) => {
      const found = first[i];
      if (found && found !== 'need-group') result.set(probeKey(p.groupId, p.userId), found);
    });
    if (again.length === 0) return result;
    const missing = [...new Set(again.map((p) => p.groupId))];
    try {
      const loaded = await directory.loadGroups(missing);
      await store.saveGroups(
        [...loaded.values()],
        missing.filter((id) => !loaded.has(id)),
      );
    } catch (error) {
      this.deps.log.warn('groups unavailable: group subscribers not told', {
        groups: missing.length,
        error: String(error),
      });
      return result;
    }
    const second = await store.subscribersOf(again);
    again.forEach((p, i) => {
      const found = second[i];
      if (found && found !== 'need-group') result.set(probeKey(p.groupId, p.userId), found);
    });
    return result;
  }

  /** Connections found gone (410) leave the subscriber indexes of the groups they were reached through. */
  private async forgetGroupSubscribers(gone: readonly Call[], kept: readonly Delivery[]): Promise<void> {
    const protectedIds = new Set(kept.map((d) => d.connectionId));
    const entries = new Map<string, { groupId: string; connectionId: string }>();
    for (const call of gone) {
      if (protectedIds.has(call.connectionId)) continue;
      for (const d of call.deliveries) {
        if (d.via !== undefined)
          entries.set(probeKey(d.via, d.connectionId), { groupId: d.via, connectionId: d.connectionId });
      }
    }
    if (entries.size === 0) return;
    await this.deps.groups.store.forget([...entries.values()]).catch((error: unknown) => {
      // Stale entries are harmless: the next delivery through them finds the connection gone again.
      this.deps.log.warn('forgetting gone group subscribers failed', { error: String(error) });
    });
  }

  /** The messages of one change for every interested connection. */
  private plan(
    change: PendingChange,
    friendIds: readonly string[],
    targets: Map<string, TargetConnection[]>,
    groupIds: readonly string[] = [],
    groupTargets: GroupTargets = new Map(),
  ): Delivery[] {
    const { record } = change;
    const out: Delivery[] = [];
    const add = (ownerId: string, t: TargetConnection, message: Record<string, unknown>) => {
      // A status-detail connection hears only of status, message and online-state changes.
      if (t.detail === 'status' && !record.statusChanged) return;
      out.push({
        ownerId,
        connectionId: t.connectionId,
        connectedAt: t.connectedAt,
        batch: t.batch,
        fromUserId: record.userId,
        v: record.v,
        message,
      });
    };
    if (record.friendsChanged) {
      const message = messageForChange(record, 'friend');
      for (const friendId of friendIds) for (const t of targets.get(friendId) ?? []) add(friendId, t, message);
    }
    if (record.ownChanged) {
      const message = messageForChange(record, 'own');
      for (const t of targets.get(record.userId) ?? [])
        if (t.connectionId !== record.actor) add(record.userId, t, message);
    }
    if (record.statusChanged && groupIds.length > 0) {
      // Group members who are not friends (friends are told above, at their connection's detail) hear status-level
      // changes only, without page or activity; a connection following several groups of the user hears it once.
      const friends = new Set(friendIds);
      const told = new Set<string>();
      const message = messageForChange(record, 'member');
      for (const groupId of groupIds) {
        for (const s of groupTargets.get(probeKey(groupId, record.userId)) ?? []) {
          if (s.ownerId === record.userId || friends.has(s.ownerId) || told.has(s.connectionId)) continue;
          told.add(s.connectionId);
          out.push({
            ownerId: s.ownerId,
            connectionId: s.connectionId,
            connectedAt: s.connectedAt,
            batch: s.batch,
            fromUserId: record.userId,
            v: record.v,
            message,
            via: groupId,
          });
        }
      }
    }
    return out;
  }

  private get metrics(): DeliveryMetrics {
    return this.deps.metrics ?? NO_METRICS;
  }

  /**
   * Posts calls under the rate cap; calls without a permit are returned as deferred deliveries. `oldestChange` (the
   * version, i.e. Redis clock, of the oldest change posted) gives the delivery lag reported with the outcome.
   */
  private async post(
    endpoint: string,
    calls: readonly Call[],
    stats: DeliveryStats,
    options: { failOpen?: boolean } = {},
    oldestChange = Number.POSITIVE_INFINITY,
  ): Promise<{ outcomes: CallOutcome[]; deferred: Delivery[] }> {
    const outcomes: CallOutcome[] = new Array(calls.length).fill('retry');
    if (calls.length === 0) return { outcomes, deferred: [] };
    let permits: number;
    try {
      permits = (await this.deps.cap.acquire(calls.length)).granted;
      if (permits < calls.length) permits += (await this.deps.cap.acquire(calls.length - permits)).granted;
    } catch (error) {
      // The cap lives in Redis. A single reply to a sender (telling it Redis is unavailable) still goes out: while
      // Redis is down nothing else is sent, so the deployment stays far below the cap.
      if (!options.failOpen) throw error;
      permits = calls.length;
    }
    const allowed = calls.slice(0, permits);
    const deferred = calls.slice(permits).flatMap((c) => c.deliveries);
    if (permits < calls.length) this.metrics.capWaited(calls.length - permits);
    let throttled = false;
    let sent = 0;
    let failed = 0;
    await mapSettled(allowed, this.settings.concurrency, async (call, i) => {
      stats.calls += 1;
      const result = await this.deps.gateway.post(endpoint, call.connectionId, call.body);
      if (result === 'sent') {
        stats.sent += 1;
        sent += 1;
        outcomes[i] = 'sent';
      } else if (result === 'gone') {
        // API Gateway answers 410 until $connect has returned: a young connection is retried, not removed.
        const young = this.deps.clock() - call.connectedAt < this.settings.connectWindowMs;
        outcomes[i] = young ? 'retry' : 'gone';
      } else {
        if (result === 'throttled') throttled = true;
        failed += 1;
        outcomes[i] = 'retry';
      }
    });
    const lag = sent > 0 && Number.isFinite(oldestChange) ? Math.max(0, this.deps.clock() - oldestChange) : undefined;
    if (sent > 0 || failed > 0) this.metrics.delivered(sent, failed, lag);
    if (throttled) await this.deps.cap.throttled().catch(() => undefined);
    return { outcomes, deferred };
  }

  /** Removes connections that are gone (410) from their owners; returns deliveries to keep for the protected ones. */
  private async removeGone(calls: readonly Call[], stats: DeliveryStats): Promise<Delivery[]> {
    if (calls.length === 0) return [];
    const now = this.deps.clock();
    const keep: Delivery[] = [];
    const shards = new Set<number>();
    const results = await mapSettled(calls, this.settings.concurrency, (call) =>
      this.deps.store.remove({
        userId: call.ownerId,
        connectionId: call.connectionId,
        now,
        protectMs: this.settings.connectWindowMs,
        deliverInline: false,
      }),
    );
    results.forEach((result, i) => {
      const call = calls[i] as Call;
      if (result.status === 'fulfilled' && result.value.kind !== 'protected') {
        stats.gone += 1;
        if (result.value.kind === 'removed' && result.value.change) shards.add(this.deps.outbox.shardOf(call.ownerId));
      } else {
        if (result.status === 'rejected')
          this.deps.log.warn('removing a gone connection failed', { error: String(result.reason) });
        keep.push(...call.deliveries);
      }
    });
    if (shards.size > 0) await this.notify([...shards], 0);
    return keep;
  }

  private async notify(shards: number[], delayMs: number): Promise<void> {
    await this.deps.queue.notify(shards, delayMs).catch((error: unknown) => {
      // The sweep picks the work up anyway: the queue only makes it faster.
      this.deps.log.warn('work queue notification failed', { error: String(error) });
    });
  }
}
