// Points the handlers' runtime (process.env) at the test stores and the fake @connections API.
import { getRuntime, shutdownRuntime } from '../../src/layer/runtime';
import { FakeConnectionsApi } from './connections-api';
import { deleteKeysWithPrefix } from './redis-cleanup';
import type { RedisTarget } from './redis-cleanup';
import {
  clusterUrl,
  createPooledTestDatabase,
  createTestSchema,
  redisUrl,
  seedSocialGraph,
  uniquePrefix,
} from './stores';

/** The social graph most handler tests use. alice–bob, alice–carol accepted; erin→alice pending; dave a stranger. */
export const GRAPH = {
  users: [
    { id: 'alice', shareMode: 'default_all' as const, deny: ['facebook.com'] },
    { id: 'bob', shareMode: 'default_none' as const, allow: ['wikipedia.org'] },
    { id: 'carol', shareMode: 'default_all' as const },
    { id: 'dave', shareMode: 'default_all' as const },
    { id: 'erin', shareMode: 'default_all' as const },
  ],
  friendships: [
    ['alice', 'bob', true],
    ['carol', 'alice', true],
    ['erin', 'alice', false],
  ] as [string, string, boolean][],
};

/** Options of {@link handlerEnvironment}. */
export interface HandlerEnvironmentOptions {
  /**
   * How the handlers reach Postgres: `direct` (default; a schema of the test database) or `pgbouncer` (a database
   * of its own through PgBouncer in transaction pooling mode, as they reach RDS Proxy in AWS).
   */
  readonly postgres?: 'direct' | 'pgbouncer';
}

/** A handler test environment: stores, fake API and env; `close()` undoes it. */
export async function handlerEnvironment(env: Record<string, string> = {}, options: HandlerEnvironmentOptions = {}) {
  const api = await new FakeConnectionsApi().start();
  const db = options.postgres === 'pgbouncer' ? await createPooledTestDatabase() : await createTestSchema();
  await seedSocialGraph(db.pool, GRAPH.users, GRAPH.friendships);
  const prefix = uniquePrefix();
  // The cluster-*.test.ts files re-run whole suites with the handlers on the 3-master Redis Cluster.
  const onCluster = process.env.TEST_REDIS_TARGET === 'cluster';
  const redis: RedisTarget = {
    url: env.REDIS_URL ?? (onCluster ? clusterUrl() : redisUrl()),
    mode: onCluster && !env.REDIS_URL ? 'cluster' : 'standalone',
  };
  Object.assign(process.env, {
    REDIS_URL: redis.url,
    REDIS_MODE: redis.mode,
    REDIS_KEY_PREFIX: prefix,
    DATABASE_URL: db.url,
    CONNECTIONS_ENDPOINT: api.endpoint,
    ALLOWED_ORIGINS: 'chrome-extension://abcdefghijklmnopabcdefghijklmnop,http://127.0.0.1:3000',
    GRACE_SECONDS: '0',
    PRESENCE_TIMEOUT_SECONDS: '90',
    FRIEND_CACHE_SECONDS: '60',
    ...env,
  });
  // A new store: users without state start without a standing choice (a lost store would fail closed instead).
  await (await getRuntime()).store.markFresh();
  return {
    api,
    db,
    prefix,
    redis,
    /** Stops the runtime, then removes the file's keys (REDIS_URL may be a shared server) and schema. */
    close: async () => {
      await shutdownRuntime();
      await deleteKeysWithPrefix(redis, prefix);
      await db.drop();
      await api.stop();
    },
  };
}
