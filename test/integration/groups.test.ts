// Groups (party presence) on the real stores: membership, non-member 403, status-level presence for non-friends (REST
// and pushes), invisible members, subscriptions and their limits, membership changes within the cache time, budgets.
import type { APIGatewayProxyResult } from 'aws-lambda';
import { handler as close } from '../../src/functions/close/handler';
import { handler as connect } from '../../src/functions/connect/handler';
import { handler as getGroupPresence } from '../../src/functions/get-group-presence/handler';
import { handler as getPresence } from '../../src/functions/get-presence/handler';
import { handler as subscribe } from '../../src/functions/subscribe/handler';
import { handler as updatePresence } from '../../src/functions/update-presence/handler';
import { RedisKeys } from '../../src/layer/adapters/redis/keys';
import { getRuntime } from '../../src/layer/runtime';
import { restEvent, wsEvent } from '../../events/sample-events';
import { handlerEnvironment } from '../support/runtime-env';

type Env = Awaited<ReturnType<typeof handlerEnvironment>>;
let env: Env;
let seq = 0;
const conn = (label: string) => `${label}${(seq += 1)}Grp=`;
const open = (userId: string, id: string) => connect(wsEvent('connect', userId, id) as never);
const hangUp = (userId: string, id: string) => close(wsEvent('close', userId, id) as never);
const send = (userId: string, id: string, body: Record<string, unknown>) =>
  updatePresence(wsEvent('update-presence', userId, id, { action: 'update-presence', ...body }) as never);
const follow = (userId: string, id: string, groups: unknown) =>
  subscribe(wsEvent('heartbeat', userId, id, { action: 'subscribe', groups }) as never);
const groupRest = async (userId: string, groupId: string) => {
  const event = restEvent<any>('get-group-presence', userId);
  event.pathParameters = { groupId };
  const result = (await getGroupPresence(event as never)) as APIGatewayProxyResult;
  return { status: result.statusCode, body: JSON.parse(result.body) as Record<string, any> };
};
const member = (body: Record<string, any>, userId: string) =>
  (body.members as { userId: string }[]).find((m) => m.userId === userId) as Record<string, any>;
const repliesTo = (id: string, type: string) => env.api.messagesTo(id).filter((m) => m.type === type);

/** Redis round trips and Postgres queries (friend and group directories) made by `action`. */
async function cost(action: () => Promise<unknown>): Promise<{ roundTrips: number; queries: number }> {
  const { redis, directory, groupDirectory } = await getRuntime();
  const [rt, q] = [redis.roundTrips, directory.queries + groupDirectory.queries];
  await action();
  return { roundTrips: redis.roundTrips - rt, queries: directory.queries + groupDirectory.queries - q };
}

/** Deletes cached keys one by one (they live in different slots on a cluster). */
async function forget(keys: string[]): Promise<void> {
  const { redis } = await getRuntime();
  for (const key of keys) await redis.client.del(key);
}

async function setMembers(groupId: string, members: string[]): Promise<void> {
  await env.db.pool.query('DELETE FROM group_member_table WHERE group_id = $1', [groupId]);
  for (const [i, userId] of members.entries()) {
    await env.db.pool.query(
      `INSERT INTO group_member_table (group_id, user_id, joined_at) VALUES ($1, $2, now() + $3 * interval '1 second')`,
      [groupId, userId, i],
    );
  }
}

beforeAll(async () => {
  // GROUP_MAX_MEMBERS 3: `party` has four members, and the last to join (erin) is not served.
  env = await handlerEnvironment({
    GROUP_MAX_MEMBERS: '3',
    GROUPS_PER_CONNECTION: '2',
    FRIEND_CACHE_SECONDS: '60',
    CONNECT_WINDOW_SECONDS: '1',
  });
  await env.db.pool.query(`INSERT INTO group_table (group_id, name) VALUES ('party', 'Raid night'), ('club', 'Club')`);
  await setMembers('party', ['alice', 'bob', 'dave', 'erin']);
  await setMembers('club', ['carol', 'bob']);
});
afterAll(async () => {
  await env.close();
});
beforeEach(() => env.api.reset());

