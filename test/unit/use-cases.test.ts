// Use cases and the delivery module against small in-memory fakes of the ports: orchestration, interest, retries.
import { DeliveryService } from '../../src/layer/delivery/deliverer';
import { planCalls } from '../../src/layer/delivery/batches';
import type { Delivery, DeliveryStore, OutboxAck } from '../../src/layer/delivery/ports';
import { connectUser } from '../../src/layer/presence/connect';
import { getUserPresence } from '../../src/layer/presence/get-presence';
import { updatePresence } from '../../src/layer/presence/update-presence';
import type { ChangeRecord, PendingChange, UserContext, View } from '../../src/layer/presence/model';
import type {
  ConnectionGateway,
  ListsAhead,
  PostOutcome,
  PresenceDeps,
  PresenceStore,
  TargetConnection,
} from '../../src/layer/presence/ports';
import { createLimiter } from '../../src/layer/shared/async';
import { ForbiddenError, RateLimitedError } from '../../src/layer/shared/errors';
import { fakeGroups } from '../support/fake-groups';

const online: View = {
  status: 'online',
  page: { url: 'https://a.example/', title: 'A', domain: 'a.example' },
  message: '',
  activity: null,
};
const record = (over: Partial<ChangeRecord> = {}): ChangeRecord => ({
  userId: 'ann',
  v: 100,
  friendView: online,
  ownView: online,
  friendsChanged: true,
  ownChanged: false,
  statusChanged: false,
  actor: 'a1',
  lastSeen: 1,
  publicLastSeen: 1,
  latestPage: null,
  events: [],
  ...over,
});
const pending = (over: Partial<ChangeRecord> = {}, friendIds: string[] | null = ['ben']): PendingChange => ({
  record: record(over),
  friendIds,
});
const target = (connectionId: string, over: Partial<TargetConnection> = {}): TargetConnection => ({
  connectionId,
  detail: 'full',
  batch: false,
  connectedAt: 0,
  groups: [],
  ...over,
});
/** ann's $connect on a1, as the connect handler passes it to the use case. */
const ANN_CONNECTS = {
  userId: 'ann',
  connectionId: 'a1',
  endpoint: 'e',
  detail: 'full',
  batch: false,
  authorizedUntil: 0,
} as const;

const ctx = (userId: string, friendIds: string[]): UserContext => ({
  userId,
  settings: { shareMode: 'default_all', domains: [] },
  friendIds,
  info: new Map(),
  groupIds: [],
});

/** A world of fakes: targets by user, a gateway with scripted outcomes, an outbox that records. */
function world(targets: Record<string, TargetConnection[]>, outcomes: Record<string, PostOutcome> = {}) {
  const posts: { connectionId: string; body: Record<string, unknown> }[] = [];
  const acks: OutboxAck[] = [];
  const mail: Delivery[] = [];
  const removed: string[] = [];
  const calls: string[] = [];
  const permits: number[] = [];
  const reported: unknown[][] = [];
  let permitLimit = Number.POSITIVE_INFINITY;
  let directoryFails = false;
  let directoryFailsFor: string | undefined;
  const directoryQueries: number[] = [];
  const cached: string[] = [];
  const store = {
    shardCount: 4,
    connectionsOf: async (ids: readonly string[]) =>
      new Map(ids.filter((id) => targets[id]).map((id) => [id, targets[id] ?? []])),
    saveContexts: async (contexts: readonly UserContext[]) => {
      cached.push(...contexts.map((c) => c.userId));
    },
    remove: async (input: { connectionId: string }) => {
      removed.push(input.connectionId);
      return { kind: 'removed', change: null } as const;
    },
  } as unknown as PresenceStore;
  const outbox: DeliveryStore = {
    shardCount: 4,
    shardOf: () => 0,
    claimOutbox: async () => [],
    claimMail: async () => [],
    ackMail: async () => undefined,
    settle: async (a, m) => {
      acks.push(...a);
      mail.push(...m);
    },
  };
  const gateway: ConnectionGateway = {
    post: async (_e, connectionId, payload) => {
      posts.push({ connectionId, body: JSON.parse(payload) as Record<string, unknown> });
      calls.push(`POST ${connectionId}`);
      return outcomes[connectionId] ?? 'sent';
    },
    close: async (_e, connectionId) => {
      calls.push(`DELETE ${connectionId}`);
    },
  };
  const delivery = new DeliveryService(
    {
      store,
      directory: {
        loadContexts: async (ids) => {
          directoryQueries.push(ids.length);
          if (directoryFails || (directoryFailsFor !== undefined && ids.includes(directoryFailsFor)))
            throw new Error('postgres down');
          return new Map(ids.map((id) => [id, ctx(id, ['ben'])]));
        },
      },
      outbox,
      gateway,
      cap: {
        acquire: async (n) => {
          permits.push(n);
          return { granted: Math.min(n, permitLimit), retryInMs: 1 };
        },
        throttled: async () => undefined,
      },
      queue: { notify: async () => undefined },
      events: { publish: async () => undefined },
      groups: fakeGroups().deps,
      clock: () => 1_000_000,
      log: { warn: () => undefined, error: () => undefined, debug: () => undefined },
      metrics: {
        delivered: (sent, failed, lagMs) => void reported.push(['delivered', sent, failed, lagMs]),
        capWaited: (calls) => void reported.push(['capWaited', calls]),
      },
    },
    {
      concurrency: 4,
      connectWindowMs: 10_000,
      retryBaseMs: 1000,
      retryMaxMs: 30_000,
      maxBatchBytes: 32 * 1024,
      leaseMs: 15_000,
      claimLimit: 100,
    },
  );
  return {
    delivery,
    store,
    outbox,
    gateway,
    posts,
    acks,
    mail,
    removed,
    calls,
    permits,
    reported,
    limitPermits: (n: number) => {
      permitLimit = n;
    },
    directoryQueries,
    cached,
    failDirectoryFor: (userId: string) => {
      directoryFailsFor = userId;
    },
    failDirectory: () => {
      directoryFails = true;
    },
  };
}

