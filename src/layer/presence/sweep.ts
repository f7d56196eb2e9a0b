// Use case: the sweep, source of truth for liveness and the complete recovery path of delivery. Per shard: reaps
// expired connections (never waiting for Postgres), re-applies changed page settings, delivers what is due.
import { createLimiter, mapSettled, sleep } from '../shared/async';
import type { UserContext } from './model';
import type { PresenceDeps } from './ports';
import { TOKEN_EXPIRED_MESSAGE } from './messages';

/** Tuning of one sweep pass. */
export interface SweepOptions {
  /** `@connections` base URL. */
  readonly endpoint: string;
  /** How long a claim stays ours before another sweep may take it over. */
  readonly leaseMs: number;
  /** Entries claimed per shard per step. */
  readonly batchSize: number;
  /** Shards processed at once. */
  readonly shardConcurrency: number;
  /** Friend lookups in flight at once (at most the Postgres pool size, so none waits for a connection). */
  readonly directoryConcurrency?: number;
}

/** What a sweep did. */
export interface SweepStats {
  passes: number;
  claimed: number;
  reaped: number;
  changes: number;
  rechecked: number;
  calls: number;
  sent: number;
  gone: number;
  retried: number;
  closeFailures: number;
  shardErrors: number;
}

/** An empty {@link SweepStats}. */
export function emptySweepStats(): SweepStats {
  return {
    passes: 0,
    claimed: 0,
    reaped: 0,
    changes: 0,
    rechecked: 0,
    calls: 0,
    sent: 0,
    gone: 0,
    retried: 0,
    closeFailures: 0,
    shardErrors: 0,
  };
}

/** Users per friend lookup query. */
const DIRECTORY_CHUNK = 100;

/** Users per friend-list query started while reaping (a query for a few hundred users takes Postgres tens of ms). */
const LISTS_AHEAD_CHUNK = 200;
/**
 * Users whose lists one pass loads ahead: the size of the first delivery plan. A mass expiry beyond it loads the rest
 * as it delivers; loading more ahead would only queue queries behind each other and hold the lists in memory.
 */
const LISTS_AHEAD_MAX = 5000;

/**
 * What reaping leaves running while the pass goes on: the closes of zombie sockets (they need only @connections), and
 * the friend lists of users whose change will need one (only Postgres, at most `directoryConcurrency` queries at once).
 * Delivery then finds the lists loaded, or loading, instead of starting to load them once reaping is over.
 */
class ReapingWork {
  readonly closing: Promise<void>[] = [];
  /** Per user, the load that includes them (null if it failed); every user added is in it once {@link flush} ran. */
  readonly lists = new Map<string, Promise<ReadonlyMap<string, UserContext> | null>>();
  private readonly pending = new Set<string>();
  private readonly limit: ReturnType<typeof createLimiter>;

  constructor(
    private readonly deps: PresenceDeps,
    concurrency: number,
  ) {
    this.limit = createLimiter(concurrency);
  }

  /** Starts loading the friend lists of `userIds`, in queries of {@link LISTS_AHEAD_CHUNK} users. */
  loadLists(userIds: readonly string[]): void {
    for (const id of userIds) {
      if (this.lists.size + this.pending.size >= LISTS_AHEAD_MAX) return;
      if (!this.lists.has(id)) this.pending.add(id);
      if (this.pending.size >= LISTS_AHEAD_CHUNK) this.flush();
    }
  }

  /** Queues the query for the users added since the last one. */
  flush(): void {
    if (this.pending.size === 0) return;
    const ids = [...this.pending];
    this.pending.clear();
    const loading = this.limit(() => this.deps.directory.loadContexts(ids)).catch((error: unknown) => {
      this.deps.log.warn('friend lists unavailable: deliveries wait', { users: ids.length, error: String(error) });
      return null;
    });
    for (const id of ids) this.lists.set(id, loading);
  }
}

/** Reaps the shard's due entries: needs Redis and @connections only (never Postgres). */
async function reapShard(
  deps: PresenceDeps,
  shard: number,
  options: SweepOptions,
  stats: SweepStats,
  deadline: number,
  work: ReapingWork,
) {
  while (deps.clock() < deadline) {
    const now = deps.clock();
    const claim = await deps.store.claim(shard, now, options.leaseMs, options.batchSize);
    if (claim.members.length === 0) return;
    stats.claimed += claim.members.length;
    const commit = await deps.store.commit(claim, now);
    stats.reaped += commit.reaped.length;
    stats.changes += commit.changedUsers.length;
    work.loadLists(commit.uncachedUsers);
    // Zombie sockets are closed under the deployment-wide rate cap (a token_expired notice first where it applies),
    // while the pass goes on: reaping the next shards and planning what friends are told need only Redis and
    // Postgres, and the closes need only @connections. The pass waits for them before it ends.
    const targets = commit.reaped.map((r) => ({
      ownerId: r.userId,
      connectionId: r.connectionId,
      ...(r.reason === 'token' ? { notice: TOKEN_EXPIRED_MESSAGE } : {}),
    }));
    if (targets.length > 0)
      work.closing.push(
        deps.deliverer.close(options.endpoint, targets).then(
          (failures) => {
            stats.closeFailures += failures;
          },
          (error: unknown) => {
            stats.closeFailures += targets.length;
            logFailure(deps, 'closing reaped connections failed', error, { shard, connections: targets.length });
          },
        ),
      );
    if (claim.members.length < options.batchSize) return;
  }
}