describe('GET /groups/{groupId}/presence', () => {
  it('shows friends in full, other members at status level, and counts who is online', async () => {
    const [alice1, bob1, dave1] = [conn('A'), conn('B'), conn('D')];
    await open('alice', alice1);
    await open('bob', bob1);
    await open('dave', dave1);
    await send('bob', bob1, { url: 'https://en.wikipedia.org/wiki/Party', title: 'Party', activity: { realm: 'x' } });
    await send('dave', dave1, {
      url: 'https://example.com/secret',
      title: 'Secret',
      activity: { x: 1 },
      status: 'busy',
    });

    const { status, body } = await groupRest('alice', 'party');

    expect(status).toBe(200);
    expect(body).toMatchObject({ groupId: 'party', name: 'Raid night', online: 3 });
    expect(body.members.map((m: { userId: string }) => m.userId)).toEqual(['alice', 'bob', 'dave']);
    expect(Object.keys(body.userInfoMap).sort()).toEqual(['alice', 'bob', 'dave']);
    expect(body.userInfoMap.dave).toEqual({
      user_id: 'dave',
      first_name: 'Dave',
      last_name: 'Test',
      profile_image_extension: null,
    });
    expect(member(body, 'bob')).toMatchObject({
      status: 'online',
      page: { url: 'https://en.wikipedia.org/wiki/Party', title: 'Party', domain: 'wikipedia.org' },
      activity: { realm: 'x' },
    });
    // dave is no friend of alice: status, message and lastSeen only
    expect(member(body, 'dave')).toMatchObject({ status: 'busy', page: null, latestPage: null, activity: null });
    expect(typeof member(body, 'dave').lastSeen).toBe('number');
    await Promise.all([hangUp('alice', alice1), hangUp('bob', bob1), hangUp('dave', dave1)]);
  });

  it('shows an invisible member offline and does not count them', async () => {
    const [alice1, dave1] = [conn('A'), conn('D')];
    await open('alice', alice1);
    await open('dave', dave1);
    await send('dave', dave1, { status: 'invisible' });

    const { body } = await groupRest('alice', 'party');

    expect(member(body, 'dave')).toMatchObject({ status: 'offline', page: null, message: null, activity: null });
    expect(body.online).toBe(1);
    await send('dave', dave1, { status: 'online' });
    await Promise.all([hangUp('alice', alice1), hangUp('dave', dave1)]);
  });

  it('answers 403 to a non-member, to a member beyond GROUP_MAX_MEMBERS and for an unknown group', async () => {
    for (const [userId, groupId] of [
      ['carol', 'party'],
      ['erin', 'party'],
      ['alice', 'no-such-group'],
    ] as const) {
      expect(await groupRest(userId, groupId)).toEqual({
        status: 403,
        body: { message: 'Forbidden access to group presence' },
      });
    }
  });

  it('costs 2 round trips and no query when the group and the caller are cached', async () => {
    await groupRest('alice', 'party');
    expect(await cost(() => groupRest('alice', 'party'))).toEqual({ roundTrips: 2, queries: 0 });
    const { redis } = await getRuntime();
    await redis.client.del(new RedisKeys(env.prefix).group('party'));
    // the group from Postgres (one query), cached again in the same round trip as the members' presence
    expect((await cost(() => groupRest('alice', 'party'))).queries).toBe(1);
    expect(await cost(() => groupRest('alice', 'no-such-group'))).toEqual({ roundTrips: 1, queries: 0 });
  });
});

