// Round-trip budgets: Redis round trips and Postgres queries per handler, counted (not timed) on the real stores.
import { handler as close } from '../../src/functions/close/handler';
import { handler as connect } from '../../src/functions/connect/handler';
import { handler as getPresence } from '../../src/functions/get-presence/handler';
import { handler as getUserPresence } from '../../src/functions/get-user-presence/handler';
import { handler as heartbeat } from '../../src/functions/heartbeat/handler';
import { handler as updatePresence } from '../../src/functions/update-presence/handler';
import { RedisKeys } from '../../src/layer/adapters/redis/keys';
import { getRuntime } from '../../src/layer/runtime';
import { restEvent, wsEvent } from '../../events/sample-events';
import { handlerEnvironment } from '../support/runtime-env';

type Env = Awaited<ReturnType<typeof handlerEnvironment>>;
let env: Env;

/** Redis round trips and Postgres queries made by `action`. */
async function cost(action: () => Promise<unknown>): Promise<{ roundTrips: number; queries: number }> {
  const { redis, directory } = await getRuntime();
  const [rt, q] = [redis.roundTrips, directory.queries];
  await action();
  return { roundTrips: redis.roundTrips - rt, queries: directory.queries - q };
}

async function forgetContext(userId: string): Promise<void> {
  const { redis } = await getRuntime();
  await redis.client.del(new RedisKeys(env.prefix).context(userId));
}

beforeAll(async () => {
  env = await handlerEnvironment();
  // Friends online so that every change really fans out.
  await connect(wsEvent('connect', 'bob', 'Bob1=') as never);
  await connect(wsEvent('connect', 'carol', 'Carol1=') as never);
  await connect(wsEvent('connect', 'alice', 'Alice0=') as never);
});
afterAll(async () => {
  await env.close();
});

it('connect: at most 2 round trips; 1 query only when the friend list is not cached', async () => {
  await forgetContext('alice');
  expect(await cost(() => connect(wsEvent('connect', 'alice', 'Alice1=') as never))).toEqual({
    roundTrips: 2,
    queries: 1,
  });
  expect(await cost(() => connect(wsEvent('connect', 'alice', 'Alice2=') as never))).toEqual({
    roundTrips: 1,
    queries: 0,
  });
});

it('heartbeat: 1 round trip, 0 queries', async () => {
  expect(await cost(() => heartbeat(wsEvent('heartbeat', 'alice', 'Alice1=') as never))).toEqual({
    roundTrips: 1,
    queries: 0,
  });
});

it('update-presence: 4 round trips (change, targets, rate-cap permits, outbox ack) plus the posts, 0 queries when cached', async () => {
  const posts = (await getRuntime()).gateway.posts;
  const body = { action: 'update-presence', url: 'https://example.com/budget', title: 'Budget' };
  expect(await cost(() => updatePresence(wsEvent('update-presence', 'alice', 'Alice1=', body) as never))).toEqual({
    roundTrips: 4,
    queries: 0,
  });
  expect((await getRuntime()).gateway.posts - posts).toBe(4); // bob, carol, and alice's two other connections
});

it('close: 1 round trip, or 4 when friends must be told (remove, targets, permits, outbox ack)', async () => {
  expect((await cost(() => close(wsEvent('close', 'alice', 'Alice2=') as never))).roundTrips).toBeLessThanOrEqual(2);
  expect(await cost(() => close(wsEvent('close', 'alice', 'Alice1=') as never))).toEqual({ roundTrips: 4, queries: 0 });
});

it('get-presence: at most 2 round trips and 1 query; 0 queries when cached', async () => {
  await forgetContext('alice');
  expect(await cost(() => getPresence(restEvent('get-presence', 'alice') as never))).toEqual({
    roundTrips: 2,
    queries: 1,
  });
  expect(await cost(() => getPresence(restEvent('get-presence', 'alice') as never))).toEqual({
    roundTrips: 2,
    queries: 0,
  });
});

it('get-user-presence: at most 2 round trips, 1 for oneself', async () => {
  expect(await cost(() => getUserPresence(restEvent('get-user-presence', 'alice', 'bob') as never))).toEqual({
    roundTrips: 2,
    queries: 0,
  });
  expect(await cost(() => getUserPresence(restEvent('get-user-presence', 'alice', 'alice') as never))).toEqual({
    roundTrips: 1,
    queries: 0,
  });
});
