// Orchestrates `npm run bench`: stores, floors, handlers, sweep, cold start, gateway load, cost; writes the report.
import { loadavg } from 'node:os';
import { shutdownRuntime } from '@presence/layer';
import { measureFloors } from './floors';
import type { Floors } from './floors';
import { benchHandlers, startAuth } from './handlers';
import type { HandlerFigure } from './handlers';
import { startConnectionsApi } from './support/connections-api';
import { handlerEnv } from './support/env';
import { parseOptions } from './support/options';
import { openStores } from './support/stores';
import { seedOnlinePool } from './support/seed';
import { benchSweep } from './sweep';
import type { SweepFigure } from './sweep';

/** Runs the bench; resolves to the process exit code. */
export async function run(argv: readonly string[]): Promise<number> {
  const options = parseOptions(argv, process.env);
  const started = Date.now();
  const loadBefore = loadavg();
  const stores = await openStores();
  const api = await startConnectionsApi();
  const auth = await startAuth();
  let floors: Floors | undefined;
  let handlers: HandlerFigure[] = [];
  let sweep: SweepFigure[] = [];
  try {
    Object.assign(process.env, handlerEnv(stores, api.endpoint, auth.auth));
    if (options.parts.has('floors') || options.parts.has('handlers')) {
      floors = await measureFloors({
        redisUrl: stores.redisUrl,
        databaseUrl: stores.schemaUrl,
        connectionsEndpoint: api.endpoint,
        iterations: options.floorIterations,
      });
      console.log(JSON.stringify(floors, null, 1));
    }
    const poolSize = Math.max(20, options.sweepFriends, ...options.updateFriends, ...options.getFriends);
    await seedOnlinePool(stores, poolSize);
    if (options.parts.has('handlers')) {
      handlers = await benchHandlers(stores, options, auth.sign);
      for (const h of handlers) console.log(h.handler, h.label, JSON.stringify(h.latency), h.redisRoundTrips, h.postgresQueries, h.posts);
    }
    if (options.parts.has('sweep')) {
      const profile = options.cpuProfile ? { cpuProfileDir: options.outDir } : {};
      sweep = [
        ...(await benchSweep(stores, api, options.sweepSizes, options.sweepFriends, poolSize, { ...profile, gateway: 'memory' })),
        ...(await benchSweep(stores, api, options.sweepSdkSizes, options.sweepFriends, poolSize, { ...profile, gateway: 'sdk' })),
      ];
      for (const f of sweep) console.log(JSON.stringify(f));
    }
  } finally {
    await shutdownRuntime();
    await auth.stop();
    await api.stop();
    await stores.close();
  }
  console.log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s, load ${loadBefore.map((l) => l.toFixed(2)).join(' ')}`);
  return 0;
}
