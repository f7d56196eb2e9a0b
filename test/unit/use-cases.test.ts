// Use cases against small in-memory fakes of the ports: orchestration, caching, fan-out rules, sweep resilience.
import { announce } from '../../src/layer/presence/announce';
import { connectUser } from '../../src/layer/presence/connect';
import { disconnect } from '../../src/layer/presence/disconnect';
import { getUserPresence } from '../../src/layer/presence/get-presence';
import { updatePresence } from '../../src/layer/presence/update-presence';
import { sweepOnce } from '../../src/layer/presence/sweep';
import type { PresenceChange, PresenceSnapshot, UserContext, View } from '../../src/layer/presence/model';
import { OFFLINE_VIEW } from '../../src/layer/presence/model';
import type { PresenceDeps, PresenceStore, SweepClaim } from '../../src/layer/presence/ports';
import { createLimiter } from '../../src/layer/shared/async';
import { ForbiddenError, RateLimitedError } from '../../src/layer/shared/errors';

const online: View = { status: 'online', page: { url: '', title: '', domain: '' }, message: '' };
const snapshot: PresenceSnapshot = { friendView: online, ownView: online, lastSeen: 1, publicLastSeen: 1, latestPage: null };
const change = (over: Partial<PresenceChange> = {}): PresenceChange => ({
  userId: 'ann',
  friendView: online,
  ownView: null,
  snapshot,
  friendIds: ['ben'],
  ownConnectionIds: [],
  ...over,
});
const ctx = (userId: string, friendIds: string[]): UserContext => ({
  userId,
  settings: { shareMode: 'default_all', domains: [] },
  friendIds,
  info: {},
});

/** A store whose every method fails unless a test provides it. */
function fakeStore(over: Partial<PresenceStore>): PresenceStore & { calls: string[] } {
  const calls: string[] = [];
  const unexpected = (name: string) => async () => {
    throw new Error(`unexpected store call ${name}`);
  };
  const base = {
    shardCount: 4,
    connect: unexpected('connect'),
    touch: unexpected('touch'),
    update: unexpected('update'),
    remove: unexpected('remove'),
    connectionsOf: async () => new Map(),
    readSelf: unexpected('readSelf'),
    readMany: unexpected('readMany'),
    saveContexts: unexpected('saveContexts'),
    claim: unexpected('claim'),
    commit: unexpected('commit'),
  } as unknown as PresenceStore;
  const store = { ...base, ...over } as PresenceStore;
  return new Proxy(Object.assign(store, { calls }), {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value === 'function' && prop !== 'calls') calls.push(String(prop));
      return value;
    },
  });
}

function fakeDeps(store: PresenceStore, contexts: Record<string, UserContext> = {}) {
  const posts: { connectionId: string; message: Record<string, unknown> }[] = [];
  const closed: string[] = [];
  const gone = new Set<string>();
  const failing = new Set<string>();
  let queries = 0;
  const deps: PresenceDeps = {
    store,
    directory: {
      loadContexts: async (ids) => {
        queries += 1;
        if (contexts.__fail) throw new Error('postgres down');
        return new Map(ids.map((id) => [id, contexts[id] ?? ctx(id, [])]));
      },
    },
    gateway: {
      post: async (_endpoint, connectionId, payload) => {
        if (failing.has(connectionId)) throw new Error('boom');
        posts.push({ connectionId, message: JSON.parse(payload) });
        return gone.has(connectionId) ? 'gone' : 'sent';
      },
      close: async (_endpoint, connectionId) => {
        closed.push(connectionId);
      },
    },
    clock: () => 1000,
    fanoutConcurrency: 4,
    log: { warn: () => undefined, error: () => undefined, debug: () => undefined },
  };
  return { deps, posts, closed, gone, failing, queries: () => queries };
}

describe('announce', () => {
  it('sends the friend view to every friend connection and the own view to the other own connections', async () => {
    const store = fakeStore({ connectionsOf: async () => new Map([['ben', ['b1', 'b2']]]) });
    const { deps, posts } = fakeDeps(store);
    const own: View = { ...online, status: 'invisible' };
    await announce(deps, 'http://x', [change({ friendView: OFFLINE_VIEW, ownView: own, ownConnectionIds: ['a2'] })]);
    expect(posts).toEqual([
      { connectionId: 'b1', message: { type: 'presence-timeout', userId: 'ann', lastSeen: 1 } },
      { connectionId: 'b2', message: { type: 'presence-timeout', userId: 'ann', lastSeen: 1 } },
      { connectionId: 'a2', message: expect.objectContaining({ type: 'update-presence', status: 'invisible' }) },
    ]);
  });

  it('removes a gone connection from its owner only, deferring the announcement, and keeps going after failures', async () => {
    const removed: unknown[] = [];
    const store = fakeStore({
      connectionsOf: async () => new Map([['ben', ['b1', 'b2', 'b3']]]),
      remove: async (input) => {
        removed.push(input);
        return null;
      },
    });
    const { deps, posts, gone, failing } = fakeDeps(store);
    gone.add('b1');
    failing.add('b2');
    const stats = await announce(deps, 'http://x', [change()]);
    expect(stats).toEqual({ sent: 1, gone: 1, failed: 1 });
    expect(posts.map((p) => p.connectionId)).toEqual(['b1', 'b3']);
    expect(removed).toEqual([{ userId: 'ben', connectionId: 'b1', now: 1000, deferAnnounce: true }]);
  });
});

