// Usage: the per-shard counters stay exact under concurrent connects, updates, revivals, disconnects and sweeps; the
// per-minute record; GET /usage for the admin group only, over every range.
import type { APIGatewayProxyResult } from 'aws-lambda';
import { handler as close } from '../../src/functions/close/handler';
import { handler as connect } from '../../src/functions/connect/handler';
import { handler as getUsageHandler } from '../../src/functions/get-usage/handler';
import { handler as heartbeat } from '../../src/functions/heartbeat/handler';
import { handler as sweep } from '../../src/functions/timeout/handler';
import { handler as updatePresence } from '../../src/functions/update-presence/handler';
import { RedisKeys } from '../../src/layer/adapters/redis/keys';
import { RedisUsageLog } from '../../src/layer/adapters/redis/usage-log';
import { getRuntime } from '../../src/layer/runtime';
import { loadEvent, restEvent, wsEvent } from '../../events/sample-events';
import { deleteKeysWithPrefix } from '../support/redis-cleanup';
import { handlerEnvironment } from '../support/runtime-env';
import { uniquePrefix } from '../support/stores';

type Env = Awaited<ReturnType<typeof handlerEnvironment>>;
let env: Env;
let seq = 0;
const conn = (label: string) => `${label}${(seq += 1)}Use=`;
const open = (userId: string, connectionId: string) => connect(wsEvent('connect', userId, connectionId) as never);
const beat = (userId: string, connectionId: string) => heartbeat(wsEvent('heartbeat', userId, connectionId) as never);
const send = (userId: string, connectionId: string) =>
  updatePresence(
    wsEvent('update-presence', userId, connectionId, { action: 'update-presence', status: 'away' }) as never,
  );
const hangUp = (userId: string, connectionId: string) => close(wsEvent('close', userId, connectionId) as never);
const runSweep = () => sweep(loadEvent('timeout') as never);
const usage = async () => (await getRuntime()).store.usage();

/** What the connection hashes hold: users with at least one connection, and connections (the truth to count). */
async function stored(userIds: readonly string[]): Promise<{ users: number; connections: number }> {
  const { redis, keys } = await getRuntime();
  const lengths = (await redis.run(userIds.map((id) => ['hlen', keys.conns(id)] as const))) as number[];
  return { users: lengths.filter((n) => n > 0).length, connections: lengths.reduce((a, b) => a + b, 0) };
}

/** A small deterministic pseudo-random sequence (the race must be reproducible). */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

const usageRequest = async (groups: string[] | undefined, range?: string) => {
  const event = restEvent<any>('get-usage', 'alice');
  if (groups) event.requestContext.authorizer.groups = JSON.stringify(groups);
  event.queryStringParameters = range === undefined ? null : { range };
  const result = (await getUsageHandler(event)) as APIGatewayProxyResult;
  return { status: result.statusCode, body: JSON.parse(result.body) as Record<string, any> };
};

beforeAll(async () => {
  // A 1 s timeout lets the sweep reap connections while the race goes on.
  env = await handlerEnvironment({ PRESENCE_TIMEOUT_SECONDS: '1', GRACE_SECONDS: '0' });
});
afterAll(async () => {
  await env.close();
});

describe('usage counters', () => {
  it('count a user once however many connections they have, until their last one goes', async () => {
    // Arrange
    const before = await usage();
    const [a1, a2, a3] = [conn('A'), conn('A'), conn('A')];

    // Act
    await Promise.all([open('dave', a1), open('dave', a2), open('dave', a3)]);
    const three = await usage();
    await hangUp('dave', a1);
    const two = await usage();
    await Promise.all([hangUp('dave', a2), hangUp('dave', a3)]);
    const none = await usage();

    // Assert
    expect([three.users - before.users, three.connections - before.connections]).toEqual([1, 3]);
    expect([two.users - before.users, two.connections - before.connections]).toEqual([1, 2]);
    expect(none).toEqual(before);
  });

  it('stay exact under concurrent connects, updates, revivals, disconnects and sweeps', async () => {
    // Arrange
    const users = Array.from({ length: 24 }, (_, i) => `racer${i}`);
    const next = random(7);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)] as T;
    const known: [string, string][] = [];
    const until = Date.now() + 2500;
    const worker = async () => {
      while (Date.now() < until) {
        const roll = next();
        if (roll < 0.35 || known.length === 0) {
          const entry: [string, string] = [pick(users), conn('R')];
          known.push(entry);
          await open(...entry);
        } else if (roll < 0.55) {
          // a heartbeat on a connection that was closed or reaped brings it back (counted again)
          await beat(...pick(known));
        } else if (roll < 0.7) {
          await send(...pick(known));
        } else {
          await hangUp(...pick(known));
        }
      }
    };
    const sweeper = async () => {
      while (Date.now() < until) {
        await runSweep();
        await new Promise((resolve) => setTimeout(resolve, 150));
      }
    };

    // Act
    await Promise.all([worker(), worker(), worker(), worker(), sweeper(), sweeper()]);
    const counted = await usage();
    const truth = await stored(users);
    // then every connection times out and the sweeps reap them all
    const deadline = Date.now() + 20_000;
    while ((await usage()).connections > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      await runSweep();
    }

    // Assert
    expect(known.length).toBeGreaterThan(50);
    expect(truth.connections).toBeGreaterThan(0);
    expect(counted).toEqual(truth);
    expect(await usage()).toEqual({ users: 0, connections: 0 });
    expect(await stored(users)).toEqual({ users: 0, connections: 0 });
  }, 40_000);
});

