// Group rules with in-memory fakes of the ports: the REST snapshot, subscribe's checks, and the group fan-out.
import { DeliveryService } from '../../src/layer/delivery/deliverer';
import { getGroupPresence } from '../../src/layer/presence/groups';
import { subscribe } from '../../src/layer/presence/subscribe';
import type { PendingChange, PresenceSnapshot, UserContext, View } from '../../src/layer/presence/model';
import type { PresenceDeps, PresenceStore, TargetConnection } from '../../src/layer/presence/ports';
import { ForbiddenError, ValidationError } from '../../src/layer/shared/errors';
import { fakeGroups, group } from '../support/fake-groups';

const view = (status: View['status'], url = ''): View => ({
  status,
  page: { url, title: url ? 'T' : '', domain: url ? 'example.com' : '' },
  message: '',
  activity: url ? { doc: 'plan' } : null,
});
const snapshot = (v: View): PresenceSnapshot => ({
  friendView: v,
  ownView: v,
  lastSeen: 5,
  publicLastSeen: 5,
  latestPage: v.page.url ? v.page : null,
  v: 9,
});
const ctx = (userId: string, friendIds: string[], groupIds: string[] = []): UserContext => ({
  userId,
  settings: { shareMode: 'default_all', domains: [] },
  friendIds,
  info: new Map(),
  groupIds,
});
const log = { warn: () => undefined, error: () => undefined, debug: () => undefined };

function deps(groups: ReturnType<typeof fakeGroups>, store: Partial<PresenceStore> = {}) {
  const sent: unknown[] = [];
  const subscribed: unknown[] = [];
  const d: PresenceDeps = {
    store: {
      readMany: async (ids: readonly string[]) =>
        new Map(
          ids.map((id) => [
            id,
            snapshot(
              id === 'bob'
                ? view('online', 'https://example.com/b')
                : id === 'dan'
                  ? view('busy', 'https://x.io/')
                  : view('offline'),
            ),
          ]),
        ),
      subscribe: async (input: unknown) => {
        subscribed.push(input);
        return { kind: 'ok', previousGroups: ['old'], batch: true, connectedAt: 7 };
      },
      ...store,
    } as unknown as PresenceStore,
    directory: { loadContexts: async (ids) => new Map(ids.map((id) => [id, ctx(id, ['bob'])])) },
    gateway: { post: async () => 'sent', close: async () => undefined },
    deliverer: {
      deliverChanges: jest.fn(),
      sendTo: async (_e, target) => {
        sent.push(target.message);
      },
      close: jest.fn(),
      drain: jest.fn(),
    },
    groups: groups.deps,
    clock: () => 1,
    log,
  };
  return { deps: d, sent, subscribed };
}

describe('group presence (REST)', () => {
  it('shows friends in full, other members at status level, and counts those not offline', async () => {
    const g = fakeGroups([group('g', ['ann', 'bob', 'dan', 'eve'])]);

    const result = await getGroupPresence(deps(g).deps, 'ann', 'g');

    expect(result.online).toBe(2);
    expect(result.members.find((m) => m.userId === 'bob')).toMatchObject({ page: { url: 'https://example.com/b' } });
    expect(result.members.find((m) => m.userId === 'dan')).toMatchObject({
      status: 'busy',
      page: null,
      latestPage: null,
      activity: null,
    });
    expect(Object.keys(result.userInfoMap)).toEqual(['ann', 'bob', 'dan', 'eve']);
    // loaded once, then served from the cache
    await getGroupPresence(deps(g).deps, 'ann', 'g');
    expect(g.counters.queries).toBe(1);
  });

  it('is forbidden to non-members and for unknown groups, which are cached as unknown', async () => {
    const g = fakeGroups([group('g', ['ann'])]);
    await expect(getGroupPresence(deps(g).deps, 'zed', 'g')).rejects.toThrow(ForbiddenError);
    await expect(getGroupPresence(deps(g).deps, 'ann', 'nope')).rejects.toThrow('Forbidden access to group presence');
    expect(g.cache.get('nope')).toBe('unknown');
  });
});

