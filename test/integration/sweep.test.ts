// The sweep as the source of truth: timeouts, the grace window, zombie sockets, concurrent sweeps, partial failures.
import { handler as close } from '../../src/functions/close/handler';
import { handler as connect } from '../../src/functions/connect/handler';
import { handler as heartbeat } from '../../src/functions/heartbeat/handler';
import { handler as getPresence } from '../../src/functions/get-presence/handler';
import { handler as timeout } from '../../src/functions/timeout/handler';
import { handler as updatePresence } from '../../src/functions/update-presence/handler';
import { getRuntime } from '../../src/layer/runtime';
import { sweepOnce, sweepOptions } from '../../src/layer/presence/sweep';
import { shardOf } from '../../src/layer/adapters/redis/keys';
import { advance, useFakeDate } from '../support/clock';
import { loadEvent, restEvent, wsEvent } from '../../events/sample-events';
import { handlerEnvironment } from '../support/runtime-env';
import { seedSocialGraph } from '../support/stores';

type Env = Awaited<ReturnType<typeof handlerEnvironment>>;
let env: Env;
let seq = 0;
const conn = (label: string) => `${label}${(seq += 1)}Swp=`;
const open = (userId: string, id: string) => connect(wsEvent('connect', userId, id) as never);
const hangUp = (userId: string, id: string) => close(wsEvent('close', userId, id) as never);
const beat = (userId: string, id: string) => heartbeat(wsEvent('heartbeat', userId, id) as never);
const sweep = () => timeout(loadEvent('timeout') as never, { getRemainingTimeInMillis: () => 60_000 });
const presenceOf = async (viewer: string, target: string) => {
  const result = (await getPresence(restEvent('get-presence', viewer) as never)) as { body: string };
  return (
    JSON.parse(result.body) as { presenceArr: { userId: string; status: string; page: unknown }[] }
  ).presenceArr.find((p) => p.userId === target);
};
const timeoutsTo = (id: string) => env.api.messagesTo(id).filter((m) => m.type === 'presence-timeout');
/** Who the presence-timeout messages to a connection were about, sorted. */
const timedOut = (id: string) =>
  timeoutsTo(id)
    .map((m) => m.userId)
    .sort();
/** bob's friends user0..user{n-1} (seeded below), each online now on one connection. */
const openFriends = async (n: number) => {
  const users = Array.from({ length: n }, (_, i) => ({ userId: `user${i}`, id: conn(`U${i}`) }));
  for (const u of users) await open(u.userId, u.id);
  return users;
};

beforeAll(async () => {
  env = await handlerEnvironment({ GRACE_SECONDS: '10', PRESENCE_TIMEOUT_SECONDS: '90', SWEEP_WINDOW_SECONDS: '0' });
  await seedSocialGraph(
    env.db.pool,
    Array.from({ length: 20 }, (_, i) => ({ id: `user${i}` })),
    Array.from({ length: 20 }, (_, i): [string, string, boolean] => [`user${i}`, 'bob', true]),
  );
});
afterAll(async () => {
  jest.useRealTimers();
  await env.close();
});
beforeEach(() => {
  useFakeDate();
  env.api.reset();
});
afterEach(() => jest.useRealTimers());

it('a reconnect within the grace window notifies nobody and keeps the page', async () => {
  const [alice1, alice2, bob1] = [conn('A'), conn('A'), conn('B')];
  await open('bob', bob1);
  await open('alice', alice1);
  await updatePresence(
    wsEvent('update-presence', 'alice', alice1, {
      action: 'update-presence',
      url: 'https://example.com/p',
      title: 'P',
    }) as never,
  );
  env.api.reset();

  await hangUp('alice', alice1);
  advance(5_000);
  await open('alice', alice2);
  advance(20_000);
  await sweep();

  expect(env.api.messagesTo(bob1)).toEqual([]);
  expect(await presenceOf('bob', 'alice')).toMatchObject({ status: 'online', page: { url: 'https://example.com/p' } });
  await hangUp('alice', alice2);
  advance(11_000);
  await sweep();
  await hangUp('bob', bob1);
});

it('tells friends presence-timeout once, after the grace window, when nobody reconnects', async () => {
  const [alice1, bob1] = [conn('A'), conn('B')];
  await open('bob', bob1);
  await open('alice', alice1);
  env.api.reset();

  await hangUp('alice', alice1);
  await sweep();
  expect(env.api.messagesTo(bob1)).toEqual([]);
  expect((await presenceOf('bob', 'alice'))?.status).toBe('online');

  advance(10_001);
  await sweep();
  await sweep();

  expect(env.api.messagesTo(bob1)).toEqual([
    { type: 'presence-timeout', userId: 'alice', lastSeen: expect.any(Number), v: expect.any(Number) },
  ]);
  expect((await presenceOf('bob', 'alice'))?.status).toBe('offline');
  await hangUp('bob', bob1);
});

