// Child process of the sweep bench: one pass of the real `timeout` handler in a fresh process; prints its figures.
import './support/preload';
import type { ConnectionGateway, PostOutcome } from '@presence/layer';
import { getRuntime, shutdownRuntime, sweepOnce } from '@presence/layer';
import { handler } from '../src/functions/timeout/handler';
import { DeliveryService } from '../src/layer/delivery/deliverer';
import { RedisDeliveryStore } from '../src/layer/adapters/redis/delivery-store';
import { RedisRateCap } from '../src/layer/adapters/redis/rate-cap';
import { NO_EVENTS } from '../src/layer/adapters/eventbridge/event-publisher';
import { NO_QUEUE } from '../src/layer/adapters/sqs/work-queue';
import { elapsedMs } from './support/stats';
import { WARMUP_CONNECTION_ID } from './support/connections-api';
import { MEASURED_PASS_MARK } from './support/sweep-handshake';

/** What the worker reports (one JSON line on stdout). */
export interface SweepWorkerReport {
  readonly wallMs: number;
  readonly stats: Record<string, number>;
  readonly redisRoundTrips: number;
  readonly postgresQueries: number;
  readonly posts: number;
  readonly rssBeforeMb: number;
  readonly peakRssMb: number;
  readonly peakHeapMb: number;
  readonly cpuSeconds: number;
  /** Sender threads of the @connections gateway (CONNECTIONS_THREADS, resolved). */
  readonly senderThreads: number;
  /** Posts and closes handed to the gateway (the in-memory one counts them itself). */
  readonly gatewayPosts: number;
  readonly gatewayCloses: number;
  /**
   * In-memory gateway only: posts per 10 ms bucket since BENCH_START_MS (the delivery lag of a mass expiry, every
   * connection being expired at the start), and the offsets of the last close (reaping done) and the last post.
   */
  readonly lagBuckets?: Record<string, number>;
  readonly lastCloseMs?: number;
  readonly lastPostMs?: number;
  /** BENCH_WARM_PASS=1: connections the warm-up pass reaped (before the measured pass). */
  readonly warmReaped?: number;
}

/** How many scale-out workers run at once (BENCH_SHARDS=`i/n`), 1 otherwise. */
const WORKERS = Number(/^\d+\/(\d+)$/.exec(process.env.BENCH_SHARDS ?? '')?.[1] ?? 1);

/** Epoch ms the scale-out bench started its workers (lags are measured from there). */
const START_MS = Number(process.env.BENCH_START_MS ?? Date.now());

/** BENCH_SHARDS=`i/n`: this worker's share of the shards (as the work queue spreads them over workers); else all. */
function myShards(count: number): number[] | undefined {
  const match = /^(\d+)\/(\d+)$/.exec(process.env.BENCH_SHARDS ?? '');
  if (!match) return undefined;
  const [i, n] = [Number(match[1]), Number(match[2])];
  return Array.from({ length: count }, (_, s) => s).filter((s) => s % n === i);
}

/** A gateway that costs nothing: isolates the store and domain side of the sweep from the @connections HTTP calls. */
class CountingGateway implements ConnectionGateway {
  posts = 0;
  closes = 0;
  readonly lagBuckets: Record<string, number> = {};
  lastCloseMs = 0;
  lastPostMs = 0;

  async post(): Promise<PostOutcome> {
    this.posts += 1;
    const at = Date.now() - START_MS;
    const bucket = String(Math.floor(at / 10) * 10);
    this.lagBuckets[bucket] = (this.lagBuckets[bucket] ?? 0) + 1;
    this.lastPostMs = at;
    return 'sent';
  }

  async close(): Promise<void> {
    this.closes += 1;
    this.lastCloseMs = Date.now() - START_MS;
  }
}

