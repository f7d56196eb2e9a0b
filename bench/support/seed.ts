// Seeding through the layer's own store: online friends (one live connection each) and expired connections.
import type { UserContext } from '@presence/layer';
import { RedisExecutor, RedisKeys, RedisPresenceStore, SHARD_COUNT, createRedisClient, shardOf } from '@presence/layer';
import { forEachLimit } from './stats';
import type { BenchStores } from './stores';
import { seedUsers, userId } from './stores';

/** The pool of online friends: user ids `f000000...`, connection ids `cf<i>`; one message per change (no opt-in). */
export const POOL_PREFIX = 'f';
/** The same pool with batches opted in, as the shipped client and extension connect: `fb000000...`, `cfb<i>`. */
export const BATCH_POOL_PREFIX = 'fb';

/** A store on the bench Redis with the bench's timing (PRESENCE_TIMEOUT_SECONDS and friends, from the environment). */
export function seedingStore(stores: BenchStores): { store: RedisPresenceStore; timeoutMs: number; close: () => void } {
  const timeoutMs = Number(process.env.PRESENCE_TIMEOUT_SECONDS ?? 90) * 1000;
  const client = createRedisClient({ url: stores.redisUrl, mode: 'standalone', timeoutMs: 10_000 });
  const store = new RedisPresenceStore(new RedisExecutor(client, 10_000), new RedisKeys(stores.keyPrefix), {
    timeoutMs,
    graceMs: Number(process.env.GRACE_SECONDS ?? 10) * 1000,
    retentionSeconds: 30 * 86_400,
    friendCacheSeconds: Number(process.env.FRIEND_CACHE_SECONDS ?? 60),
    rateLimit: { perSecond: 10, burst: 20 },
    idleMs: 0,
    authGraceMs: 300_000,
    leaseMs: 15_000,
  });
  return { store, timeoutMs, close: () => client.disconnect() };
}

/** A placeholder context for seeding (the seeders drop it afterwards, so real friend lists come from Postgres). */
function seedContext(userId: string): UserContext {
  return { userId, settings: { shareMode: 'default_all', domains: [] }, friendIds: [], info: new Map(), groupIds: [] };
}

/** Connects a user directly in the store (no fan-out), then forgets the placeholder context. */
async function seedConnection(
  store: RedisPresenceStore,
  stores: BenchStores,
  user: string,
  connectionId: string,
  now: number,
  batch = false,
) {
  await store.connect({
    userId: user,
    connectionId,
    now,
    detail: 'full',
    batch,
    authorizedUntil: 0,
    context: seedContext(user),
  });
  await stores.redis.unlink(new RedisKeys(stores.keyPrefix).context(user));
}

/**
 * Forgets the deliveries seeding recorded (seeding connects users directly in the store, which records their change
 * in the outbox like any connect): left pending, the next sweep would deliver a pool user's "online" to every
 * connection of their (many) friends and the figures would count it.
 */
export async function clearSeededDeliveries(stores: BenchStores): Promise<void> {
  const keys = new RedisKeys(stores.keyPrefix);
  const pipeline = stores.redis.pipeline();
  for (let s = 0; s < SHARD_COUNT; s += 1) pipeline.unlink(keys.outbox(s), keys.outboxBodies(s));
  await pipeline.exec();
}

/**
 * Inserts the pool users and brings each online with one connection (directly in the store: no fan-out); with
 * `batch`, the batch-opted pool.
 */
export async function seedOnlinePool(stores: BenchStores, size: number, batch = false): Promise<void> {
  const prefix = batch ? BATCH_POOL_PREFIX : POOL_PREFIX;
  await seedUsers(stores.pool, prefix, size);
  const { store, close } = seedingStore(stores);
  await store.markFresh();
  const now = Date.now();
  try {
    await forEachLimit(
      Array.from({ length: size }, (_, i) => i),
      64,
      (i) => seedConnection(store, stores, userId(prefix, i), `c${prefix}${i}`, now, batch),
    );
    await clearSeededDeliveries(stores);
  } finally {
    close();
  }
}

/** Gives users `${prefix}0..count-1` one connection each that expired a minute ago (connected with an old `now`). */
export async function seedExpiredConnections(stores: BenchStores, prefix: string, count: number): Promise<void> {
  const { store, timeoutMs, close } = seedingStore(stores);
  const then = Date.now() - timeoutMs - 60_000;
  try {
    await forEachLimit(
      Array.from({ length: count }, (_, i) => i),
      128,
      (i) => seedConnection(store, stores, userId(prefix, i), `x${prefix}${i}`, then),
    );
    await clearSeededDeliveries(stores);
  } finally {
    close();
  }
}

/**
 * Removes what a sweep left of users `${prefix}0..count-1` (entries of failed shards stay claimed under a lease and
 * would otherwise be swept by the next size's pass): their expiry-index entries and connection hashes.
 */
export async function removeLeftovers(stores: BenchStores, prefix: string, count: number): Promise<void> {
  const keys = new RedisKeys(stores.keyPrefix);
  for (let start = 0; start < count; start += 5000) {
    const pipeline = stores.redis.pipeline();
    for (let i = start; i < Math.min(count, start + 5000); i += 1) {
      const user = userId(prefix, i);
      // Expiry-index member of a connection, as src/layer/adapters/redis/keys.ts builds it.
      pipeline.zrem(keys.expiry(shardOf(user)), `c:x${prefix}${i}:${user}`);
      pipeline.unlink(keys.conns(user));
    }
    await pipeline.exec();
  }
}
