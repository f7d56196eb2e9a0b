// The bench's stores: REDIS_URL / DATABASE_URL when set, else an embedded redis-server and Postgres; own prefix and schema.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { Pool } from 'pg';
import { migrate } from '@presence/layer';
import { startEmbeddedPostgres } from '../../src/local/embedded-postgres';
import { startEmbeddedRedis } from '../../src/local/embedded-redis';

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

export { freePort } from '../../src/local/free-port';

async function startRedis(): Promise<{ url: string; pid: number | undefined; stop: () => Promise<void> }> {
  return startEmbeddedRedis();
}

async function startPostgres(): Promise<{ url: string; stop: () => Promise<void> }> {
  return startEmbeddedPostgres('presence_bench_test');
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
