// Cache sizing: fills Redis through the real handlers and measures bytes per online user, per connection, per key kind.
import { randomBytes } from 'node:crypto';
import { shutdownRuntime } from '@presence/layer';
import { wsEvent } from '../events/sample-events';
import { forEachLimit } from './support/stats';
import type { BenchStores } from './support/stores';
import { deleteKeys, seedUsers, userId } from './support/stores';

/** Sizes of the cache-memory bench. */
export interface CacheMemorySizes {
  /** Users brought online (each with `connectionsPerUser` connections). */
  readonly users: number;
  readonly connectionsPerUser: number;
  /** Accepted friends of every user (a ring: user i with users i±1..i±friends/2). */
  readonly friendsPerUser: number;
}

/** What one kind of key costs: keys of the same shape (prefix, hash tag and user id replaced), from MEMORY USAGE. */
export interface KeyKindFigure {
  /** The key with the prefix removed, `{n}` as `{s}` and a user id as `<user>`, e.g. `{s}:c:<user>`. */
  readonly kind: string;
  readonly type: string;
  readonly keys: number;
  /** MEMORY USAGE (SAMPLES 0: every element counted) averaged over up to 200 keys of the kind. */
  readonly averageBytes: number;
  readonly totalBytes: number;
  /** Average remaining TTL in seconds of the sampled keys; null when they have none. */
  readonly averageTtlSeconds: number | null;
}

/** The measured figures (bytes of Redis `used_memory` unless stated). */
export interface CacheMemoryFigure extends CacheMemorySizes {
  readonly redisVersion: string;
  readonly allocator: string;
  /** used_memory after each phase, minus the baseline. */
  readonly delta: {
    /** Every user online with one connection and a shared page. */
    readonly oneConnection: number;
    /** Every user online with all `connectionsPerUser` connections. */
    readonly allConnections: number;
    /** Every connection closed again. */
    readonly allClosed: number;
  };
  /** Per user online with its keys (state, view, cached context, ...) but without its connections. */
  readonly bytesPerOnlineUser: number;
  /** Per additional open connection (record, expiry-index entry). */
  readonly bytesPerConnection: number;
  /** Per user after all of its connections closed, counting only keys that outlive the friend cache. */
  readonly bytesPerOfflineUser: number;
  /** Every key kind while all users are online with all connections. */
  readonly keyKindsOnline: KeyKindFigure[];
  /** Every key kind left once all connections closed. */
  readonly keyKindsOffline: KeyKindFigure[];
  /** Handler answers that were not 2xx (should be 0). */
  readonly failures: number;
}

type Handler = (event: unknown) => Promise<unknown>;

/** A shared page, about as long as a typical article URL and title. */
const PAGE = {
  url: 'https://en.wikipedia.org/wiki/Presence_information?utm_source=bench#History',
  title: 'Presence information - Wikipedia',
};

async function loadHandler(name: string): Promise<Handler> {
  return ((await import(`../src/functions/${name}/handler`)) as { handler: Handler }).handler;
}

async function usedMemory(stores: BenchStores): Promise<{ used: number; version: string; allocator: string }> {
  const memory = await stores.redis.info('memory');
  const server = await stores.redis.info('server');
  const field = (text: string, name: string) => new RegExp(`^${name}:(.*)$`, 'm').exec(text)?.[1]?.trim() ?? '';
  return {
    used: Number(field(memory, 'used_memory')),
    version: field(server, 'valkey_version') || field(server, 'redis_version'),
    allocator: field(memory, 'mem_allocator'),
  };
}

/**
 * Groups every key under `prefix` by shape, without knowing the data model: the prefix is removed, a hash tag
 * `{n}` becomes `{s}`, and a user id of the bench (`users`) becomes `<user>`. New kinds of keys (an outbox, ...)
 * show up as their own rows.
 */
async function keyKinds(stores: BenchStores, prefix: string, users: ReadonlySet<string>): Promise<KeyKindFigure[]> {
  const byKind = new Map<string, string[]>();
  let cursor = '0';
  do {
    const [next, keys] = await stores.redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) {
      const rest = key.slice(prefix.length).replace(/\{\d+\}/g, '{s}');
      const parts = rest.split(':');
      const kind = parts.map((part) => (users.has(part) ? '<user>' : part)).join(':');
      const list = byKind.get(kind) ?? [];
      list.push(key);
      byKind.set(kind, list);
    }
  } while (cursor !== '0');
  const figures: KeyKindFigure[] = [];
  for (const [kind, keys] of [...byKind.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const sample = keys.slice(0, 200);
    const pipeline = stores.redis.pipeline();
    for (const key of sample) {
      pipeline.call('MEMORY', 'USAGE', key, 'SAMPLES', '0');
      pipeline.ttl(key);
      pipeline.type(key);
    }
    const replies = ((await pipeline.exec()) ?? []).map(([, value]) => value);
    let bytes = 0;
    let ttlSum = 0;
    let ttlCount = 0;
    let type = '';
    for (let i = 0; i < sample.length; i += 1) {
      bytes += Number(replies[i * 3] ?? 0);
      const ttl = Number(replies[i * 3 + 1]);
      if (ttl >= 0) {
        ttlSum += ttl;
        ttlCount += 1;
      }
      type = String(replies[i * 3 + 2]);
    }
    const averageBytes = sample.length ? bytes / sample.length : 0;
    figures.push({
      kind,
      type,
      keys: keys.length,
      averageBytes,
      totalBytes: averageBytes * keys.length,
      averageTtlSeconds: ttlCount ? ttlSum / ttlCount : null,
    });
  }
  return figures;
}