/** Re-applies page settings of users whose cached settings are due (needs Postgres; on failure the lease lapses). */
async function recheckShard(
  deps: PresenceDeps,
  shard: number,
  options: SweepOptions,
  stats: SweepStats,
  deadline: number,
) {
  while (deps.clock() < deadline) {
    const users = await deps.store.claimRechecks(shard, deps.clock(), options.leaseMs, DIRECTORY_CHUNK);
    if (users.length === 0) return;
    const contexts: Map<string, UserContext> = await deps.directory.loadContexts(users);
    const now = deps.clock();
    await mapSettled(users, 8, async (userId) => {
      const context = contexts.get(userId);
      if (context) await deps.store.recheck(userId, now, context);
    });
    stats.rechecked += users.length;
    if (users.length < DIRECTORY_CHUNK) return;
  }
}

/** Page settings re-applied in one shard; on failure (Postgres or the proxy down) they are re-applied on a later pass. */
async function recheckSettled(
  deps: PresenceDeps,
  shard: number,
  options: SweepOptions,
  stats: SweepStats,
  deadline: number,
) {
  try {
    await recheckShard(deps, shard, options, stats, deadline);
  } catch (error) {
    deps.log.warn('re-applying page settings failed; retried later', { shard, error: String(error) });
  }
}

function logFailure(deps: PresenceDeps, message: string, error: unknown, fields: Record<string, unknown>) {
  const reason = error as { dependency?: string; cause?: unknown };
  deps.log.error(message, {
    ...fields,
    error: String(error),
    ...(reason.dependency ? { dependency: reason.dependency } : {}),
    ...(reason.cause ? { cause: String(reason.cause) } : {}),
  });
}

/**
 * One pass over `shards` (all of them by default) until `deadline`. A failing shard is logged and retried by the next
 * pass; it never stops the others.
 */
export async function sweepOnce(
  deps: PresenceDeps,
  options: SweepOptions,
  stats = emptySweepStats(),
  deadline = Number.POSITIVE_INFINITY,
  shards: readonly number[] = Array.from({ length: deps.store.shardCount }, (_, i) => i),
): Promise<SweepStats> {
  // Reaping first, on every shard, then delivery: a mass expiry is reaped (and its zombie sockets closed) in the time
  // Redis needs, not after the notifications of the shards before it; what friends are told waits in the outbox.
  const work = new ReapingWork(deps, options.directoryConcurrency ?? 2);
  const reaping = await mapSettled(shards, options.shardConcurrency, (shard) =>
    reapShard(deps, shard, options, stats, deadline, work),
  );
  work.flush();
  reaping.forEach((result, i) => {
    if (result.status === 'rejected') {
      stats.shardErrors += 1;
      logFailure(deps, 'sweep of a shard failed', result.reason, { shard: shards[i] });
    }
  });
  await mapSettled(shards, options.shardConcurrency, (shard) => recheckSettled(deps, shard, options, stats, deadline));
  // The outboxes of all the pass's shards are planned together: a friend of many users who changed in this pass (a
  // mass expiry) gets one batch, not one call per shard. A shard that cannot be drained is left for the next pass.
  try {
    const delivered = await deps.deliverer.drain(options.endpoint, shards, deadline, work.lists);
    stats.calls += delivered.calls;
    stats.sent += delivered.sent;
    stats.gone += delivered.gone;
    stats.retried += delivered.retried;
  } catch (error) {
    stats.shardErrors += 1;
    logFailure(deps, 'delivery of a sweep pass failed', error, { shards: shards.length });
  }
  await Promise.all(work.closing);
  stats.passes += 1;
  return stats;
}

/** Timing of {@link runSweep}. */
export interface SweepWindow {
  /** Keep sweeping this long (0: exactly one pass). */
  readonly windowMs: number;
  /** Time between pass starts. */
  readonly intervalMs: number;
  /** Time left before the host (Lambda) stops us. */
  readonly remainingMs: () => number;
  /** Stop this long before the host's deadline. */
  readonly safetyMs?: number;
}

/**
 * Runs passes `intervalMs` apart for `windowMs`, so a once-a-minute schedule detects dead connections within seconds.
 * `pass` runs one pass (in-process, or handed to the queue workers) and never runs past `deadline`.
 */
export async function runSweep(window: SweepWindow, pass: (deadline: number) => Promise<void>): Promise<number> {
  const start = Date.now();
  const safety = window.safetyMs ?? 5000;
  let passes = 0;
  for (;;) {
    const hostDeadline = Date.now() + window.remainingMs() - safety;
    await pass(Math.min(hostDeadline, start + Math.max(window.windowMs, window.intervalMs)));
    passes += 1;
    const nextAt = start + passes * window.intervalMs;
    const wait = nextAt - Date.now();
    if (nextAt - start >= window.windowMs) return passes;
    if (window.remainingMs() - Math.max(0, wait) < safety) return passes;
    if (wait > 0) await sleep(wait);
  }
}

/** The sweep's tuning from the configuration. */
export function sweepOptions(
  config: { sweepBatchSize: number; databasePoolMax: number },
  endpoint: string,
): SweepOptions {
  return {
    endpoint,
    leaseMs: 30_000,
    batchSize: config.sweepBatchSize,
    shardConcurrency: 16,
    directoryConcurrency: config.databasePoolMax,
  };
}
