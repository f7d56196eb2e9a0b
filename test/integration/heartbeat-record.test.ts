// The heartbeat's part of a connection record (the numbers in front of it) as every other script reads it: liveness
// and the sweep, the rate limit, authorization, revival, and records written in the old layout (JSON only).
import type { Cluster, Redis } from 'ioredis';
import { RedisExecutor, createRedisClient } from '../../src/layer/adapters/redis/client';
import { RedisKeys, shardOf } from '../../src/layer/adapters/redis/keys';
import { RedisPresenceStore } from '../../src/layer/adapters/redis/presence-store';
import { deleteKeysWithPrefix } from '../support/redis-cleanup';
import { REDIS_TARGETS, STORE_SETTINGS, connectInput, uniquePrefix } from '../support/stores';

const settings = STORE_SETTINGS;
const t0 = 1_800_000_000_000;

describe.each(REDIS_TARGETS)('heartbeats on %s', (_name, url, mode) => {
  let client: Redis | Cluster;
  let store: RedisPresenceStore;
  const prefix = uniquePrefix();
  const keys = new RedisKeys(prefix);

  beforeAll(async () => {
    client = createRedisClient({ url: url(), mode, timeoutMs: 2000 });
    store = new RedisPresenceStore(new RedisExecutor(client, 2000), keys, settings);
    await store.markFresh();
  });
  afterAll(async () => {
    client.disconnect();
    await deleteKeysWithPrefix({ url: url(), mode }, prefix);
  });

  const open = (userId: string, connectionId: string, now: number, authorizedUntil = 0) =>
    store.connect(connectInput(userId, connectionId, now, { authorizedUntil }));
  const beat = (userId: string, connectionId: string, now: number, extra: object = {}) =>
    store.touch({ userId, connectionId, now, ...extra });
  /** One sweep of the user's shard at `now`: what it claimed and reaped of this user. */
  const sweep = async (userId: string, now: number) => {
    const claim = await store.claim(shardOf(userId), now, 5_000, 1000);
    const commit = await store.commit(claim, now);
    return {
      claimed: claim.members.filter((m) => m.endsWith(`:${userId}`)),
      reaped: commit.reaped.filter((r) => r.userId === userId).map((r) => r.reason),
    };
  };
  const record = async (userId: string, connectionId: string) =>
    (await client.hget(keys.conns(userId), connectionId)) as string;
  /** The numbers in front of a record (`a,hb,hi,tk,tr,rn,x,iu,id,ix,rs`). */
  const numbersOf = (raw: string) => raw.slice(0, raw.indexOf('|')).split(',');
  /** A record's rs: '1' when its heartbeats must look at the user's state for a resync. */
  const rsOf = async (userId: string, connectionId: string) => numbersOf(await record(userId, connectionId))[10];

  it('keeps a connection that heartbeats alive without the sweep ever seeing it, and reaps it when they stop', async () => {
    // Arrange
    await open('hana', 'h1', t0);
    const claimed: string[] = [];
    // Act: a heartbeat every 30 s for five minutes, a sweep every 10 s
    for (let t = 10_000; t <= 300_000; t += 10_000) {
      if (t % 30_000 === 0) expect((await beat('hana', 'h1', t0 + t)).kind).toBe('ok');
      const swept = await sweep('hana', t0 + t);
      expect(swept.reaped).toEqual([]);
      claimed.push(...swept.claimed);
    }
    // Assert: the index stayed ahead of the sweep; the connection expires 90 s after its last heartbeat
    expect(claimed).toEqual([]);
    expect((await sweep('hana', t0 + 389_000)).reaped).toEqual([]);
    expect((await sweep('hana', t0 + 391_000)).reaped).toEqual(['expired']);
    expect((await store.connectionsOf(['hana'])).size).toBe(0);
  });

  it('keeps learning a one-minute heartbeat from the beats when updates come in between (PageNow: 2.5 intervals)', async () => {
    // Arrange: PageNow's extension beats once a minute from an alarm and sends update-presence on tab switches
    await open('pia', 'p1', t0);
    // Act: five minutes of a page switch 10 s before every beat
    for (let t = 60_000; t <= 300_000; t += 60_000) {
      await store.update({
        userId: 'pia',
        connectionId: 'p1',
        now: t0 + t - 10_000,
        page: undefined,
        status: 'online',
      });
      expect((await beat('pia', 'p1', t0 + t)).kind).toBe('ok');
    }
    // Assert: the connection lives 2.5 x 60 s after its last beat, so one late alarm does not take the user offline
    expect((await sweep('pia', t0 + 300_000 + 149_000)).reaped).toEqual([]);
    expect((await sweep('pia', t0 + 300_000 + 151_000)).reaped).toEqual(['expired']);
  });

  it('lets the expiry index lag behind a heartbeat: the sweep finds the connection alive and indexes it again', async () => {
    // Arrange: a heartbeat soon after connecting moves the expiry by 10 s only, so the index still says t0 + 90 s
    await open('ivo', 'i1', t0);
    expect((await beat('ivo', 'i1', t0 + 10_000)).kind).toBe('ok');
    // Act
    const due = await sweep('ivo', t0 + 91_000);
    const early = await sweep('ivo', t0 + 99_000);
    const late = await sweep('ivo', t0 + 101_000);
    // Assert: claimed at the old deadline but kept (alive until t0 + 10 s + 90 s), then reaped on time
    expect(due).toEqual({ claimed: ['c:i1:ivo'], reaped: [] });
    expect(early).toEqual({ claimed: [], reaped: [] });
    expect(late).toEqual({ claimed: ['c:i1:ivo'], reaped: ['expired'] });
  });

  it('measures the heartbeat interval: a connection heartbeating every 60 s outlives the 90 s timeout', async () => {
    await open('jun', 'j1', t0);
    for (const t of [60_000, 120_000, 180_000]) {
      expect((await beat('jun', 'j1', t0 + t)).kind).toBe('ok');
      expect((await sweep('jun', t0 + t + 59_000)).reaped).toEqual([]);
    }
    // 2.5 intervals of 60 s after the last heartbeat
    expect((await sweep('jun', t0 + 180_000 + 149_000)).reaped).toEqual([]);
    expect((await sweep('jun', t0 + 180_000 + 151_000)).reaped).toEqual(['expired']);
  });

  it('rate-limits heartbeats and updates from one bucket, telling the client once a second', async () => {
    await open('kai', 'k1', t0);
    const kinds = [];
    for (let i = 0; i < 20; i += 1) kinds.push((await beat('kai', 'k1', t0 + 1)).kind);
    expect(kinds.every((k) => k === 'ok')).toBe(true);
    expect(await beat('kai', 'k1', t0 + 2)).toEqual({ kind: 'rate-limited', notify: true });
    expect(await beat('kai', 'k1', t0 + 3)).toEqual({ kind: 'rate-limited', notify: false });
    expect(await store.update({ userId: 'kai', connectionId: 'k1', now: t0 + 4, status: 'busy' })).toEqual({
      kind: 'rate-limited',
      notify: false,
    });
    expect(await beat('kai', 'k1', t0 + 1003)).toEqual({ kind: 'ok' });
  });

  it('charges the bucket for a countOnly heartbeat without extending liveness', async () => {
    await open('lea', 'l1', t0);
    for (let i = 0; i < 20; i += 1) expect((await beat('lea', 'l1', t0 + 80_000, { countOnly: true })).kind).toBe('ok');
    expect((await beat('lea', 'l1', t0 + 80_000)).kind).toBe('rate-limited');
    expect((await sweep('lea', t0 + 91_000)).reaped).toEqual(['expired']);
    // a countOnly heartbeat of an unknown connection does not bring it back
    expect(await beat('lea', 'l1', t0 + 92_000, { countOnly: true })).toEqual({ kind: 'ok' });
    expect((await store.connectionsOf(['lea'])).size).toBe(0);
  });

  it("answers expired past the token's end, and keeps a renewed token's end", async () => {
    // Arrange: two connections on a token that ends at t0 + 1 s, both heartbeating while it is in its grace time
    await open('mia', 'm1', t0, t0 + 1000);
    await open('mia', 'm2', t0, t0 + 1000);
    expect((await beat('mia', 'm1', t0 + 250_000)).kind).toBe('ok');
    expect((await beat('mia', 'm2', t0 + 250_000)).kind).toBe('ok');
    const past = t0 + 1000 + settings.authGraceMs + 1;
    // Act / Assert: past the grace: expired, until a heartbeat brings a renewed token
    expect(await beat('mia', 'm1', past)).toEqual({ kind: 'expired' });
    expect(await beat('mia', 'm1', past, { authorizedUntil: t0 + 3_600_000 })).toEqual({ kind: 'ok' });
    expect(await beat('mia', 'm1', past + 1)).toEqual({ kind: 'ok' });
    expect((await sweep('mia', past + 1000)).reaped).toEqual(['token']);
    expect((await store.connectionsOf(['mia'])).get('mia')?.map((c) => c.connectionId)).toEqual(['m1']);
  });

  it('brings back a connection Redis does not know, and then heartbeats it as any other', async () => {
    // Arrange: reaped in a race with its own heartbeat
    await open('noa', 'n1', t0);
    await client.hdel(keys.conns('noa'), 'n1');
    await client.zrem(keys.expiry(shardOf('noa')), 'c:n1:noa');
    // Act
    const revived = await beat('noa', 'n1', t0 + 1000);
    // Assert
    expect(revived.kind).toBe('applied');
    expect((await store.connectionsOf(['noa'])).get('noa')?.map((c) => c.connectionId)).toEqual(['n1']);
    expect(await beat('noa', 'n1', t0 + 31_000)).toEqual({ kind: 'ok' });
    expect((await sweep('noa', t0 + 120_000)).reaped).toEqual([]);
    expect((await sweep('noa', t0 + 122_000)).reaped).toEqual(['expired']);
  });

  describe("while the user's standing choice is unknown (their state was lost)", () => {
    it('reads the state only on heartbeats whose record says the choice may be unknown', async () => {
      // Arrange: a connection whose user's choice is known, so its record says rs 0
      await open('rae', 'r1', t0);
      expect(await rsOf('rae', 'r1')).toBe('0');
      // Act: the state says unknown without any script having said so (no script does that: see the next tests)
      await client.hset(keys.state('rae'), 'ch', '?');
      // Assert: the heartbeat did not look
      expect(await beat('rae', 'r1', t0 + 1000)).toEqual({ kind: 'ok' });
    });

    it('asks every connection of the user for a resync once an update finds the choice unknown, until a status', async () => {
      // Arrange: two connections, then the user's state is lost but not their connections
      await open('rio', 'r1', t0);
      await open('rio', 'r2', t0);
      await client.del(keys.state('rio'));
      expect(await beat('rio', 'r2', t0 + 1000)).toEqual({ kind: 'ok' });
      // Act: an update without a status on the first connection finds the choice unknown
      const updated = await store.update({ userId: 'rio', connectionId: 'r1', now: t0 + 2000, message: 'lunch' });
      // Assert: both connections' heartbeats ask for a resync, until the client resends a status
      expect(updated.kind === 'applied' && updated.resync).toBe(true);
      expect(await rsOf('rio', 'r2')).toBe('1');
      expect(await beat('rio', 'r2', t0 + 3000)).toEqual({ kind: 'resync' });
      expect(await beat('rio', 'r1', t0 + 3000)).toEqual({ kind: 'resync' });
      await store.update({ userId: 'rio', connectionId: 'r1', now: t0 + 4000, status: 'online' });
      expect(await rsOf('rio', 'r1')).toBe('0');
      expect(await beat('rio', 'r2', t0 + 5000)).toEqual({ kind: 'ok' });
      // the heartbeat that found the choice known again stops looking
      expect(await rsOf('rio', 'r2')).toBe('0');
      expect(await beat('rio', 'r1', t0 + 5000)).toEqual({ kind: 'ok' });
    });

    it('asks the other connections too when a heartbeat brings back a connection of a user whose state is lost', async () => {
      // Arrange
      await open('sol', 's1', t0);
      await open('sol', 's2', t0);
      await client.hdel(keys.conns('sol'), 's1');
      await client.del(keys.state('sol'));
      // Act
      const revived = await beat('sol', 's1', t0 + 1000);
      // Assert
      expect(revived.kind === 'applied' && revived.resync).toBe(true);
      expect(await beat('sol', 's2', t0 + 2000)).toEqual({ kind: 'resync' });
      expect(await beat('sol', 's1', t0 + 2000)).toEqual({ kind: 'resync' });
    });

    it('asks the other connections too when a new connection finds the choice unknown (a shard that lost its data)', async () => {
      // Arrange: the user's state is gone and their shard carries no mark
      const shardKey = keys.shard(shardOf('tao'));
      await open('tao', 't1', t0);
      await client.del(keys.state('tao'));
      await client.hdel(shardKey, 'f');
      try {
        // Act
        const opened = await open('tao', 't2', t0 + 1000);
        // Assert
        expect(opened.kind === 'applied' && opened.resync).toBe(true);
        expect(await beat('tao', 't1', t0 + 2000)).toEqual({ kind: 'resync' });
        expect(await beat('tao', 't2', t0 + 2000)).toEqual({ kind: 'resync' });
      } finally {
        await client.hset(shardKey, 'f', 'fresh');
      }
    });
  });

  describe('a record written before rs was added (ten numbers in front)', () => {
    /** Rewrites the connection's record without its rs. */
    const dropRs = async (userId: string, connectionId: string) => {
      const raw = await record(userId, connectionId);
      const numbers = numbersOf(raw);
      expect(numbers).toHaveLength(11);
      await client.hset(keys.conns(userId), connectionId, numbers.slice(0, 10).join(',') + raw.slice(raw.indexOf('|')));
    };

    it('is read as one whose heartbeats must look at the state, and converted by its first heartbeat', async () => {
      // Arrange: written by the previous version while the user's choice was unknown
      await open('uma', 'u1', t0);
      await open('uma', 'u2', t0);
      await dropRs('uma', 'u1');
      await dropRs('uma', 'u2');
      await client.hset(keys.state('uma'), 'ch', '?');
      // Act / Assert: read by the other scripts as it is
      const ids = (await store.connectionsOf(['uma'])).get('uma')?.map((c) => c.connectionId);
      expect(ids?.sort()).toEqual(['u1', 'u2']);
      expect((await sweep('uma', t0 + 89_000)).reaped).toEqual([]);
      // its heartbeat looks at the state, and writes the current layout
      expect(await beat('uma', 'u1', t0 + 1000)).toEqual({ kind: 'resync' });
      expect(numbersOf(await record('uma', 'u1'))).toHaveLength(11);
      expect(await rsOf('uma', 'u1')).toBe('1');
      await store.update({ userId: 'uma', connectionId: 'u1', now: t0 + 2000, status: 'busy' });
      expect(await beat('uma', 'u2', t0 + 3000)).toEqual({ kind: 'ok' });
      expect(await rsOf('uma', 'u2')).toBe('0');
      expect(await beat('uma', 'u1', t0 + 3000)).toEqual({ kind: 'ok' });
      // liveness as before: 90 s after the last heartbeat
      expect((await sweep('uma', t0 + 3000 + 89_000)).reaped).toEqual([]);
      expect((await sweep('uma', t0 + 3000 + 91_000)).reaped).toEqual(['expired', 'expired']);
    });
  });

  describe('a record written before the heartbeat fields moved in front (JSON only)', () => {
    /** Replaces the connection's record with one in the old layout, indexed at its expiry. */
    const writeOldRecord = async (userId: string, connectionId: string, fields: object) => {
      const r = {
        s: 'online',
        u: '',
        t: '',
        d: '',
        h: '',
        act: '',
        ts: 0,
        a: t0,
        hb: t0,
        hi: 0,
        e: t0 + 90_000,
        c: t0,
        tk: 20,
        tr: t0,
        rn: 0,
        q: -1,
        dt: 's',
        bt: 1,
        x: 0,
        iu: t0,
        id: 0,
        ...fields,
      };
      await client.hset(keys.conns(userId), connectionId, JSON.stringify(r));
      await client.zadd(keys.expiry(shardOf(userId)), r.e, `c:${connectionId}:${userId}`);
    };

    it('is read by every script and converted by its first heartbeat, keeping its interval', async () => {
      // Arrange: a connection that heartbeats every 60 s, so it lives 150 s after its last activity
      await open('ola', 'o1', t0);
      await writeOldRecord('ola', 'o1', { a: t0 + 1000, hb: t0 + 1000, hi: 60_000, e: t0 + 151_000 });
      // Act / Assert: read as it is
      expect((await store.connectionsOf(['ola'])).get('ola')).toEqual([
        { connectionId: 'o1', detail: 'status', batch: true, connectedAt: t0, groups: [] },
      ]);
      expect((await store.readSelf('ola')).snapshot.lastSeen).toBeGreaterThanOrEqual(t0 + 1000);
      expect((await sweep('ola', t0 + 100_000)).reaped).toEqual([]);
      // converted by a heartbeat: the numbers in front, the rest as JSON, nothing lost
      expect(await beat('ola', 'o1', t0 + 61_000)).toEqual({ kind: 'ok' });
      const raw = await record('ola', 'o1');
      expect(raw.startsWith('{')).toBe(false);
      const json = JSON.parse(raw.slice(raw.indexOf('|') + 1)) as Record<string, unknown>;
      expect(json).toMatchObject({ s: 'online', c: t0, dt: 's', bt: 1 });
      expect(Object.keys(json)).not.toEqual(expect.arrayContaining(['a']));
      expect((await store.readSelf('ola')).snapshot.lastSeen).toBe(t0 + 61_000);
      expect((await store.connectionsOf(['ola'])).get('ola')?.[0]).toMatchObject({ detail: 'status', batch: true });
      // 2.5 x 60 s after the last heartbeat
      expect((await sweep('ola', t0 + 61_000 + 149_000)).reaped).toEqual([]);
      expect((await sweep('ola', t0 + 61_000 + 151_000)).reaped).toEqual(['expired']);
    });

    it('keeps its rate-limit bucket', async () => {
      await open('pia', 'p1', t0);
      await writeOldRecord('pia', 'p1', { tk: 0.5, tr: t0 });
      expect(await beat('pia', 'p1', t0)).toEqual({ kind: 'rate-limited', notify: true });
      expect(await beat('pia', 'p1', t0 + 100)).toEqual({ kind: 'ok' });
    });

    it('is reaped by the sweep when it expires without a heartbeat, and removed by a close', async () => {
      await open('quinn', 'q1', t0);
      await open('quinn', 'q2', t0);
      await writeOldRecord('quinn', 'q1', {});
      await writeOldRecord('quinn', 'q2', { a: t0 + 50_000, e: t0 + 140_000 });
      expect((await sweep('quinn', t0 + 91_000)).reaped).toEqual(['expired']);
      const removed = await store.remove({ userId: 'quinn', connectionId: 'q2', now: t0 + 92_000 });
      expect(removed.kind).toBe('removed');
      expect((await store.readSelf('quinn')).snapshot.lastSeen).toBe(t0 + 50_000);
    });
  });
});