describe('the usage record', () => {
  const prefix = uniquePrefix();
  afterAll(async () => {
    await deleteKeysWithPrefix(env.redis, prefix);
  });

  it('keeps the highest counts of each minute and hour, per minute for a day and per hour for the retention', async () => {
    // Arrange
    const { redis } = await getRuntime();
    const log = new RedisUsageLog(redis, new RedisKeys(prefix), 2);
    const hour = Math.floor(Date.now() / 3_600_000) * 3_600_000;

    // Act
    await log.record(hour - 3 * 86_400_000, 99, 99); // older than the retention
    await log.record(hour - 86_400_000 - 120_000, 50, 60); // in the retention, older than a day
    await log.record(hour + 5_000, 3, 4);
    await log.record(hour + 30_000, 7, 5);
    await log.record(hour + 50_000, 2, 9);
    await log.record(hour + 65_000, 1, 1);

    // Assert
    expect(await log.series('minute', hour - 2 * 86_400_000)).toEqual([
      { t: hour, online: 7, connections: 9 },
      { t: hour + 60_000, online: 1, connections: 1 },
    ]);
    expect(await log.series('hour', hour - 10 * 86_400_000)).toEqual([
      { t: hour - 90_000_000, online: 50, connections: 60 },
      { t: hour, online: 7, connections: 9 },
    ]);
  });
});

describe('GET /usage', () => {
  it('refuses callers without the admin group with 403, whatever the range', async () => {
    // Act
    const results = await Promise.all([
      usageRequest(undefined, '1h'),
      usageRequest(['presence-users'], '1h'),
      usageRequest(['presence-admins'], 'nonsense'),
    ]);

    // Assert
    for (const result of results) {
      expect(result).toEqual({ status: 403, body: { message: 'Forbidden access to usage' } });
    }
  });

  it('answers 400 for an unknown range', async () => {
    // Act
    const result = await usageRequest(['presence-admin'], '2h');

    // Assert
    expect(result).toEqual({ status: 400, body: { message: 'range must be one of 1h, 24h, 7d, 30d, 90d' } });
  });

  it('answers live figures and the recorded series: per minute up to 24 h, per hour beyond', async () => {
    // Arrange
    const [e1, e2, c1] = [conn('E'), conn('E'), conn('C')];
    await Promise.all([open('erin', e1), open('erin', e2), open('carol', c1)]);
    const before = await usage();
    await runSweep(); // records the point of this minute

    // Act
    const ranges = ['1h', '24h', '7d', '30d', '90d'];
    const answers = await Promise.all(ranges.map((range) => usageRequest(['other', 'presence-admin'], range)));
    const byDefault = await usageRequest(['presence-admin']);

    // Assert
    const now = Date.now();
    answers.forEach((answer, i) => {
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({
        onlineNow: before.users,
        connectionsNow: before.connections,
        peakOnline: expect.any(Number),
        series: expect.any(Array),
      });
      const step = i < 2 ? 60_000 : 3_600_000;
      const { series } = answer.body as { series: { t: number; online: number; connections: number }[] };
      expect(series.length).toBeGreaterThan(0);
      for (const point of series) expect(point.t % step).toBe(0);
      const latest = series[series.length - 1] as { t: number; online: number; connections: number };
      expect(latest.t).toBeGreaterThanOrEqual(now - (now % step) - step);
      expect(latest.online).toBeGreaterThanOrEqual(2);
      expect(latest.connections).toBeGreaterThanOrEqual(3);
      expect(answer.body.peakOnline).toBe(Math.max(before.users, ...series.map((p) => p.online)));
    });
    expect(before).toEqual({ users: 2, connections: 3 });
    expect(byDefault.status).toBe(200);
    expect(byDefault.body.series).toEqual(answers[1]?.body.series);
    await Promise.all([hangUp('erin', e1), hangUp('erin', e2), hangUp('carol', c1)]);
  });
});
