// Starts what the integration tests need, unless given: Redis (REDIS_URL), Postgres (DATABASE_URL), a 3-master cluster,
// and PgBouncer in transaction pooling mode in front of that Postgres (PGBOUNCER_URL).
import { Redis } from 'ioredis';
import { SHARD_COUNT } from '../../src/layer/adapters/redis/keys';
import { startEmbeddedPostgres } from '../../src/local/embedded-postgres';
import { startEmbeddedRedis } from '../../src/local/embedded-redis';
import { startPgBouncer } from './pgbouncer';

export { freePort } from '../../src/local/free-port';

interface Started {
  stop: () => Promise<void>;
}

declare global {
  var __presenceServices: Started[] | undefined;
}

/** Starts a plain redis-server on a loopback port (a free one unless given), without persistence. */
export async function startRedisServer(
  args: string[] = [],
  port?: number,
): Promise<{ port: number; stop: () => Promise<void> }> {
  return startEmbeddedRedis({ args, ...(port !== undefined ? { port } : {}) });
}

async function startCluster(): Promise<{ url: string; stop: () => Promise<void> }> {
  const nodes = await Promise.all(
    [0, 1, 2].map(() => startRedisServer(['--cluster-enabled', 'yes', '--cluster-node-timeout', '2000'])),
  );
  const clients = nodes.map((n) => new Redis({ port: n.port, host: '127.0.0.1' }));
  const per = Math.ceil(16384 / nodes.length);
  await Promise.all(
    clients.map((client, i) =>
      client.call('CLUSTER', 'ADDSLOTSRANGE', String(i * per), String(Math.min(16383, (i + 1) * per - 1))),
    ),
  );
  for (const node of nodes.slice(1)) await clients[0]!.call('CLUSTER', 'MEET', '127.0.0.1', String(node.port));
  const deadline = Date.now() + 20_000;
  for (;;) {
    const infos = await Promise.all(clients.map((c) => c.call('CLUSTER', 'INFO') as Promise<string>));
    if (infos.every((info) => info.includes('cluster_state:ok') && info.includes('cluster_known_nodes:3'))) break;
    if (Date.now() > deadline) throw new Error('redis cluster did not become ready');
    await new Promise((r) => setTimeout(r, 100));
  }
  clients.forEach((c) => c.disconnect());
  return {
    url: `redis://127.0.0.1:${nodes[0]!.port}`,
    stop: async () => {
      await Promise.all(nodes.map((n) => n.stop()));
    },
  };
}

export default async function globalSetup(): Promise<void> {
  const started: Started[] = [];
  globalThis.__presenceServices = started;
  if (process.env.REDIS_URL) {
    process.env.TEST_REDIS_URL = process.env.REDIS_URL;
  } else {
    const redis = await startRedisServer();
    started.push(redis);
    process.env.TEST_REDIS_URL = `redis://127.0.0.1:${redis.port}`;
  }
  if (process.env.REDIS_CLUSTER_URL) {
    process.env.TEST_REDIS_CLUSTER_URL = process.env.REDIS_CLUSTER_URL;
  } else {
    const cluster = await startCluster();
    started.push(cluster);
    process.env.TEST_REDIS_CLUSTER_URL = cluster.url;
  }
  if (process.env.DATABASE_URL) {
    process.env.TEST_DATABASE_URL = process.env.DATABASE_URL;
  } else {
    const pg = await startEmbeddedPostgres('presence_test');
    started.push(pg);
    process.env.TEST_DATABASE_URL = pg.url;
  }
  refuseNonTestDatabase(process.env.TEST_DATABASE_URL);
  if (process.env.PGBOUNCER_URL) {
    // Must front the same server as DATABASE_URL, in transaction mode, with a `*` database entry (test/support/pgbouncer.ts).
    refuseNonTestDatabase(process.env.PGBOUNCER_URL);
    process.env.TEST_PGBOUNCER_URL = process.env.PGBOUNCER_URL;
  } else {
    const bouncer = await startPgBouncer(process.env.TEST_DATABASE_URL);
    started.push(bouncer);
    process.env.TEST_PGBOUNCER_URL = bouncer.url;
  }
  process.env.TEST_SHARD_COUNT = String(SHARD_COUNT);
}

function refuseNonTestDatabase(url: string): void {
  const dbName = new URL(url).pathname.slice(1);
  if (!/test/i.test(dbName)) {
    throw new Error(`Refusing to run integration tests against database "${dbName}": its name must contain "test"`);
  }
}