describe('connect', () => {
  it('loads and caches the context in the same round trip as the fan-out when it is not cached', async () => {
    let saved: readonly UserContext[] = [];
    const store = fakeStore({
      connect: async () => change({ friendIds: null }),
      connectionsOf: async (_ids, save = []) => {
        saved = save;
        return new Map([['ben', ['b1']]]);
      },
    });
    const { deps, posts, queries } = fakeDeps(store, { ann: ctx('ann', ['ben']) });
    await connectUser(deps, { userId: 'ann', connectionId: 'a1', endpoint: 'http://x' });
    expect(queries()).toBe(1);
    expect(saved.map((c) => c.userId)).toEqual(['ann']);
    expect(posts.map((p) => p.connectionId)).toEqual(['b1']);
  });
});

describe('update-presence', () => {
  it('asks the directory once when the store needs the context, then applies the update with it', async () => {
    const updates: unknown[] = [];
    const store = fakeStore({
      update: async (input) => {
        updates.push(input);
        return input.context ? { kind: 'changed', change: change() } : { kind: 'need-context' };
      },
    });
    const { deps, queries } = fakeDeps(store, { ann: ctx('ann', ['ben']) });
    await updatePresence(deps, { userId: 'ann', connectionId: 'a1', endpoint: 'http://x', url: 'https://a.com/x?q=1', title: 'A' });
    expect(queries()).toBe(1);
    expect(updates).toHaveLength(2);
    expect(updates[0]).toMatchObject({ page: { url: 'https://a.com/x', title: 'A', domain: 'a.com' } });
    expect(updates[1]).toMatchObject({ context: { userId: 'ann' } });
  });

  it('sends a page that can never be shared as null, so the store clears it', async () => {
    let seen: unknown;
    const store = fakeStore({
      update: async (input) => {
        seen = input.page;
        return { kind: 'changed', change: change({ friendView: null }) };
      },
    });
    await updatePresence(fakeDeps(store).deps, { userId: 'ann', connectionId: 'a1', endpoint: 'x', url: 'chrome://flags' });
    expect(seen).toBeNull();
  });

  it('throws RateLimitedError and notifies nobody when the connection is over its rate', async () => {
    const store = fakeStore({ update: async () => ({ kind: 'rate-limited', notify: true }) });
    const { deps, posts } = fakeDeps(store);
    await expect(updatePresence(deps, { userId: 'ann', connectionId: 'a1', endpoint: 'x', status: 'away' })).rejects.toBeInstanceOf(RateLimitedError);
    expect(posts).toEqual([]);
  });
});

describe('disconnect', () => {
  it('stays silent when nothing visible changed', async () => {
    const store = fakeStore({ remove: async () => change({ friendView: null, ownView: OFFLINE_VIEW, ownConnectionIds: [] }) });
    const { deps, posts } = fakeDeps(store);
    await disconnect(deps, { userId: 'ann', connectionId: 'a1', endpoint: 'x' });
    expect(posts).toEqual([]);
    expect(store.calls).not.toContain('connectionsOf');
  });
});

describe('get-user-presence', () => {
  it('answers 403 for a non-friend without reading their state', async () => {
    const store = fakeStore({ readSelf: async () => ({ snapshot, context: { friendIds: ['ben'], info: {} } }) });
    await expect(getUserPresence(fakeDeps(store).deps, 'ann', 'cat')).rejects.toBeInstanceOf(ForbiddenError);
    expect(store.calls).not.toContain('readMany');
  });

  it("adds PageNow's top-level url and title: the friend's shared page, empty strings when offline", async () => {
    // Arrange
    const page = { url: 'https://en.wikipedia.org/wiki/Presence', title: 'Presence - Wikipedia', domain: 'wikipedia.org' };
    const sharing: PresenceSnapshot = { ...snapshot, friendView: { ...online, page }, latestPage: page };
    const offline: PresenceSnapshot = { ...snapshot, friendView: OFFLINE_VIEW, ownView: OFFLINE_VIEW, latestPage: page };
    const store = fakeStore({
      readSelf: async () => ({ snapshot, context: { friendIds: ['ben', 'cat'], info: {} } }),
      readMany: async (ids) => new Map(ids.map((id) => [id, id === 'ben' ? sharing : offline])),
    });
    // Act
    const ben = await getUserPresence(fakeDeps(store).deps, 'ann', 'ben');
    const cat = await getUserPresence(fakeDeps(store).deps, 'ann', 'cat');
    const self = await getUserPresence(fakeDeps(store).deps, 'ann', 'ann');
    // Assert
    expect(ben).toMatchObject({ userId: 'ben', status: 'online', page, url: page.url, title: page.title });
    expect(cat).toMatchObject({ userId: 'cat', status: 'offline', page: null, latestPage: page, url: '', title: '' });
    expect(self).toMatchObject({ userId: 'ann', status: 'online', url: '', title: '' });
  });
});

