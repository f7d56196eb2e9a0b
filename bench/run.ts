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
    if (options.parts.has('handlers')) {
      handlers = await benchHandlers(stores, options, auth.sign);
      for (const h of handlers) console.log(h.handler, h.label, JSON.stringify(h.latency), h.redisRoundTrips, h.postgresQueries, h.posts);
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
