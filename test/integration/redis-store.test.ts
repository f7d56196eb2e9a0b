// The Redis presence store on a standalone server and on a real 3-master Redis Cluster: same behaviour, one slot per script.
import type { Cluster, Redis } from 'ioredis';
import { RedisExecutor, createRedisClient } from '../../src/layer/adapters/redis/client';
import { RedisKeys, SHARD_COUNT, shardOf } from '../../src/layer/adapters/redis/keys';
import { RedisPresenceStore } from '../../src/layer/adapters/redis/presence-store';
import type { UserContext } from '../../src/layer/presence/model';
import { deleteKeysWithPrefix } from '../support/redis-cleanup';
import { clusterUrl, redisUrl, uniquePrefix } from '../support/stores';

const settings = {
  timeoutMs: 90_000,
  graceMs: 10_000,
  retentionSeconds: 3600,
  friendCacheSeconds: 60,
  rateLimit: { perSecond: 10, burst: 20 },
};

const context = (userId: string, friendIds: string[], shareMode: 'default_all' | 'default_none' = 'default_all', domains: string[] = []): UserContext => ({
  userId,
  settings: { shareMode, domains },
  friendIds,
  info: {},
});

describe.each([
  ['standalone', () => redisUrl(), 'standalone' as const],
  ['cluster', () => clusterUrl(), 'cluster' as const],
])('RedisPresenceStore on %s', (_name, url, mode) => {
  let client: Redis | Cluster;
  let store: RedisPresenceStore;
  const t0 = 1_800_000_000_000;

  const prefix = uniquePrefix();

  beforeAll(() => {
    client = createRedisClient({ url: url(), mode, timeoutMs: 2000 });
    store = new RedisPresenceStore(new RedisExecutor(client, 2000), new RedisKeys(prefix), settings);
  });
  afterAll(async () => {
    client.disconnect();
    await deleteKeysWithPrefix({ url: url(), mode }, prefix);
  });

  it('rolls up connections per user and removes exactly one', async () => {
    await store.connect({ userId: 'ann', connectionId: 'a1', now: t0 });
    await store.connect({ userId: 'ann', connectionId: 'a2', now: t0 + 1 });
    await store.update({ userId: 'ann', connectionId: 'a1', now: t0 + 2, status: 'busy', context: context('ann', ['ben']) });

    expect((await store.readMany(['ann'])).get('ann')?.friendView?.status).toBe('busy');
    const change = await store.remove({ userId: 'ann', connectionId: 'a1', now: t0 + 3 });
    expect(change?.friendView?.status).toBe('online');
    expect(await store.remove({ userId: 'ann', connectionId: 'a1', now: t0 + 4 })).toBeNull();
    expect((await store.connectionsOf(['ann'])).get('ann')).toEqual(['a2']);
  });

  it('decides page sharing inside the update script from the cached settings, asking for them when missing', async () => {
    const page = { url: 'https://github.com/x', title: 'X', domain: 'github.com' };
    expect(await store.update({ userId: 'cat', connectionId: 'c1', now: t0, page })).toEqual({ kind: 'need-context' });
    expect((await store.connectionsOf(['cat'])).size).toBe(0);

    const allowed = await store.update({ userId: 'cat', connectionId: 'c1', now: t0, page, context: context('cat', [], 'default_none', ['github.com']) });
    expect(allowed.kind === 'changed' && allowed.change.friendView?.page).toEqual(page);
    const denied = await store.update({ userId: 'cat', connectionId: 'c1', now: t0 + 1, page: { ...page, domain: 'gitlab.com', url: 'https://gitlab.com/' } });
    expect(denied.kind === 'changed' && denied.change.friendView?.page).toEqual({ url: '', title: '', domain: '' });
  });

  it('reads and finds connections of users spread over many slots in one round trip', async () => {
    const users = Array.from({ length: 40 }, (_, i) => `spread${i}`);
    expect(new Set(users.map(shardOf)).size).toBeGreaterThan(20);
    for (const u of users) await store.connect({ userId: u, connectionId: `${u}c`, now: t0 });
    await store.saveContexts(users.map((u) => context(u, ['zed'])));

    const conns = await store.connectionsOf(users);
    const snapshots = await store.readMany(users);

    expect([...conns.keys()].sort()).toEqual([...users].sort());
    expect([...snapshots.values()].every((s) => s.friendView?.status === 'online')).toBe(true);
    expect((await store.readSelf('spread3')).context?.friendIds).toEqual(['zed']);
  });

  it('sweeps every shard: expiry, grace, and claims that two sweepers never share', async () => {
    const users = Array.from({ length: 30 }, (_, i) => `sw${i}`);
    for (const u of users) await store.connect({ userId: u, connectionId: `${u}x`, now: t0 });
    await store.saveContexts(users.map((u) => context(u, [])));
    const later = t0 + 91_000;

    const claimsA = await Promise.all(Array.from({ length: SHARD_COUNT }, (_, s) => store.claim(s, later, 30_000, 100)));
    const claimsB = await Promise.all(Array.from({ length: SHARD_COUNT }, (_, s) => store.claim(s, later, 30_000, 100)));
    const claimedA = claimsA.flatMap((c) => c.members).filter((m) => m.includes(':sw'));
    expect(claimedA).toHaveLength(30);
    expect(claimsB.flatMap((c) => c.members).filter((m) => m.includes(':sw'))).toEqual([]);

    const commits = await Promise.all(claimsA.map((c) => store.commit(c, later)));
    const reaped = commits.flatMap((c) => c.reaped).filter((r) => r.userId.startsWith('sw'));
    expect(reaped).toHaveLength(30);
    // Re-committing the same claim does nothing: the lease is spent.
    expect((await Promise.all(claimsA.map((c) => store.commit(c, later)))).flatMap((c) => c.reaped)).toEqual([]);

    const afterGrace = later + 10_001;
    const graceClaims = await Promise.all(Array.from({ length: SHARD_COUNT }, (_, s) => store.claim(s, afterGrace, 30_000, 100)));
    const graceCommits = await Promise.all(graceClaims.map((c) => store.commit(c, afterGrace)));
    const offline = graceCommits.flatMap((c) => c.changes).filter((c) => c.userId.startsWith('sw'));
    expect(offline).toHaveLength(30);
    expect(offline.every((c) => c.friendView?.status === 'offline')).toBe(true);
  });

  it('rate-limits a connection with a token bucket kept in its record', async () => {
    await store.connect({ userId: 'rat', connectionId: 'r1', now: t0 });
    const kinds = [];
    for (let i = 0; i < 25; i += 1) kinds.push((await store.touch({ userId: 'rat', connectionId: 'r1', now: t0 })).kind);
    expect(kinds.filter((k) => k === 'ok')).toHaveLength(20);
    expect((await store.touch({ userId: 'rat', connectionId: 'r1', now: t0 + 1000 })).kind).toBe('ok');
  });
});