describe('sweep', () => {
  const claim = (shard: number): SweepClaim => ({
    shard,
    lease: 31_000,
    members: shard === 1 ? ['c:x1:ann'] : [],
    userIds: shard === 1 ? ['ann'] : [],
    missingContexts: shard === 1 ? ['ann'] : [],
  });

  it('does not commit a batch whose friends cannot be loaded (the lease lapses and a later pass retries)', async () => {
    const store = fakeStore({ claim: async (shard) => claim(shard) });
    const { deps } = fakeDeps(store, { __fail: ctx('x', []) });
    const stats = await sweepOnce(deps, { endpoint: 'x', leaseMs: 30_000, batchSize: 10, shardConcurrency: 2 });
    expect(stats.shardErrors).toBe(1);
    expect(store.calls).not.toContain('commit');
  });

  it('keeps sweeping the other shards when one fails, and closes reaped sockets', async () => {
    const store = fakeStore({
      claim: async (shard) => {
        if (shard === 0) throw new Error('shard 0 down');
        return claim(shard);
      },
      commit: async () => ({ reaped: [{ userId: 'ann', connectionId: 'x1' }], changes: [] }),
    });
    const { deps, closed } = fakeDeps(store);
    const stats = await sweepOnce(deps, { endpoint: 'x', leaseMs: 30_000, batchSize: 10, shardConcurrency: 2 });
    expect(stats).toMatchObject({ shardErrors: 1, reaped: 1, passes: 1 });
    expect(closed).toEqual(['x1']);
  });
});

describe('update-presence with an expired friend cache', () => {
  it('loads the friend list once and still tells every friend', async () => {
    let saved: readonly UserContext[] = [];
    const store = fakeStore({
      update: async () => ({ kind: 'changed', change: change({ friendIds: null }) }),
      connectionsOf: async (_ids, save = []) => {
        saved = save;
        return new Map([['ben', ['b1']]]);
      },
    });
    const { deps, posts, queries } = fakeDeps(store, { ann: ctx('ann', ['ben']) });
    await updatePresence(deps, { userId: 'ann', connectionId: 'a1', endpoint: 'x', status: 'busy' });
    expect(queries()).toBe(1);
    expect(saved.map((c) => c.userId)).toEqual(['ann']);
    expect(posts.map((p) => p.connectionId)).toEqual(['b1']);
  });
});

describe('sweep friend lookups', () => {
  it('never runs more directory queries at once than the pool has connections', async () => {
    let inFlight = 0;
    let peak = 0;
    const store = fakeStore({
      claim: async (shard, _now, lease) => ({
        shard,
        lease,
        members: [`c:x${shard}:u${shard}`],
        userIds: [`u${shard}`],
        missingContexts: [`u${shard}`],
      }),
      commit: async () => ({ reaped: [], changes: [] }),
    });
    const { deps } = fakeDeps(store);
    deps.directory.loadContexts = async (ids) => {
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight -= 1;
      return new Map(ids.map((id) => [id, ctx(id, [])]));
    };
    await sweepOnce(deps, { endpoint: 'x', leaseMs: 1, batchSize: 10, shardConcurrency: 4, directoryConcurrency: 2 });
    expect(peak).toBe(2);
  });
});

describe('createLimiter', () => {
  it('never lets more than the limit run, even when newcomers arrive as slots free up', async () => {
    const limit = createLimiter(2);
    let running = 0;
    let peak = 0;
    const task = () =>
      limit(async () => {
        running += 1;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, 1));
        running -= 1;
      });
    const first = Array.from({ length: 5 }, task);
    await new Promise((r) => setTimeout(r, 1));
    const later = Array.from({ length: 5 }, task);
    await Promise.all([...first, ...later]);
    expect(peak).toBe(2);
    expect(running).toBe(0);
  });
});