describe('subscribe with groups', () => {
  it('pushes status-level changes of non-friend members, never a page or activity', async () => {
    const [alice1, dave1] = [conn('A'), conn('D')];
    await open('alice', alice1);
    await open('dave', dave1);
    await follow('dave', dave1, ['party']);
    expect(repliesTo(dave1, 'subscribed')).toEqual([{ type: 'subscribed', detail: 'full', groups: ['party'] }]);
    env.api.reset();

    await send('alice', alice1, { status: 'busy', url: 'https://example.com/p', title: 'P', activity: { a: 1 } });
    await send('alice', alice1, { url: 'https://example.com/q', title: 'Q' });

    expect(env.api.messagesTo(dave1)).toEqual([
      expect.objectContaining({
        type: 'update-presence',
        userId: 'alice',
        status: 'busy',
        url: '',
        title: '',
        domain: '',
        latestUrl: '',
        latestTitle: '',
        latestDomain: '',
        activity: null,
      }),
    ]);
    await send('alice', alice1, { status: 'online' });
    await Promise.all([hangUp('alice', alice1), hangUp('dave', dave1)]);
  });

  it('tells a friend who follows the group once, at their own detail', async () => {
    const [alice1, bob1] = [conn('A'), conn('B')];
    await open('alice', alice1);
    await open('bob', bob1);
    await follow('bob', bob1, ['party', 'club']);
    env.api.reset();

    await send('alice', alice1, { url: 'https://example.com/f', title: 'F', status: 'away' });

    expect(env.api.messagesTo(bob1)).toEqual([
      expect.objectContaining({ userId: 'alice', status: 'away', url: 'https://example.com/f' }),
    ]);
    await Promise.all([hangUp('alice', alice1), hangUp('bob', bob1)]);
  });

  it('announces an invisible member as offline and an online one again to group followers', async () => {
    const [alice1, dave1] = [conn('A'), conn('D')];
    await open('dave', dave1);
    await follow('dave', dave1, ['party']);
    await open('alice', alice1);
    expect(env.api.messagesTo(dave1).filter((m) => m.userId === 'alice')).toEqual([
      expect.objectContaining({ type: 'update-presence', status: 'online' }),
    ]);
    env.api.reset();

    await send('alice', alice1, { status: 'invisible' });

    expect(env.api.messagesTo(dave1)).toEqual([expect.objectContaining({ type: 'presence-timeout', userId: 'alice' })]);
    await send('alice', alice1, { status: 'online' });
    await Promise.all([hangUp('alice', alice1), hangUp('dave', dave1)]);
  });

  it('refuses a group the caller is not a member of with forbidden, subscribing nothing', async () => {
    const [carol1, dave1] = [conn('C'), conn('D')];
    await open('carol', carol1);
    await open('dave', dave1);
    await follow('dave', dave1, ['party']);
    env.api.reset();

    await follow('dave', dave1, ['club']);
    await follow('dave', dave1, ['party', 'no-such-group']);
    await send('carol', carol1, { status: 'busy' });

    expect(env.api.messagesTo(dave1)).toEqual([
      expect.objectContaining({ type: 'error', code: 'forbidden', message: 'Not a member of group "club"' }),
      expect.objectContaining({ type: 'error', code: 'forbidden', message: 'Not a member of group "no-such-group"' }),
    ]);
    await send('carol', carol1, { status: 'online' });
    await Promise.all([hangUp('carol', carol1), hangUp('dave', dave1)]);
  });

  it('answers more groups than GROUPS_PER_CONNECTION with invalid_message naming groups, changing nothing', async () => {
    const [alice1, dave1] = [conn('A'), conn('D')];
    await open('alice', alice1);
    await open('dave', dave1);
    await follow('dave', dave1, ['party']);
    env.api.reset();

    await follow('dave', dave1, ['party', 'club', 'third']);
    await follow('dave', dave1, 'party');
    await send('alice', alice1, { status: 'busy' });

    const [limit, notList, pushed] = env.api.messagesTo(dave1);
    expect(limit).toMatchObject({
      type: 'error',
      code: 'invalid_message',
      message: 'groups must list at most 2 groups',
    });
    expect(notList).toMatchObject({
      type: 'error',
      code: 'invalid_message',
      message: expect.stringMatching(/^groups/),
    });
    expect(pushed).toMatchObject({ type: 'update-presence', userId: 'alice', status: 'busy' });
    await send('alice', alice1, { status: 'online' });
    await Promise.all([hangUp('alice', alice1), hangUp('dave', dave1)]);
  });

  it('replaces the list, and [] unsubscribes', async () => {
    const [alice1, carol1, dave1, bob1] = [conn('A'), conn('C'), conn('D'), conn('B')];
    await open('alice', alice1);
    await open('carol', carol1);
    await open('dave', dave1);
    await open('bob', bob1);
    // bob is carol's fellow club member but no friend of hers, and alice's friend
    await follow('bob', bob1, ['party']);
    await follow('bob', bob1, ['club']);
    env.api.reset();

    await send('carol', carol1, { status: 'busy' });
    await send('dave', dave1, { status: 'busy' });
    expect(env.api.messagesTo(bob1).map((m) => m.userId)).toEqual(['carol']);
    env.api.reset();

    await follow('bob', bob1, []);
    await send('carol', carol1, { status: 'online' });

    expect(repliesTo(bob1, 'subscribed')).toEqual([{ type: 'subscribed', detail: 'full', groups: [] }]);
    expect(env.api.messagesTo(bob1).filter((m) => m.type !== 'subscribed')).toEqual([]);
    await send('dave', dave1, { status: 'online' });
    await Promise.all([hangUp('alice', alice1), hangUp('carol', carol1), hangUp('dave', dave1), hangUp('bob', bob1)]);
  });

  it('drops a follower whose connection is gone (410) from the group index', async () => {
    const [alice1, dave1] = [conn('A'), conn('D')];
    await open('alice', alice1);
    await open('dave', dave1);
    await follow('dave', dave1, ['party']);
    await new Promise((resolve) => setTimeout(resolve, 1100)); // past CONNECT_WINDOW_SECONDS: a 410 means gone
    env.api.gone.add(dave1);

    await send('alice', alice1, { status: 'busy' });
    const { redis } = await getRuntime();

    expect(await redis.client.hexists(new RedisKeys(env.prefix).groupSubscribers('party'), dave1)).toBe(0);
    await send('alice', alice1, { status: 'online' });
    await hangUp('alice', alice1);
  });

  it('costs one extra round trip per change of a group member (run beside the friends lookup), 0 queries', async () => {
    const [alice1, dave1] = [conn('A'), conn('D')];
    await open('alice', alice1);
    await open('dave', dave1);
    await follow('dave', dave1, ['party']);
    await send('alice', alice1, { status: 'busy' });

    // change, targets + group subscribers (concurrently), rate-cap permits, outbox ack
    expect(await cost(() => send('alice', alice1, { status: 'online' }))).toEqual({ roundTrips: 5, queries: 0 });
    await Promise.all([hangUp('alice', alice1), hangUp('dave', dave1)]);
  });

  it('applies a membership change within FRIEND_CACHE_SECONDS (REST and pushes)', async () => {
    const [alice1, dave1] = [conn('A'), conn('D')];
    await open('alice', alice1);
    await open('dave', dave1);
    await follow('dave', dave1, ['party']);
    await send('alice', alice1, { status: 'busy' });
    expect(env.api.messagesTo(dave1).filter((m) => m.userId === 'alice')).not.toEqual([]);

    await setMembers('party', ['alice', 'bob', 'erin']);
    // the cache time passing (expiring the cached group and contexts as FRIEND_CACHE_SECONDS would)
    const keys = new RedisKeys(env.prefix);
    await forget([keys.group('party'), keys.context('dave'), keys.context('alice')]);
    env.api.reset();
    await send('alice', alice1, { status: 'away' });

    expect(env.api.messagesTo(dave1)).toEqual([]);
    expect((await groupRest('dave', 'party')).status).toBe(403);
    // erin is now the third member: served
    expect((await groupRest('erin', 'party')).status).toBe(200);
    await setMembers('party', ['alice', 'bob', 'dave', 'erin']);
    await forget([keys.group('party'), keys.context('dave'), keys.context('alice'), keys.context('erin')]);
    await send('alice', alice1, { status: 'online' });
    await Promise.all([hangUp('alice', alice1), hangUp('dave', dave1)]);
  });
});

it('keeps GET /presence unchanged for group members who are not friends', async () => {
  const body = JSON.parse(((await getPresence(restEvent('get-presence', 'dave') as never)) as { body: string }).body);
  expect(body.presenceArr).toEqual([]);
});