describe('delivery', () => {
  it('sends a change to every friend connection with its version, then acknowledges it', async () => {
    const w = world({ ben: [target('b1'), target('b2')] });
    await w.delivery.deliverChanges('e', [pending()]);
    expect(w.posts.map((p) => p.connectionId).sort()).toEqual(['b1', 'b2']);
    expect(w.posts[0]?.body).toMatchObject({ type: 'update-presence', userId: 'ann', v: 100 });
    expect(w.acks).toEqual([{ userId: 'ann', v: 100 }]);
    expect(w.mail).toEqual([]);
  });

  it('plans the outboxes of several shards together: one batch per connection, a failing shard left for later', async () => {
    const w = world({ ben: [target('b1', { batch: true })] });
    const byShard: Record<number, PendingChange[]> = {
      0: [pending({ userId: 'ann', v: 100 })],
      2: [pending({ userId: 'cat', v: 200 })],
    };
    const claimed: number[] = [];
    w.outbox.claimOutbox = async (shard) => {
      claimed.push(shard);
      if (shard === 1) throw new Error('node down');
      return byShard[shard] ?? [];
    };
    await expect(w.delivery.drain('e', [0, 1, 2, 3], Number.POSITIVE_INFINITY)).rejects.toThrow('node down');
    expect(claimed.sort()).toEqual([0, 1, 2, 3]);
    expect(w.posts).toHaveLength(1);
    expect(w.posts[0]?.body).toMatchObject({ type: 'presence-batch' });
    expect((w.posts[0]?.body.changes as { userId: string }[]).map((c) => c.userId).sort()).toEqual(['ann', 'cat']);
    expect(w.acks.map((a) => a.userId).sort()).toEqual(['ann', 'cat']);
  });

  it('filters page-only changes out for status-detail connections before they cost a call', async () => {
    const w = world({ ben: [target('full'), target('quiet', { detail: 'status' })] });
    await w.delivery.deliverChanges('e', [pending({ statusChanged: false })]);
    expect(w.posts.map((p) => p.connectionId)).toEqual(['full']);
    await w.delivery.deliverChanges('e', [pending({ v: 101, statusChanged: true })]);
    expect(w.posts.map((p) => p.connectionId).sort()).toEqual(['full', 'full', 'quiet'].sort());
  });

  it("tells the user's other connections, never the one that acted", async () => {
    const w = world({ ann: [target('a1'), target('a2')] });
    await w.delivery.deliverChanges('e', [pending({ friendsChanged: false, ownChanged: true, actor: 'a1' })]);
    expect(w.posts.map((p) => p.connectionId)).toEqual(['a2']);
  });

  it('keeps failed and throttled deliveries in the mailbox, removes only old gone connections', async () => {
    const w = world(
      {
        ben: [
          target('fail'),
          target('slow'),
          target('old', { connectedAt: 1 }),
          target('young', { connectedAt: 999_000 }),
        ],
      },
      { fail: 'failed', slow: 'throttled', old: 'gone', young: 'gone' },
    );
    await w.delivery.deliverChanges('e', [pending()]);
    expect(w.mail.map((d) => d.connectionId).sort()).toEqual(['fail', 'slow', 'young']);
    expect(w.removed).toEqual(['old']);
    expect(w.acks).toEqual([{ userId: 'ann', v: 100 }]);
  });

  it('leaves a change whose friend list cannot be loaded in the outbox for later (nothing lost)', async () => {
    const w = world({ ben: [target('b1')] });
    w.failDirectory();
    await w.delivery.deliverChanges('e', [pending({}, null)]);
    expect(w.posts).toEqual([]);
    expect(w.acks).toEqual([{ userId: 'ann', v: 100, retryAt: expect.any(Number) }]);
  });
});