/**
 * Fills the bench Redis through the real handlers and reads `used_memory` after each phase:
 * 1. every user connects once and shares a page (one `connect`, one `update-presence`): users online, one connection;
 * 2. every user opens a second connection and shares the same page: the second phase's delta is connections only;
 * 3. every connection closes (`close`, GRACE_SECONDS=0): what stays is the offline state kept for last-seen.
 * Users are `m<tag>000000...` with `friendsPerUser` accepted friends each, all on one page; the friend context is
 * cached (FRIEND_CACHE_SECONDS from the bench environment). Runs under its own key prefix and removes its keys.
 * The environment must already point the runtime at `stores` and the stand-in @connections API.
 */
export async function benchCacheMemory(stores: BenchStores, sizes: CacheMemorySizes): Promise<CacheMemoryFigure> {
  if (sizes.users <= sizes.friendsPerUser) throw new Error('cache-memory bench: users must outnumber friends per user');
  if (sizes.connectionsPerUser < 2) throw new Error('cache-memory bench: needs 2 or more connections per user');
  const tag = randomBytes(3).toString('hex');
  const userPrefix = `m${tag}`;
  const keyPrefix = `${stores.keyPrefix}mem${tag}:`;
  const savedPrefix = process.env.REDIS_KEY_PREFIX;
  const friendCacheSeconds = Number(process.env.FRIEND_CACHE_SECONDS ?? 60);
  const users = Array.from({ length: sizes.users }, (_, i) => userId(userPrefix, i));
  const half = Math.floor(sizes.friendsPerUser / 2);
  await seedUsers(stores.pool, userPrefix, sizes.users);
  await stores.pool.query(
    `INSERT INTO friendship_table (user_id1, user_id2, requested_at, accepted_at)
     SELECT $1 || lpad(i::text, 6, '0'), $1 || lpad(((i + j) % $2::int)::text, 6, '0'), now(), now()
     FROM generate_series(0, $2::int - 1) AS i, generate_series(1, $3::int) AS j`,
    [userPrefix, sizes.users, half],
  );
  await stores.pool.query('ANALYZE user_table, friendship_table');

  await shutdownRuntime();
  process.env.REDIS_KEY_PREFIX = keyPrefix;
  let failures = 0;
  const ok = (result: unknown) => {
    const status = (result as { statusCode?: number } | undefined)?.statusCode;
    if (status !== undefined && (status < 200 || status >= 300)) failures += 1;
  };
  try {
    const [connect, update, close] = (await Promise.all(['connect', 'update-presence', 'close'].map(loadHandler))) as [
      Handler,
      Handler,
      Handler,
    ];
    const conn = (user: string, n: number) => `${user}c${n}Mem=`;
    const open = (user: string, n: number) => connect(wsEvent('connect', user, conn(user, n))).then(ok);
    const share = (user: string, n: number) =>
      update(wsEvent('update-presence', user, conn(user, n), { action: 'update-presence', ...PAGE })).then(ok);
    const hangUp = (user: string, n: number) => close(wsEvent('close', user, conn(user, n))).then(ok);

    // Warm up: clients, pools and Lua scripts exist before the baseline (a user outside the measured set).
    const warm = `${userPrefix}warm`;
    await open(warm, 1);
    await share(warm, 1);
    await hangUp(warm, 1);
    await deleteKeys(stores.redis, keyPrefix);
    failures = 0;

    const base = await usedMemory(stores);
    const phase = async (step: (user: string) => Promise<unknown>) => {
      await forEachLimit(users, 32, step);
      return (await usedMemory(stores)).used - base.used;
    };
    const connections = Array.from({ length: sizes.connectionsPerUser }, (_, i) => i + 1);
    await phase((user) => open(user, 1));
    const oneConnection = await phase((user) => share(user, 1));
    let allConnections = oneConnection;
    for (const n of connections.slice(1)) {
      await phase((user) => open(user, n));
      allConnections = await phase((user) => share(user, n));
    }
    const userSet = new Set(users);
    const keyKindsOnline = await keyKinds(stores, keyPrefix, userSet);
    let allClosed = allConnections;
    for (const n of connections) allClosed = await phase((user) => hangUp(user, n));
    const keyKindsOffline = await keyKinds(stores, keyPrefix, userSet);

    // The connections after the first add nothing but connections: their delta prices one connection.
    const bytesPerConnection = (allConnections - oneConnection) / (sizes.users * (sizes.connectionsPerUser - 1));
    // Kinds whose keys expire with the friend cache are gone within FRIEND_CACHE_SECONDS in production (60 s).
    const retained = keyKindsOffline
      .filter((k) => k.averageTtlSeconds === null || k.averageTtlSeconds > friendCacheSeconds)
      .reduce((sum, k) => sum + k.totalBytes, 0);
    return {
      ...sizes,
      redisVersion: base.version,
      allocator: base.allocator,
      delta: { oneConnection, allConnections, allClosed },
      bytesPerOnlineUser: oneConnection / sizes.users - bytesPerConnection,
      bytesPerConnection,
      bytesPerOfflineUser: retained / sizes.users,
      keyKindsOnline,
      keyKindsOffline,
      failures,
    };
  } finally {
    await shutdownRuntime();
    process.env.REDIS_KEY_PREFIX = savedPrefix;
    await deleteKeys(stores.redis, keyPrefix);
  }
}
