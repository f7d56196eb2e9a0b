// The scale-out bench: a mass expiry (N expired connections, F online friends each) reaped and delivered by 1, 2 and 4
// concurrent workers, each taking its share of the shards as the work queue hands them out in AWS. Real Redis, real
// Postgres, the real sweep and delivery module; the gateway counts posts in memory (2 million HTTP calls through the
// stand-in API would measure the stand-in): the time the store and domain side need, and the lag they add.
import type { ConnectionsApi } from './support/connections-api';
import { cpuSeconds } from './support/process-stats';
import { removeLeftovers, seedExpiredConnections, POOL_PREFIX } from './support/seed';
import type { BenchStores } from './support/stores';
import { seedUsersWithPoolFriends } from './support/stores';
import { runWorker } from './sweep';

/** AWS's account-wide limit of @connections calls (POST, DELETE, GET) per second, shared by every API of the account. */
export const AWS_CONNECTIONS_CALLS_PER_SECOND = 10_000;

/** Time the worker processes get to load and connect before the common start. */
const WARM_UP_MS = 10_000;

/** One scale-out figure: `workers` processes over one mass expiry. */
export interface ScaleOutFigure {
  readonly workers: number;
  readonly expired: number;
  readonly friendsEach: number;
  /** From the start of the workers until the last zombie socket was closed (every connection reaped). */
  readonly reapedMs: number;
  /** Until the last notification was handed to the gateway. */
  readonly deliveredMs: number;
  readonly reaped: number;
  readonly notifications: number;
  /** Notification lag from the start (every connection was already expired then): p50 and p99. */
  readonly lagP50Ms: number;
  readonly lagP99Ms: number;
  readonly notificationsPerSecond: number;
  readonly perWorkerNotificationsPerSecond: number;
  /** CPU seconds: all workers together, and Redis. */
  readonly cpu: { readonly workers: number; readonly redis: number | null };
  /** Process CPU per expired connection (µs), workers and Redis. */
  readonly cpuPerConnectionUs: { readonly workers: number; readonly redis: number | null };
  /** The same work in AWS at the account-wide @connections limit (posts + deletes at 10,000/s), in seconds. */
  readonly projectedAwsSeconds: number;
  /** Warnings and errors the workers logged, grouped (a store timeout under load leaves its shard for a later pass). */
  readonly problems: { message: string; count: number }[];
  /** The workers' SweepStats, summed. */
  readonly stats: Record<string, number>;
}

function percentile(buckets: Map<number, number>, total: number, q: number): number {
  let seen = 0;
  for (const [at, count] of [...buckets].sort((a, b) => a[0] - b[0])) {
    seen += count;
    if (seen >= q * total) return at + 5;
  }
  return 0;
}

/** Seeds one mass expiry per worker count and runs that many workers over it at once. */
export async function benchScaleOut(
  stores: BenchStores,
  _api: ConnectionsApi,
  expired: number,
  friendsEach: number,
  poolSize: number,
  workerCounts: readonly number[],
): Promise<ScaleOutFigure[]> {
  const figures: ScaleOutFigure[] = [];
  for (const workers of workerCounts) {
    const prefix = `w${workers}n${expired}`;
    await seedUsersWithPoolFriends(stores.pool, prefix, expired, POOL_PREFIX, poolSize, friendsEach);
    await seedExpiredConnections(stores, prefix, expired);
    const redisCpu0 = cpuSeconds(stores.redisPid);
    // Workers load and connect first, then all start at this instant.
    const start = Date.now() + WARM_UP_MS;
    const runs = await Promise.all(
      Array.from({ length: workers }, (_, i) =>
        runWorker(
          {
            ...process.env,
            BENCH_SWEEP_GATEWAY: 'memory',
            BENCH_SHARDS: `${i}/${workers}`,
            BENCH_START_MS: String(start),
            SWEEP_WINDOW_SECONDS: '0',
            POWERTOOLS_LOG_LEVEL: 'WARN',
          },
          [],
        ),
      ),
    );
    const redisCpu1 = cpuSeconds(stores.redisPid);
    const reports = runs.map((r) => r.report);
    const reaped = reports.reduce((sum, r) => sum + (r.stats.reaped ?? 0), 0);
    if (reaped < expired) await removeLeftovers(stores, prefix, expired);
    const buckets = new Map<number, number>();
    for (const r of reports)
      for (const [at, count] of Object.entries(r.lagBuckets ?? {}))
        buckets.set(Number(at), (buckets.get(Number(at)) ?? 0) + count);
    const notifications = reports.reduce((sum, r) => sum + r.gatewayPosts, 0);
    const deletes = reports.reduce((sum, r) => sum + r.gatewayCloses, 0);
    const deliveredMs = Math.max(...reports.map((r) => r.lastPostMs ?? 0));
    const workerCpu = reports.reduce((sum, r) => sum + r.cpuSeconds, 0);
    const redisCpu = redisCpu0 !== null && redisCpu1 !== null ? redisCpu1 - redisCpu0 : null;
    figures.push({
      workers,
      expired,
      friendsEach,
      reapedMs: Math.max(...reports.map((r) => r.lastCloseMs ?? 0)),
      deliveredMs,
      reaped,
      notifications,
      lagP50Ms: percentile(buckets, notifications, 0.5),
      lagP99Ms: percentile(buckets, notifications, 0.99),
      notificationsPerSecond: notifications / (deliveredMs / 1000),
      perWorkerNotificationsPerSecond: notifications / (deliveredMs / 1000) / workers,
      cpu: { workers: workerCpu, redis: redisCpu },
      cpuPerConnectionUs: {
        workers: (workerCpu / Math.max(1, reaped)) * 1e6,
        redis: redisCpu === null ? null : (redisCpu / Math.max(1, reaped)) * 1e6,
      },
      projectedAwsSeconds: (notifications + deletes) / AWS_CONNECTIONS_CALLS_PER_SECOND,
      problems: runs.flatMap((r) => r.problems).slice(0, 6),
      stats: reports.reduce<Record<string, number>>((sum, r) => {
        for (const [k, v] of Object.entries(r.stats)) sum[k] = (sum[k] ?? 0) + v;
        return sum;
      }, {}),
    });
  }
  return figures;
}