describe('subscribe with groups', () => {
  it('indexes the connection in the new groups and removes it from the ones left', async () => {
    const g = fakeGroups([group('g', ['ann']), group('h', ['ann'])]);
    const { deps: d, sent } = deps(g);

    const reply = await subscribe(d, {
      userId: 'ann',
      connectionId: 'c1',
      endpoint: 'e',
      groups: ['g', 'h'],
      maxGroups: 2,
    });

    expect(reply).toEqual({ type: 'subscribed', detail: 'full', groups: ['g', 'h'] });
    expect(sent).toEqual([reply]);
    expect(g.subscribers.get('g')?.get('c1')).toEqual({
      ownerId: 'ann',
      connectionId: 'c1',
      batch: true,
      connectedAt: 7,
    });
  });

  it('refuses more groups than allowed and groups of others before changing anything', async () => {
    const g = fakeGroups([group('g', ['ann']), group('other', ['bob'])]);
    const { deps: d, subscribed } = deps(g);

    await expect(
      subscribe(d, { userId: 'ann', connectionId: 'c1', endpoint: 'e', groups: ['g', 'other', 'x'], maxGroups: 2 }),
    ).rejects.toThrow(new ValidationError('groups must list at most 2 groups'));
    await expect(
      subscribe(d, { userId: 'ann', connectionId: 'c1', endpoint: 'e', groups: ['g', 'other'], maxGroups: 2 }),
    ).rejects.toThrow(new ForbiddenError('Not a member of group "other"'));
    expect(subscribed).toEqual([]);
    expect(g.subscribers.size).toBe(0);
  });
});

describe('group fan-out', () => {
  function delivery(g: ReturnType<typeof fakeGroups>, targets: Record<string, TargetConnection[]> = {}) {
    const posts: { connectionId: string; body: Record<string, unknown> }[] = [];
    const service = new DeliveryService(
      {
        store: {
          connectionsOf: async (ids: readonly string[]) =>
            new Map(ids.filter((id) => targets[id]).map((id) => [id, targets[id] ?? []])),
        } as unknown as PresenceStore,
        directory: { loadContexts: async () => new Map() },
        outbox: {
          shardCount: 1,
          shardOf: () => 0,
          claimOutbox: async () => [],
          claimMail: async () => [],
          ackMail: async () => undefined,
          settle: async () => undefined,
        },
        gateway: {
          post: async (_e, connectionId, payload) => {
            posts.push({ connectionId, body: JSON.parse(payload) as Record<string, unknown> });
            return 'sent';
          },
          close: async () => undefined,
        },
        cap: { acquire: async (n) => ({ granted: n, retryInMs: 0 }), throttled: async () => undefined },
        queue: { notify: async () => undefined },
        events: { publish: async () => undefined },
        groups: g.deps,
        clock: () => 1,
        log,
      },
      {
        concurrency: 2,
        connectWindowMs: 0,
        retryBaseMs: 1,
        retryMaxMs: 1,
        maxBatchBytes: 32 * 1024,
        leaseMs: 1,
        claimLimit: 10,
      },
    );
    return { service, posts };
  }
  const change = (statusChanged: boolean): PendingChange => ({
    record: {
      userId: 'ann',
      v: 50,
      friendView: view('busy', 'https://example.com/p'),
      ownView: view('busy', 'https://example.com/p'),
      friendsChanged: true,
      ownChanged: false,
      statusChanged,
      actor: 'a1',
      lastSeen: 1,
      publicLastSeen: 1,
      latestPage: { url: 'https://example.com/p', title: 'T', domain: 'example.com' },
      events: [],
    },
    friendIds: ['bob'],
    groupIds: ['g', 'h'],
  });

  it('tells non-friend followers of the user groups once, at status level, loading an uncached group once', async () => {
    const g = fakeGroups([group('g', ['ann', 'bob', 'dan']), group('h', ['ann', 'dan'])]);
    await g.deps.store.index({ ownerId: 'dan', connectionId: 'd1', batch: false, connectedAt: 0 }, ['g', 'h'], []);
    await g.deps.store.index({ ownerId: 'bob', connectionId: 'b9', batch: false, connectedAt: 0 }, ['g'], []);
    const { service, posts } = delivery(g, {
      bob: [{ connectionId: 'b1', detail: 'full', batch: false, connectedAt: 0, groups: [] }],
    });

    await service.deliverChanges('e', [change(true)]);

    const toDan = posts.filter((p) => p.connectionId === 'd1');
    expect(toDan).toEqual([
      {
        connectionId: 'd1',
        body: expect.objectContaining({ userId: 'ann', status: 'busy', url: '', latestUrl: '', activity: null, v: 50 }),
      },
    ]);
    // bob is a friend: told through his friend connections only
    expect(posts.filter((p) => p.connectionId === 'b9')).toEqual([]);
    expect(g.counters.queries).toBe(1);
  });

  it('does not tell group followers of a page-only change', async () => {
    const g = fakeGroups([group('g', ['ann', 'dan'])]);
    await g.deps.store.saveGroups([group('g', ['ann', 'dan'])], []);
    await g.deps.store.index({ ownerId: 'dan', connectionId: 'd1', batch: false, connectedAt: 0 }, ['g'], []);
    const { service, posts } = delivery(g);

    await service.deliverChanges('e', [change(false)]);

    expect(posts).toEqual([]);
    expect(g.counters.probes).toBe(0);
  });
});