async function main(): Promise<void> {
  const runtime = await getRuntime();
  await runtime.redis.one(['ping']);
  await (await runtime.pool()).query('SELECT 1');
  // A container that sweeps every minute is warm: its @connections client has resolved credentials and loaded the
  // modules the SDK imports on first use. One call to a connection the stand-in API does not count does that here.
  if (process.env.BENCH_SWEEP_GATEWAY !== 'memory' && runtime.config.connectionsEndpoint) {
    await runtime.gateway.close(runtime.config.connectionsEndpoint, WARMUP_CONNECTION_ID);
    await runtime.gateway.post(runtime.config.connectionsEndpoint, WARMUP_CONNECTION_ID, '{}');
    runtime.gateway.posts = 0;
  }
  // A warm run: one pass over the users seeded for it first, as the previous minute's pass of a warm container. Only
  // the next pass is measured.
  let warmReaped: number | undefined;
  if (process.env.BENCH_WARM_PASS === '1') {
    const warm = await handler({} as never, { getRemainingTimeInMillis: () => 900_000 });
    warmReaped = warm.reaped;
    runtime.gateway.posts = 0;
    runtime.redis.roundTrips = 0;
    runtime.directory.queries = 0;
  }
  // Handshake (the sweep bench): the bench seeds the measured users and starts its counters, then says go. The mark
  // lets it count only what the measured pass logs.
  if (process.env.BENCH_HANDSHAKE === '1') {
    const go = new Promise((resolve) => process.once('message', resolve));
    process.stdout.write(`${MEASURED_PASS_MARK}\n`);
    process.stderr.write(`${MEASURED_PASS_MARK}\n`);
    process.send?.('ready');
    await go;
  }
  // The scale-out bench starts every worker at one instant, once all are loaded and connected (a mass expiry meets
  // warm workers; their cold start is measured apart).
  if (process.env.BENCH_START_MS) await new Promise((r) => setTimeout(r, Math.max(0, START_MS - Date.now())));
  let peakRss = 0;
  let peakHeap = 0;
  const sample = (): void => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  };
  sample();
  const rssBefore = process.memoryUsage().rss;
  const sampler = setInterval(sample, 25);
  const cpu0 = process.cpuUsage();
  const start = process.hrtime.bigint();
  const memory = process.env.BENCH_SWEEP_GATEWAY === 'memory' ? new CountingGateway() : undefined;
  // With the in-memory gateway, one pass with the `timeout` handler's own options (LEASE_MS 30 s, shardConcurrency 16)
  // through the real delivery module whose only stand-in is the gateway.
  const deliverer = memory
    ? new DeliveryService(
        {
          store: runtime.store,
          directory: runtime.directory,
          outbox: new RedisDeliveryStore(runtime.redis, runtime.keys),
          gateway: memory,
          cap: new RedisRateCap(runtime.redis, runtime.keys, runtime.config.deliveryMaxCallsPerSecond),
          queue: NO_QUEUE,
          events: NO_EVENTS,
          groups: runtime.deps.groups,
          clock: runtime.deps.clock,
          log: runtime.deps.log,
        },
        runtime.delivery.settings,
      )
    : undefined;
  const shards = myShards(runtime.store.shardCount);
  const memoryPass = (into?: Awaited<ReturnType<typeof sweepOnce>>) =>
    sweepOnce(
      { ...runtime.deps, gateway: memory as CountingGateway, deliverer: deliverer as DeliveryService },
      {
        endpoint: 'memory://',
        leaseMs: 30_000,
        batchSize: runtime.config.sweepBatchSize,
        // The scale-out bench keeps the shards in flight against the one Redis constant (16 in all): more workers add
        // processes (CPU), not load on the store beyond what it answers within STORE_TIMEOUT_MS on this machine.
        shardConcurrency: Math.max(2, Math.floor(16 / WORKERS)),
      },
      into,
      undefined,
      shards,
    );
  let stats = deliverer ? await memoryPass() : await handler({} as never, { getRemainingTimeInMillis: () => 900_000 });
  // A scale-out worker keeps taking passes over its shards until one finds nothing due (as repeated work messages
  // would), so a pass cut short by a store timeout under load is finished, not left for the next minute.
  if (deliverer && shards) {
    for (let extra = 0; extra < 20; extra += 1) {
      const before = stats.claimed;
      stats = await memoryPass(stats);
      if (stats.claimed === before) break;
    }
  }
  const wallMs = elapsedMs(start);
  const cpu = process.cpuUsage(cpu0);
  clearInterval(sampler);
  sample();
  const report: SweepWorkerReport = {
    wallMs,
    stats: { ...stats },
    redisRoundTrips: runtime.redis.roundTrips,
    postgresQueries: runtime.directory.queries,
    posts: runtime.gateway.posts,
    rssBeforeMb: rssBefore / 2 ** 20,
    // A warm run samples only (the process's lifetime peak would include its warm-up pass).
    peakRssMb:
      (warmReaped !== undefined ? peakRss : Math.max(peakRss, process.resourceUsage().maxRSS * 1024)) / 2 ** 20,
    peakHeapMb: peakHeap / 2 ** 20,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    senderThreads: runtime.config.connectionsThreads,
    gatewayPosts: memory ? memory.posts : runtime.gateway.posts,
    gatewayCloses: memory ? memory.closes : stats.reaped - stats.closeFailures,
    ...(warmReaped !== undefined ? { warmReaped } : {}),
    ...(memory
      ? { lagBuckets: memory.lagBuckets, lastCloseMs: memory.lastCloseMs, lastPostMs: memory.lastPostMs }
      : {}),
  };
  await shutdownRuntime();
  process.stdout.write(`${JSON.stringify(report)}\n`);
  process.disconnect?.();
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