describe('delivery of a large plan', () => {
  it('loads missing friend lists in chunks: a failing chunk waits, the others are delivered', async () => {
    // Arrange: 1,200 users changed without a cached friend list; ben (their friend) is online
    const w = world({ ben: [target('b1')] });
    const changes = Array.from({ length: 1200 }, (_, i) => pending({ userId: `u${i}`, v: 100 + i }, null));
    w.failDirectoryFor('u700');

    // Act
    await w.delivery.deliverChanges('e', changes);

    // Assert: three queries of at most 500 users; the chunk with u700 (users 500-999) waits in the outbox
    expect([...w.directoryQueries].sort((a, b) => a - b)).toEqual([200, 500, 500]);
    const waiting = w.acks.filter((a) => a.retryAt !== undefined).map((a) => a.userId);
    expect(waiting).toHaveLength(500);
    expect(waiting).toContain('u700');
    expect(waiting).not.toContain('u0');
    expect(w.posts).toHaveLength(700);
  });
});

describe('friend lists loaded ahead', () => {
  it('takes lists the caller loaded ahead instead of querying; a failed load waits; the lists are cached', async () => {
    // Arrange: ann's and cat's lists were loaded ahead (ann's load failed), dan's were not
    const w = world({ ben: [target('b1')] });
    const loadedAhead = Promise.resolve(new Map([['cat', ctx('cat', ['ben'])]]));
    const lists: ListsAhead = new Map<string, Promise<ReadonlyMap<string, UserContext> | null>>([
      ['ann', Promise.resolve(null)],
      ['cat', loadedAhead],
    ]);
    const changes = ['ann', 'cat', 'dan'].map((userId, i) => pending({ userId, v: 100 + i }, null));

    // Act
    await w.delivery.deliverChanges('e', changes, undefined, lists);

    // Assert: one query, for dan only; ann waits; cat's and dan's changes reach ben in one call each
    expect(w.directoryQueries).toEqual([1]);
    expect(w.acks.filter((a) => a.retryAt !== undefined).map((a) => a.userId)).toEqual(['ann']);
    expect(w.posts.map((p) => p.body.userId).sort()).toEqual(['cat', 'dan']);
    expect([...w.cached].sort()).toEqual(['cat', 'dan']);
  });
});

describe('delivery metrics', () => {
  it('reports posts sent and failed, the lag of the oldest change, and the calls that waited for the rate cap', async () => {
    // Arrange: b2 fails; the cap grants one call per request, so of three calls one waits
    const w = world({ ben: [target('b1'), target('b2'), target('b3')] }, { b2: 'failed' });
    w.limitPermits(1);

    // Act
    await w.delivery.deliverChanges('e', [pending({ v: 400_000 })]);

    // Assert: the clock says 1,000,000; the change posted was made at 400,000
    expect(w.reported).toEqual([
      ['capWaited', 1],
      ['delivered', 1, 1, 600_000],
    ]);
  });
});

describe('closing connections', () => {
  it('asks the rate cap for every DELETE and sends the notice before closing', async () => {
    const w = world({});
    w.limitPermits(2);
    const failures = await w.delivery.close('e', [
      { ownerId: 'ann', connectionId: 'x1', notice: { type: 'error', code: 'token_expired' } },
      { ownerId: 'ann', connectionId: 'x2' },
      { ownerId: 'ben', connectionId: 'x3' },
    ]);
    expect(failures).toBe(0);
    expect(w.calls).toEqual(['POST x1', 'DELETE x1', 'DELETE x2', 'DELETE x3']);
    // one permit for the notice, then the three DELETEs two at a time
    expect(w.permits).toEqual([1, 3, 1]);
  });
});

