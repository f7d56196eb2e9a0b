// Use case: the sweep, source of truth for liveness. Reaps expired connections, ends grace windows, notifies, closes zombies.
import { createLimiter, mapSettled, sleep } from '../shared/async';
import type { UserContext } from './model';
import type { PresenceDeps } from './ports';
import { announce } from './announce';

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
  sent: number;
  gone: number;
  failed: number;
  closeFailures: number;
  shardErrors: number;
}

/** An empty {@link SweepStats}. */
export function emptySweepStats(): SweepStats {
  return { passes: 0, claimed: 0, reaped: 0, changes: 0, sent: 0, gone: 0, failed: 0, closeFailures: 0, shardErrors: 0 };
}

type Limiter = ReturnType<typeof createLimiter>;

/** Users per friend lookup query in the sweep. */
const DIRECTORY_CHUNK = 100;

async function sweepShard(
  deps: PresenceDeps,
  shard: number,
  options: SweepOptions,
  stats: SweepStats,
  directorySlot: Limiter,
): Promise<void> {
  for (;;) {
    const now = deps.clock();
    const claim = await deps.store.claim(shard, now, options.leaseMs, options.batchSize);
    if (claim.members.length === 0) return;
    stats.claimed += claim.members.length;
    // Friends of the whole batch in one query, before anything changes: if Postgres fails, the lease lapses and a
    // later pass retries, so no user is lost.
    const loaded: UserContext[] = [];
    for (let i = 0; i < claim.missingContexts.length; i += DIRECTORY_CHUNK) {
      // Chunks keep each query well inside STORE_TIMEOUT_MS however large the claimed batch is.
      const chunk = claim.missingContexts.slice(i, i + DIRECTORY_CHUNK);
      loaded.push(...(await directorySlot(() => deps.directory.loadContexts(chunk))).values());
    }
    const commit = await deps.store.commit(claim, now, loaded);
    stats.reaped += commit.reaped.length;
    stats.changes += commit.changes.length;
    const [announced, closed] = await Promise.all([
      announce(deps, options.endpoint, commit.changes),
      mapSettled(commit.reaped, deps.fanoutConcurrency, (r) => deps.gateway.close(options.endpoint, r.connectionId)),
    ]);
    stats.sent += announced.sent;
    stats.gone += announced.gone;
    stats.failed += announced.failed;
    stats.closeFailures += closed.filter((r) => r.status === 'rejected').length;
    if (claim.members.length < options.batchSize) return;
  }
}

/** One pass over every shard. A failing shard is logged and retried by the next pass; it never stops the others. */
export async function sweepOnce(deps: PresenceDeps, options: SweepOptions, stats = emptySweepStats()): Promise<SweepStats> {
  const shards = Array.from({ length: deps.store.shardCount }, (_, i) => i);
  const directorySlot = createLimiter(options.directoryConcurrency ?? 2);
  const results = await mapSettled(shards, options.shardConcurrency, (shard) =>
    sweepShard(deps, shard, options, stats, directorySlot),
  );
  results.forEach((result, shard) => {
    if (result.status === 'rejected') {
      stats.shardErrors += 1;
      const reason = result.reason as { dependency?: string; cause?: unknown };
      deps.log.error('sweep of a shard failed', {
        shard,
        error: String(result.reason),
        ...(reason.dependency ? { dependency: reason.dependency } : {}),
        ...(reason.cause ? { cause: String(reason.cause) } : {}),
      });
    }
  });
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

/** Runs passes `intervalMs` apart for `windowMs`, so a once-a-minute schedule detects dead connections within seconds. */
export async function runSweep(deps: PresenceDeps, options: SweepOptions, window: SweepWindow): Promise<SweepStats> {
  const stats = emptySweepStats();
  const start = Date.now();
  const safety = window.safetyMs ?? 5000;
  for (;;) {
    await sweepOnce(deps, options, stats);
    const nextAt = start + stats.passes * window.intervalMs;
    const wait = nextAt - Date.now();
    if (nextAt - start >= window.windowMs) return stats;
    if (window.remainingMs() - Math.max(0, wait) < safety) return stats;
    if (wait > 0) await sleep(wait);
  }
}
