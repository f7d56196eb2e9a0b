// The deploy-time "mark fresh" (the stack invokes `timeout` with {"markFresh":true} once, on create): a new store is
// marked, a second call changes nothing, and a store that holds data or has noticed a loss is never marked.
import type { Cluster, Redis } from 'ioredis';
import { handler as timeout } from '../../src/functions/timeout/handler';
import { RedisExecutor, createRedisClient } from '../../src/layer/adapters/redis/client';
import { RedisKeys, SHARD_COUNT, shardOf } from '../../src/layer/adapters/redis/keys';
import { RedisPresenceStore } from '../../src/layer/adapters/redis/presence-store';
import { getRuntime, shutdownRuntime } from '../../src/layer/runtime';
import { loadEvent } from '../../events/sample-events';
import { deleteKeysWithPrefix } from '../support/redis-cleanup';
import { handlerEnvironment } from '../support/runtime-env';
import { REDIS_TARGETS, STORE_SETTINGS, connectInput, uniquePrefix } from '../support/stores';

const settings = STORE_SETTINGS;
const t0 = 1_800_000_000_000;

/** A first connection of `userId` (no state in the store): resync says whether their choice counts as lost. */
const open = async (store: RedisPresenceStore, userId: string, connectionId: string) => {
  const result = await store.connect(connectInput(userId, connectionId, t0));
  if (result.kind !== 'applied') throw new Error(`connect answered ${result.kind}`);
  return result;
};

/** Two users on different shards. */
function usersOnTwoShards(): [string, string] {
  const first = 'fresh-user-0';
  for (let i = 1; ; i += 1) {
    const other = `fresh-user-${i}`;
    if (shardOf(other) !== shardOf(first)) return [first, other];
  }
}

describe.each(REDIS_TARGETS)('markFreshIfNew on %s', (_name, url, mode) => {
  let client: Redis | Cluster;
  const prefixes: string[] = [];
  /** A store under a key prefix of its own: a new, empty store. */
  const newStore = () => {
    const prefix = uniquePrefix();
    prefixes.push(prefix);
    return new RedisPresenceStore(new RedisExecutor(client, 2000), new RedisKeys(prefix), settings);
  };

  beforeAll(() => {
    client = createRedisClient({ url: url(), mode, timeoutMs: 2000 });
  });
  afterAll(async () => {
    client.disconnect();
    for (const prefix of prefixes) await deleteKeysWithPrefix({ url: url(), mode }, prefix);
  });

  it('marks a new, empty store fresh, so a first connection is not asked to resync', async () => {
    // Arrange
    const store = newStore();

    // Act
    const result = await store.markFreshIfNew();

    // Assert
    expect(result).toEqual({
      outcome: 'marked',
      shards: { marked: SHARD_COUNT, fresh: 0, recovering: 0, data: 0 },
    });
    expect((await open(store, 'ann', 'a1')).resync).toBe(false);
  });

  it('changes nothing when called again (idempotent)', async () => {
    // Arrange
    const store = newStore();
    await store.markFreshIfNew();
    await open(store, 'ann', 'a1');

    // Act
    const again = await store.markFreshIfNew();

    // Assert
    expect(again).toEqual({
      outcome: 'already-fresh',
      shards: { marked: 0, fresh: SHARD_COUNT, recovering: 0, data: 0 },
    });
  });

  it('refuses a store that noticed a loss, and marks no shard of it', async () => {
    // Arrange: no mark (an unmarked store is one that lost its data): the first user is asked to resync
    const store = newStore();
    const [first, second] = usersOnTwoShards();
    expect((await open(store, first, 'c1')).resync).toBe(true);

    // Act
    const result = await store.markFreshIfNew();

    // Assert: refused as a whole; a user on another, still unmarked shard is asked to resync too
    expect(result).toEqual({ outcome: 'refused', shards: { marked: 0, fresh: 0, recovering: 1, data: 0 } });
    expect((await open(store, second, 'c2')).resync).toBe(true);
  });

  it('refuses a store whose shards hold users without a mark (data written before marks existed)', async () => {
    // Arrange
    const store = newStore();
    const keys = (store as unknown as { keys: RedisKeys }).keys;
    await client.hset(keys.shard(7), 'u', '3', 'n', '4');

    // Act
    const result = await store.markFreshIfNew();

    // Assert
    expect(result).toEqual({ outcome: 'refused', shards: { marked: 0, fresh: 0, recovering: 0, data: 1 } });
    expect(await client.hget(keys.shard(0), 'f')).toBeNull();
  });

  it('completes a mark that stopped part-way (some shards marked, the rest new and empty)', async () => {
    // Arrange
    const store = newStore();
    const keys = (store as unknown as { keys: RedisKeys }).keys;
    for (const shard of [0, 1, 2]) await client.hset(keys.shard(shard), 'f', 'fresh');

    // Act
    const result = await store.markFreshIfNew();

    // Assert
    expect(result).toEqual({
      outcome: 'marked',
      shards: { marked: SHARD_COUNT - 3, fresh: 3, recovering: 0, data: 0 },
    });
  });
});

describe('the timeout function on {"markFresh":true}', () => {
  let env: Awaited<ReturnType<typeof handlerEnvironment>>;
  beforeAll(async () => {
    env = await handlerEnvironment();
  });
  afterAll(async () => {
    await env.close();
  });

  it('marks a new store once, then answers already-fresh; a store with a loss is refused', async () => {
    // Arrange: the test environment marks its own prefix; point the runtime at a new, empty one
    const prefix = `${env.prefix}new:`;
    await shutdownRuntime();
    process.env.REDIS_KEY_PREFIX = prefix;
    const event = loadEvent<{ markFresh: true }>('timeout-mark-fresh');

    // Act
    const first = await timeout(event);
    const second = await timeout(event);

    // Assert
    expect(first.outcome).toBe('marked');
    expect(second).toEqual({
      outcome: 'already-fresh',
      shards: { marked: 0, fresh: SHARD_COUNT, recovering: 0, data: 0 },
    });

    // Arrange: a store that noticed a loss (one shard in recovery)
    await shutdownRuntime();
    process.env.REDIS_KEY_PREFIX = `${env.prefix}lost:`;
    const { store } = await getRuntime();
    await open(store, 'lou', 'l1');

    // Act
    const refused = await timeout(event);

    // Assert
    expect(refused).toEqual({ outcome: 'refused', shards: { marked: 0, fresh: 0, recovering: 1, data: 0 } });
  });

  it('rejects a markFresh other than true and changes nothing', async () => {
    // Arrange
    await shutdownRuntime();
    process.env.REDIS_KEY_PREFIX = `${env.prefix}bad:`;

    // Act
    const attempt = timeout({ markFresh: 'yes' } as never);

    // Assert
    await expect(attempt).rejects.toThrow('markFresh must be true');
    const { store } = await getRuntime();
    expect((await open(store, 'ann', 'a1')).resync).toBe(true);
  });
});