describe('batches', () => {
  const delivery = (from: string, v: number, batch = true, bytes = 10): Delivery => ({
    ownerId: 'ben',
    connectionId: 'b1',
    connectedAt: 0,
    batch,
    fromUserId: from,
    v,
    message: { type: 'update-presence', userId: from, v, pad: 'x'.repeat(bytes) },
  });

  it('sends one presence-batch with the newest change per user to a connection that opted in', () => {
    const calls = planCalls([delivery('a', 1), delivery('a', 2), delivery('c', 5)], 32 * 1024);
    expect(calls).toHaveLength(1);
    const body = JSON.parse(calls[0]?.body ?? '{}') as { type: string; changes: { userId: string; v: number }[] };
    expect(body.type).toBe('presence-batch');
    expect(body.changes.map((c) => [c.userId, c.v])).toEqual([
      ['a', 2],
      ['c', 5],
    ]);
  });

  it('splits batches so that none exceeds 32 KB', () => {
    const many = Array.from({ length: 40 }, (_, i) => delivery(`u${i}`, 1, true, 2000));
    const calls = planCalls(many, 32 * 1024);
    expect(calls.length).toBeGreaterThan(1);
    for (const call of calls) expect(Buffer.byteLength(call.body)).toBeLessThanOrEqual(32 * 1024);
    expect(calls.flatMap((c) => c.deliveries)).toHaveLength(40);
  });

  it('sends each change as its own message to a connection without the opt-in', () => {
    expect(planCalls([delivery('a', 1, false), delivery('c', 2, false)], 32 * 1024)).toHaveLength(2);
  });
});

describe('use cases', () => {
  const deps = (store: Partial<PresenceStore>, deliverChanges = jest.fn(async () => undefined)): PresenceDeps => ({
    store: store as PresenceStore,
    directory: { loadContexts: async (ids) => new Map(ids.map((id) => [id, ctx(id, ['ben'])])) },
    gateway: { post: async () => 'sent', close: async () => undefined },
    deliverer: {
      deliverChanges,
      sendTo: jest.fn(async () => undefined),
      close: jest.fn(async () => 0),
      drain: jest.fn(),
    },
    groups: fakeGroups().deps,
    clock: () => 1,
    log: { warn: () => undefined, error: () => undefined, debug: () => undefined },
  });

  it('connect loads the context before anything is written when it is not cached', async () => {
    const calls: unknown[] = [];
    const store = {
      connect: async (input: { context?: UserContext }) => {
        calls.push(input.context ? 'with-context' : 'without');
        return input.context
          ? ({ kind: 'applied', change: pending(), resync: false } as const)
          : ({ kind: 'need-context' } as const);
      },
    };
    const deliver = jest.fn(async () => undefined);
    await connectUser(deps(store as never, deliver), ANN_CONNECTS);
    expect(calls).toEqual(['without', 'with-context']);
    expect(deliver).toHaveBeenCalledTimes(1);
  });

  it('a failing delivery never fails the connect (the outbox keeps the change)', async () => {
    const store = { connect: async () => ({ kind: 'applied', change: pending(), resync: false }) as const };
    const deliver = jest.fn(async () => {
      throw new Error('gateway down');
    });
    await expect(connectUser(deps(store as never, deliver), ANN_CONNECTS)).resolves.toBeUndefined();
  });

  it('update-presence throws RateLimitedError and delivers nothing when the connection is over its rate', async () => {
    const deliver = jest.fn(async () => undefined);
    const store = { update: async () => ({ kind: 'rate-limited', notify: true }) as const };
    await expect(
      updatePresence(deps(store as never, deliver), {
        userId: 'ann',
        connectionId: 'a1',
        endpoint: 'e',
        url: 'https://x.example/',
      }),
    ).rejects.toBeInstanceOf(RateLimitedError);
    expect(deliver).not.toHaveBeenCalled();
  });

  it('update-presence with a stale seq changes nothing and raises nothing', async () => {
    const deliver = jest.fn(async () => undefined);
    const store = { update: async () => ({ kind: 'stale' }) as const };
    await updatePresence(deps(store as never, deliver), { userId: 'ann', connectionId: 'a1', endpoint: 'e', seq: 1 });
    expect(deliver).not.toHaveBeenCalled();
  });

  it('get-user-presence answers 403 for a non-friend without reading their state', async () => {
    const store = {
      readSelf: async () => ({ snapshot: {}, context: { friendIds: ['ben'], info: new Map() } }),
      readMany: async () => {
        throw new Error('must not read');
      },
    };
    await expect(getUserPresence(deps(store as never), 'ann', 'eve')).rejects.toBeInstanceOf(ForbiddenError);
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