it('reaps a connection that stopped heart-beating, closes the zombie socket, then notifies after grace', async () => {
  const [alice1, bob1] = [conn('A'), conn('B')];
  await open('alice', alice1);
  await open('bob', bob1);
  env.api.reset();

  advance(60_000);
  await beat('bob', bob1);
  advance(31_000);
  const first = await sweep();

  expect(first.reaped).toBe(1);
  expect(env.api.deleted()).toEqual([alice1]);
  expect(env.api.messagesTo(bob1)).toEqual([]);

  advance(10_001);
  await sweep();
  expect(timeoutsTo(bob1)).toHaveLength(1);
  expect(env.api.deleted()).toEqual([alice1]);
  await hangUp('bob', bob1);
});

it('two sweeps at once never notify twice and never lose a user', async () => {
  const bob1 = conn('B');
  const users = await openFriends(20);
  advance(60_000);
  await open('bob', bob1);
  env.api.reset();

  advance(31_000);
  const { deps, config } = await getRuntime();
  const options = {
    endpoint: config.connectionsEndpoint as string,
    leaseMs: 30_000,
    batchSize: 3,
    shardConcurrency: 4,
  };
  const [a, b] = await Promise.all([sweepOnce(deps, options), sweepOnce(deps, options)]);
  expect(a.reaped + b.reaped).toBe(20);
  advance(10_001);
  const [c, d] = await Promise.all([sweepOnce(deps, options), sweepOnce(deps, options)]);
  expect(c.changes + d.changes).toBe(20);

  expect(timedOut(bob1)).toEqual(users.map((u) => u.userId).sort());
  expect([...new Set(env.api.deleted())].sort()).toEqual(users.map((u) => u.id).sort());
  expect(env.api.deleted()).toHaveLength(20);
  await hangUp('bob', bob1);
});

it('a friend of users in many shards who expire together gets one presence-batch per pass, if it opted in', async () => {
  const [batched, single] = [conn('B'), conn('B')];
  const users = await openFriends(20);
  // The point: these users' outbox entries live in different shards, yet the pass plans them together.
  expect(new Set(users.map((u) => shardOf(u.userId))).size).toBeGreaterThan(10);
  advance(60_000);
  const optIn = wsEvent<{ queryStringParameters?: Record<string, string> }>('connect', 'bob', batched);
  optIn.queryStringParameters = { batch: '1' };
  await connect(optIn as never);
  await open('bob', single);
  env.api.reset();

  advance(31_000);
  await sweep();
  advance(10_001);
  await sweep();

  const received = env.api.messagesTo(batched);
  expect(received).toHaveLength(1);
  const batch = received[0] as { type: string; changes: { type: string; userId: string }[] };
  expect(batch.type).toBe('presence-batch');
  expect(batch.changes.every((c) => c.type === 'presence-timeout')).toBe(true);
  expect(batch.changes.map((c) => c.userId).sort()).toEqual(users.map((u) => u.userId).sort());
  // Without the opt-in, one message per change, as before.
  expect(timedOut(single)).toEqual(users.map((u) => u.userId).sort());
  await Promise.all([hangUp('bob', batched), hangUp('bob', single)]);
});

it('loads the friend lists of changed users without a cached list while it reaps, and delivers with them', async () => {
  // Arrange: five friends of bob expire; three of them no longer have their friend list cached
  const bob1 = conn('B');
  const users = await openFriends(5);
  advance(60_000);
  await open('bob', bob1);
  const runtime = await getRuntime();
  const uncached = users.slice(0, 3).map((u) => u.userId);
  await runtime.redis.run(uncached.map((userId) => ['del', runtime.keys.context(userId)]));
  env.api.reset();
  // The timeout handler's own options.
  const options = sweepOptions(runtime.config, runtime.config.connectionsEndpoint as string);
  const handedOver: string[][] = [];
  const deliverer = Object.create(runtime.delivery) as typeof runtime.delivery;
  deliverer.drain = (endpoint, shards, deadline, lists) => {
    handedOver.push([...(lists?.keys() ?? [])]);
    return runtime.delivery.drain(endpoint, shards, deadline, lists);
  };
  const deps = { ...runtime.deps, deliverer };

  // Act: the pass that reaps (grace starts), then the one that ends grace (friends are told)
  advance(31_000);
  await sweepOnce(deps, options);
  advance(10_001);
  const queriesBefore = runtime.directory.queries;
  await sweepOnce(deps, options);

  // Assert: the second pass handed delivery exactly the three uncached lists, loaded in one query, and bob heard of all
  expect(handedOver[1]?.sort()).toEqual(uncached);
  expect(runtime.directory.queries - queriesBefore).toBe(1);
  expect(timedOut(bob1)).toEqual(users.map((u) => u.userId));
  await hangUp('bob', bob1);
});

it('a failing delivery to one connection does not stop the others', async () => {
  const [alice1, carol1, bob1, bob2] = [conn('A'), conn('C'), conn('B'), conn('B')];
  await open('alice', alice1);
  await open('carol', carol1);
  advance(60_000);
  await open('bob', bob1);
  await open('bob', bob2);
  env.api.failing.add(bob1);

  advance(31_000);
  await sweep();
  advance(10_001);
  const stats = await sweep();

  expect(stats.retried).toBeGreaterThanOrEqual(1);
  expect(timedOut(bob2)).toEqual(['alice']);
  expect((await presenceOf('alice', 'carol'))?.status).toBe('offline');
  await Promise.all([hangUp('bob', bob1), hangUp('bob', bob2)]);
});
