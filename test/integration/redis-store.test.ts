// The Redis presence store on a standalone server and on a real 3-master Redis Cluster: same behaviour, one slot per script.
import type { Cluster, Redis } from 'ioredis';
import { RedisExecutor, createRedisClient } from '../../src/layer/adapters/redis/client';
import { RedisKeys, SHARD_COUNT, shardOf } from '../../src/layer/adapters/redis/keys';
import { RedisDeliveryStore } from '../../src/layer/adapters/redis/delivery-store';
import { RedisPresenceStore } from '../../src/layer/adapters/redis/presence-store';
import { deleteKeysWithPrefix } from '../support/redis-cleanup';
import { REDIS_TARGETS, STORE_SETTINGS, connectInput, storeContext, uniquePrefix } from '../support/stores';

const settings = STORE_SETTINGS;

const context = storeContext;

const open = (store: RedisPresenceStore, userId: string, connectionId: string, now: number, extra: object = {}) =>
  store.connect(connectInput(userId, connectionId, now, extra));

describe.each(REDIS_TARGETS)('RedisPresenceStore on %s', (_name, url, mode) => {
  let client: Redis | Cluster;
  let store: RedisPresenceStore;
  const t0 = 1_800_000_000_000;

  const prefix = uniquePrefix();

  beforeAll(async () => {
    client = createRedisClient({ url: url(), mode, timeoutMs: 2000 });
    store = new RedisPresenceStore(new RedisExecutor(client, 2000), new RedisKeys(prefix), settings);
    await store.markFresh();
  });
  afterAll(async () => {
    client.disconnect();
    await deleteKeysWithPrefix({ url: url(), mode }, prefix);
  });

  it('rolls up connections per user and removes exactly one', async () => {
    await open(store, 'ann', 'a1', t0);
    await open(store, 'ann', 'a2', t0 + 1);
    await store.update({
      userId: 'ann',
      connectionId: 'a1',
      now: t0 + 2,
      status: 'away',
      context: context('ann', ['ben']),
    });
    expect((await store.readMany(['ann'])).get('ann')?.friendView?.status).toBe('online');

    const removed = await store.remove({ userId: 'ann', connectionId: 'a2', now: t0 + 3 });
    expect(removed.kind === 'removed' && removed.change?.record.friendView.status).toBe('away');
    expect(await store.remove({ userId: 'ann', connectionId: 'a2', now: t0 + 4 })).toEqual({ kind: 'absent' });
    expect((await store.connectionsOf(['ann'])).get('ann')?.map((c) => c.connectionId)).toEqual(['a1']);
  });

  it('takes back a refused $connect without a trace while no deliverer took it, and removes it normally after', async () => {
    // Arrange
    const keys = new RedisKeys(prefix);
    const outbox = new RedisDeliveryStore(new RedisExecutor(client, 2000), keys);
    await open(store, 'uma', 'u1', t0);
    await open(store, 'uli', 'x1', t0);
    const taken = await outbox.claimOutbox(shardOf('uli'), t0 + settings.leaseMs + 1, 1000, 1000);
    // Act
    await store.undoConnect({ userId: 'uma', connectionId: 'u1', now: t0 + 1 });
    await store.undoConnect({ userId: 'uli', connectionId: 'x1', now: t0 + 1 });
    // Assert: uma as if she never connected (no state, read model, outbox entry, connection or usage count)
    const exists = await Promise.all(
      [keys.conns('uma'), keys.state('uma'), keys.view('uma')].map((k) => client.exists(k)),
    );
    expect(exists).toEqual([0, 0, 0]);
    expect(await client.hexists(keys.outboxBodies(shardOf('uma')), 'u:uma')).toBe(0);
    expect((await store.readMany(['uma'])).get('uma')).toMatchObject({ friendView: null, v: null });
    // uli's change was taken by a deliverer (friends may have been told): removed as a disconnect is, so friends are
    // told she is gone when the grace window ends
    expect(taken.map((c) => c.record.userId)).toContain('uli');
    expect((await store.connectionsOf(['uli'])).size).toBe(0);
    expect(await client.zscore(keys.expiry(shardOf('uli')), 'g:uli')).toBe(String(t0 + 1 + settings.graceMs));
  });

  it('versions every change from the store clock, strictly increasing, and records it in the outbox', async () => {
    const first = await open(store, 'vic', 'v1', t0);
    const second = await store.update({ userId: 'vic', connectionId: 'v1', now: t0 + 1, status: 'busy' });
    const v1 = first.kind === 'applied' ? first.change?.record.v : undefined;
    const v2 = second.kind === 'applied' ? second.change?.record.v : undefined;
    expect(v1).toBeGreaterThan(Date.now() - 60_000);
    expect(v2).toBeGreaterThan(v1 as number);
    // a heartbeat changes nothing friends see: no version, no outbox entry
    expect(await store.touch({ userId: 'vic', connectionId: 'v1', now: t0 + 2 })).toEqual({ kind: 'ok' });
    expect((await store.readMany(['vic'])).get('vic')?.v).toBe(v2);
  });

  it("keeps busy and invisible as the user's choice across reconnects; online clears it", async () => {
    await open(store, 'ivy', 'i1', t0);
    await store.update({ userId: 'ivy', connectionId: 'i1', now: t0 + 1, status: 'invisible' });
    await store.remove({ userId: 'ivy', connectionId: 'i1', now: t0 + 2 });
    await open(store, 'ivy', 'i2', t0 + 3);
    expect((await store.readMany(['ivy'])).get('ivy')?.friendView?.status).toBe('offline');
    await open(store, 'ivy', 'i3', t0 + 4, { status: 'online' });
    expect((await store.readMany(['ivy'])).get('ivy')?.friendView?.status).toBe('online');
  });

  it("fails closed when the user's state was lost: a revived connection stays hidden and asks for a resync", async () => {
    await open(store, 'lou', 'l1', t0);
    await store.update({ userId: 'lou', connectionId: 'l1', now: t0 + 1, status: 'invisible' });
    const keys = new RedisKeys((store as unknown as { keys: RedisKeys }).keys.prefix);
    await client.del(keys.conns('lou'), keys.state('lou'));

    const revived = await store.touch({ userId: 'lou', connectionId: 'l1', now: t0 + 2 });
    expect(revived.kind === 'applied' && revived.resync).toBe(true);
    expect((await store.readMany(['lou'])).get('lou')?.friendView?.status ?? 'offline').toBe('offline');
    expect((await store.touch({ userId: 'lou', connectionId: 'l1', now: t0 + 3 })).kind).toBe('resync');
    // the client resends its choice: still invisible, and known again
    await store.update({ userId: 'lou', connectionId: 'l1', now: t0 + 4, status: 'invisible' });
    expect((await store.touch({ userId: 'lou', connectionId: 'l1', now: t0 + 5 })).kind).toBe('ok');
    expect((await store.readMany(['lou'])).get('lou')?.friendView?.status).toBe('offline');
  });

  it('decides page sharing inside the update script from the cached settings, asking for them when missing', async () => {
    const page = { url: 'https://docs.github.com/x', title: 'X', domain: 'github.com', host: 'docs.github.com' };
    expect(await store.update({ userId: 'cat', connectionId: 'c1', now: t0, page })).toEqual({ kind: 'need-context' });
    expect((await store.connectionsOf(['cat'])).size).toBe(0);
    await open(store, 'cat', 'c1', t0);
    await client.del(new RedisKeys((store as unknown as { keys: RedisKeys }).keys.prefix).context('cat'));

    const ctx = context('cat', [], 'default_none', ['docs.github.com']);
    const allowed = await store.update({ userId: 'cat', connectionId: 'c1', now: t0, page, context: ctx });
    expect(allowed.kind === 'applied' && allowed.change?.record.friendView.page).toEqual({
      url: page.url,
      title: 'X',
      domain: 'github.com',
    });
    // allowing docs.github.com shares it and its subdomains, never a sibling
    const sibling = { url: 'https://gist.github.com/', title: 'G', domain: 'github.com', host: 'gist.github.com' };
    const denied = await store.update({ userId: 'cat', connectionId: 'c1', now: t0 + 1, page: sibling });
    expect(denied.kind === 'applied' && denied.change?.record.friendView.page).toEqual({
      url: '',
      title: '',
      domain: '',
    });
  });

  it('reads and finds connections of users spread over many slots in one round trip', async () => {
    const users = Array.from({ length: 40 }, (_, i) => `spread${i}`);
    expect(new Set(users.map(shardOf)).size).toBeGreaterThan(20);
    for (const u of users) await open(store, u, `${u}c`, t0);
    await store.saveContexts(users.map((u) => context(u, ['zed'])));

    const conns = await store.connectionsOf(users);
    const snapshots = await store.readMany(users);

    expect([...conns.keys()].sort()).toEqual([...users].sort());
    expect([...snapshots.values()].every((s) => s.friendView?.status === 'online')).toBe(true);
    expect((await store.readSelf('spread3')).context?.friendIds).toEqual(['zed']);
  });

  it('sweeps every shard: expiry, grace, and claims that two sweepers never share', async () => {
    const users = Array.from({ length: 30 }, (_, i) => `sw${i}`);
    for (const u of users) await open(store, u, `${u}x`, t0);
    await store.saveContexts(users.map((u) => context(u, [])));
    const later = t0 + 91_000;

    const claimsA = await Promise.all(
      Array.from({ length: SHARD_COUNT }, (_, s) => store.claim(s, later, 30_000, 100)),
    );
    const claimsB = await Promise.all(
      Array.from({ length: SHARD_COUNT }, (_, s) => store.claim(s, later, 30_000, 100)),
    );
    const claimedA = claimsA.flatMap((c) => c.members).filter((m) => m.includes(':sw'));
    expect(claimedA).toHaveLength(30);
    expect(claimsB.flatMap((c) => c.members).filter((m) => m.includes(':sw'))).toEqual([]);

    const commits = await Promise.all(claimsA.map((c) => store.commit(c, later)));
    const reaped = commits.flatMap((c) => c.reaped).filter((r) => r.userId.startsWith('sw'));
    expect(reaped).toHaveLength(30);
    // Re-committing the same claim does nothing: the lease is spent.
    expect((await Promise.all(claimsA.map((c) => store.commit(c, later)))).flatMap((c) => c.reaped)).toEqual([]);

    const afterGrace = later + 10_001;
    const graceClaims = await Promise.all(
      Array.from({ length: SHARD_COUNT }, (_, s) => store.claim(s, afterGrace, 30_000, 100)),
    );
    const graceCommits = await Promise.all(graceClaims.map((c) => store.commit(c, afterGrace)));
    const offline = graceCommits.flatMap((c) => c.changedUsers).filter((u) => u.startsWith('sw'));
    expect(offline).toHaveLength(30);
    const snapshots = await store.readMany(users);
    expect([...snapshots.values()].every((s) => s.friendView?.status === 'offline')).toBe(true);
  });

  it('rate-limits a connection with a token bucket kept in its record', async () => {
    await open(store, 'rat', 'r1', t0);
    const kinds = [];
    for (let i = 0; i < 25; i += 1)
      kinds.push((await store.touch({ userId: 'rat', connectionId: 'r1', now: t0 })).kind);
    expect(kinds.filter((k) => k === 'ok')).toHaveLength(20);
    expect((await store.touch({ userId: 'rat', connectionId: 'r1', now: t0 + 1000 })).kind).toBe('ok');
  });
});
