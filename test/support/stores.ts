// Per-test-file isolation on the real stores: a random Redis key prefix, and a fresh Postgres schema (direct) or
// database (through PgBouncer) with the tables.
import { randomBytes } from 'node:crypto';
import { Pool } from 'pg';
import { migrate } from '../../src/layer/adapters/postgres/migrate';

/** URL of the test Redis (standalone). */
export const redisUrl = (): string => required('TEST_REDIS_URL');
/** URL of one node of the test Redis Cluster. */
export const clusterUrl = (): string => required('TEST_REDIS_CLUSTER_URL');
/** URL of the test database through PgBouncer in transaction pooling mode (the stand-in for RDS Proxy). */
export const pgBouncerUrl = (): string => required('TEST_PGBOUNCER_URL');

function required(name: string): string {
  const value = process.env[name];
  if (!value)
    throw new Error(`${name} is not set: run integration tests through jest (global-setup starts the stores)`);
  return value;
}

/** A key prefix no other test uses. */
export function uniquePrefix(): string {
  return `t${randomBytes(4).toString('hex')}:`;
}

/** A fresh schema with the user-api tables; `url` selects it through search_path. */
export async function createTestSchema(options: { seed?: boolean } = {}): Promise<TestDatabase> {
  const base = required('TEST_DATABASE_URL');
  const schema = `t_${randomBytes(5).toString('hex')}`;
  const admin = new Pool({ connectionString: base, max: 1 });
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();
  const url = new URL(base);
  url.searchParams.set('options', `-c search_path=${schema}`);
  const pool = new Pool({ connectionString: url.toString(), max: 2 });
  await migrate(pool, options);
  return {
    url: url.toString(),
    pool,
    drop: async () => {
      await pool.query(`DROP SCHEMA ${schema} CASCADE`);
      await pool.end();
    },
  };
}

/** A test database as {@link createTestSchema} and {@link createPooledTestDatabase} give it. */
export interface TestDatabase {
  /** The URL the code under test uses. */
  readonly url: string;
  /** A pool on that URL, for seeding and checks. */
  readonly pool: Pool;
  /** Removes what was created and ends the pool. */
  drop(): Promise<void>;
}

/**
 * A fresh database with the user-api tables, reached through PgBouncer (transaction pooling): `url` and `pool` go
 * through PgBouncer's `*` database entry, `directUrl` bypasses it. A database per test file is the isolation that
 * works through a pooler: choosing a schema with `options=-c search_path=...` is a startup parameter, which PgBouncer
 * and RDS Proxy refuse, and a `SET search_path` would not survive the next transaction. Created and dropped on the
 * direct connection (DROP ... WITH (FORCE) also ends PgBouncer's server connections to it; Postgres 13+).
 */
export async function createPooledTestDatabase(
  options: { seed?: boolean } = {},
): Promise<TestDatabase & { readonly directUrl: string }> {
  const name = `presence_test_${randomBytes(5).toString('hex')}`;
  const admin = new Pool({ connectionString: required('TEST_DATABASE_URL'), max: 1 });
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const withDatabase = (base: string) => {
    const url = new URL(base);
    url.pathname = `/${name}`;
    return url.toString();
  };
  const url = withDatabase(pgBouncerUrl());
  const pool = new Pool({ connectionString: url, max: 2 });
  pool.on('error', () => undefined);
  await migrate(pool, options);
  return {
    url,
    directUrl: withDatabase(required('TEST_DATABASE_URL')),
    pool,
    drop: async () => {
      await pool.end();
      const dropper = new Pool({ connectionString: required('TEST_DATABASE_URL'), max: 1 });
      try {
        await dropper.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await dropper.end();
      }
    },
  };
}

/** Inserts users and accepted (or pending) friendships. */
export async function seedSocialGraph(
  pool: Pool,
  users: { id: string; shareMode?: 'default_all' | 'default_none'; allow?: string[]; deny?: string[] }[],
  friendships: [string, string, boolean?][],
): Promise<void> {
  for (const u of users) {
    await pool.query(
      `INSERT INTO user_table (user_id, first_name, last_name, share_mode, domain_allow_array, domain_deny_array)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [u.id, u.id[0]!.toUpperCase() + u.id.slice(1), 'Test', u.shareMode ?? 'default_all', u.allow ?? [], u.deny ?? []],
    );
  }
  for (const [a, b, accepted = true] of friendships) {
    await pool.query(
      'INSERT INTO friendship_table (user_id1, user_id2, requested_at, accepted_at) VALUES ($1, $2, now(), $3)',
      [a, b, accepted ? new Date() : null],
    );
  }
}

/** Settings of a RedisPresenceStore built directly by the store-level tests (the contract's defaults, 10 s grace). */
export const STORE_SETTINGS = {
  timeoutMs: 90_000,
  graceMs: 10_000,
  retentionSeconds: 3600,
  friendCacheSeconds: 60,
  rateLimit: { perSecond: 10, burst: 20 },
  idleMs: 0,
  authGraceMs: 300_000,
  leaseMs: 15_000,
} as const;

/** The two Redis deployments every store-level suite runs on (`describe.each(REDIS_TARGETS)`: name, url, mode). */
export const REDIS_TARGETS = [
  ['standalone', (): string => redisUrl(), 'standalone' as const],
  ['cluster', (): string => clusterUrl(), 'cluster' as const],
] as const;

/** A user's cached context as the store takes it: share mode and domains, friends, no info, no groups. */
export function storeContext(
  userId: string,
  friendIds: string[] = [],
  shareMode: 'default_all' | 'default_none' = 'default_all',
  domains: string[] = [],
) {
  return { userId, settings: { shareMode, domains }, friendIds, info: new Map<string, never>(), groupIds: [] };
}

/** What `RedisPresenceStore.connect` takes for a plain connection (full detail, no batches), with `extra` on top. */
export function connectInput(userId: string, connectionId: string, now: number, extra: object = {}) {
  return {
    userId,
    connectionId,
    now,
    detail: 'full' as const,
    batch: false,
    authorizedUntil: 0,
    context: storeContext(userId),
    ...extra,
  };
}
