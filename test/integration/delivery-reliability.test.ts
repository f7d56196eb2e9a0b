// Delivery survives what kills a best-effort fan-out (issue "Reliable delivery"; contract, "Delivery guarantees"): a
// handler killed mid-fan-out, @connections failing and timing out for a while, two sweeps and two workers at once.
// Real Redis and Postgres, the real SDK client against the fake @connections endpoint; only Date is moved.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { SQSEvent } from 'aws-lambda';
import { handler as connect } from '../../src/functions/connect/handler';
import { handler as getPresence } from '../../src/functions/get-presence/handler';
import { handler as heartbeat } from '../../src/functions/heartbeat/handler';
import { handler as sweep } from '../../src/functions/timeout/handler';
import { handler as updatePresence } from '../../src/functions/update-presence/handler';
import { handler as worker } from '../../src/functions/worker/handler';
import { RedisKeys, SHARD_COUNT } from '../../src/layer/adapters/redis/keys';
import { shutdownRuntime } from '../../src/layer/runtime';
import Redis from 'ioredis';
import { restEvent, wsEvent } from '../../events/sample-events';
import { advance, useFakeDate } from '../support/clock';
import { freePort } from '../support/global-setup';
import { handlerEnvironment } from '../support/runtime-env';

jest.setTimeout(60_000);

type Env = Awaited<ReturnType<typeof handlerEnvironment>>;
let env: Env;
const ROOT = join(__dirname, '..', '..');
/** Longer than the delivery lease (15 s) and the longest mailbox backoff a test waits out. */
const PAST_LEASES_MS = 61_000;
const TIMEOUT_S = 3600;

beforeAll(async () => {
  // Connections outlive the time the tests move the clock by, until a test lets them expire.
  env = await handlerEnvironment({ GRACE_SECONDS: '0', PRESENCE_TIMEOUT_SECONDS: String(TIMEOUT_S) });
});
afterAll(async () => {
  jest.useRealTimers();
  await env.close();
});
beforeEach(() => {
  env.api.reset();
  useFakeDate();
});
afterEach(() => jest.useRealTimers());

/** Opens `n` connections (tabs) of `userId`; returns their ids. */
async function tabs(userId: string, label: string, n: number): Promise<string[]> {
  const ids = Array.from({ length: n }, (_, i) => `${label}${i}Tab=`);
  for (const id of ids) await connect(wsEvent('connect', userId, id) as never);
  return ids;
}

/** What each connection received from `from`: the messages in order. */
function received(connectionIds: readonly string[], from: string): Map<string, Record<string, unknown>[]> {
  return new Map(connectionIds.map((id) => [id, env.api.messagesTo(id).filter((m) => m.userId === from)]));
}

/** Every message of one version is the same message (a duplicate is harmless; a different payload is not). */
function sameMessagePerVersion(messages: Iterable<Record<string, unknown>[]>): void {
  const byVersion = new Map<unknown, string>();
  for (const list of messages)
    for (const m of list) {
      const seen = byVersion.get(m.v);
      if (seen === undefined) byVersion.set(m.v, JSON.stringify(m));
      else expect(JSON.stringify(m)).toBe(seen);
    }
}

/** Runs the sweep until nothing more is delivered (each run delivers what is due). */
async function sweepUntilQuiet(stepMs = PAST_LEASES_MS): Promise<void> {
  for (let i = 0, before = -1; i < 6 && before !== env.api.calls.length; i += 1) {
    before = env.api.calls.length;
    advance(stepMs);
    await sweep({} as never);
  }
}

it('a fan-out killed mid-way (SIGKILL after the commit) is delivered completely afterwards', async () => {
  // Arrange: bob and carol have 12 tabs each; the management API answers slowly and the child posts 2 at a time
  const watchers = [...(await tabs('bob', 'KillB', 12)), ...(await tabs('carol', 'KillC', 12))];
  await tabs('alice', 'KillA', 1);
  await sweepUntilQuiet();
  env.api.reset();
  env.api.delayMs = 150;
  const page = { action: 'update-presence', url: 'https://github.com/killed', title: 'Killed mid-way' };
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(ROOT, 'test/support/child-handler.ts'),
      'update-presence',
      JSON.stringify(wsEvent('update-presence', 'alice', 'KillA0Tab=', page)),
    ],
    { cwd: ROOT, env: { ...process.env, FANOUT_CONCURRENCY: '1', POWERTOOLS_LOG_LEVEL: 'SILENT' }, stdio: 'ignore' },
  );
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.once('exit', (_code, signal) => resolve(signal)),
  );
  // Act: kill it once the first few friends got the page (committed, fan-out in flight)
  const deadline = Date.now() + 20_000;
  while (env.api.calls.filter((c) => c.body.includes('/killed')).length < 3 && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 10));
  child.kill('SIGKILL');
  const signal = await exited;
  const beforeRecovery = env.api.calls.filter((c) => c.body.includes('/killed')).length;
  env.api.delayMs = 0;
  await sweepUntilQuiet();
  // Assert
  expect(signal).toBe('SIGKILL');
  expect(beforeRecovery).toBeGreaterThanOrEqual(3);
  expect(beforeRecovery).toBeLessThan(watchers.length);
  const got = received(watchers, 'alice');
  for (const [id, messages] of got)
    expect([id, messages.at(-1)]).toEqual([id, expect.objectContaining({ url: 'https://github.com/killed' })]);
  sameMessagePerVersion(got.values());
});

it('@connections failing with 500s and timeouts, then recovering: every change arrives, none lost, no conflicting duplicates', async () => {
  // Arrange
  const watchers = await tabs('bob', 'StormB', 4);
  await tabs('alice', 'StormA', 1);
  await sweepUntilQuiet();
  env.api.reset();
  // Act: the API answers 500 to everything (and two requests never get an answer) while alice changes three times
  env.api.failAll = true;
  env.api.stallNext = 2;
  for (const [i, status] of (['away', 'busy', 'online'] as const).entries()) {
    await updatePresence(
      wsEvent('update-presence', 'alice', 'StormA0Tab=', {
        action: 'update-presence',
        status,
        url: `https://github.com/storm/${i}`,
        title: `Storm ${i}`,
      }) as never,
    );
    await sweep({} as never);
  }
  const duringOutage = env.api.calls.filter((c) => c.body.includes('"userId":"alice"')).length;
  env.api.failAll = false;
  env.api.releaseStalled();
  await sweepUntilQuiet();
  // Assert: every bob tab ends on alice's latest state, and each version it got is one message
  expect(duringOutage).toBe(0);
  const got = received(watchers, 'alice');
  for (const [id, messages] of got)
    expect([id, messages.at(-1)]).toEqual([
      id,
      expect.objectContaining({ status: 'online', url: 'https://github.com/storm/2' }),
    ]);
  sameMessagePerVersion(got.values());
  for (const list of got.values()) {
    const vs = list.map((m) => m.v as number);
    expect(vs).toEqual([...vs].sort((a, b) => a - b));
  }
});

it('two sweeps and two delivery workers at once never notify twice with different versions and never lose a change', async () => {
  // Arrange: alice watches her friends bob and carol, who have three tabs each
  const watcher = (await tabs('alice', 'RaceA', 1))[0] as string;
  const users = ['bob', 'carol'];
  const conns = new Map<string, string[]>();
  for (const u of users) conns.set(u, await tabs(u, `Race${u}`, 3));
  await sweepUntilQuiet();
  env.api.reset();
  // Act: everybody's connections expire but alice's (she beats); two sweeps and two workers over every shard at once
  advance(TIMEOUT_S * 1000 + 1000);
  await heartbeat(wsEvent('heartbeat', 'alice', watcher) as never);
  const everyShard: SQSEvent = {
    Records: [
      {
        messageId: 'm1',
        body: JSON.stringify({ shards: Array.from({ length: SHARD_COUNT }, (_, i) => i), sweep: true }),
      } as SQSEvent['Records'][number],
    ],
  };
  await Promise.all([sweep({} as never), sweep({} as never), worker(everyShard), worker(everyShard)]);
  await sweepUntilQuiet();
  // Assert: alice was told each user went offline, with one version per user, and every zombie was closed
  const timeouts = env.api.messagesTo(watcher).filter((m) => m.type === 'presence-timeout');
  for (const u of users) {
    const forUser = timeouts.filter((m) => m.userId === u);
    expect(forUser.length).toBeGreaterThanOrEqual(1);
    expect(new Set(forUser.map((m) => m.v)).size).toBe(1);
  }
  expect(env.api.deleted()).toEqual(expect.arrayContaining([...conns.values()].flat()));
});

it('a sweep during a Postgres outage still reaps and closes zombies; friends are told once Postgres is back', async () => {
  // Arrange: alice watches carol (who has no other connection); carol's socket goes silent, and her friend list is no
  // longer cached
  const watcher = (await tabs('alice', 'PgA', 1))[0] as string;
  const zombie = (await tabs('carol', 'PgC', 1))[0] as string;
  await sweepUntilQuiet();
  env.api.reset();
  const keys = new RedisKeys(env.prefix);
  const redis = new Redis(env.redis.url);
  // Act: Postgres goes away; alice's connection expires; the sweep runs
  await shutdownRuntime();
  process.env.DATABASE_URL = `postgres://postgres@127.0.0.1:${await freePort()}/presence_test`;
  advance(TIMEOUT_S * 1000 + 1000);
  await heartbeat(wsEvent('heartbeat', 'alice', watcher) as never);
  await redis.del(keys.context('carol'));
  await sweep({} as never);
  const duringOutage = {
    deleted: env.api.deleted(),
    toldAlice: env.api.messagesTo(watcher).filter((m) => m.userId === 'carol'),
  };
  process.env.DATABASE_URL = env.db.url;
  await shutdownRuntime();
  await sweepUntilQuiet(30_000);
  await redis.quit();
  // Assert: reaped and closed without Postgres; told afterwards, once
  expect(duringOutage.deleted).toContain(zombie);
  expect(duringOutage.toldAlice).toEqual([]);
  expect(env.api.messagesTo(watcher).filter((m) => m.userId === 'carol')).toEqual([
    expect.objectContaining({ type: 'presence-timeout', userId: 'carol' }),
  ]);
});

it('updates processed out of order by seq leave the newest page, for friends and in REST', async () => {
  // Arrange
  const watcher = (await tabs('bob', 'SeqB', 1))[0] as string;
  const tab = (await tabs('alice', 'SeqA', 1))[0] as string;
  await sweepUntilQuiet();
  env.api.reset();
  const send = (seq: number, page: string) =>
    updatePresence(
      wsEvent('update-presence', 'alice', tab, {
        action: 'update-presence',
        url: `https://github.com/${page}`,
        title: page,
        seq,
      }) as never,
    );
  // Act: the client sent seq 7 then seq 8; two Lambdas processed them the other way round
  await send(8, 'newer');
  await send(7, 'older');
  await sweepUntilQuiet();
  // Assert
  const pages = env.api
    .messagesTo(watcher)
    .filter((m) => m.userId === 'alice')
    .map((m) => m.url);
  expect(pages).toEqual(['https://github.com/newer']);
  const rest = (await getPresence(restEvent('get-presence', 'bob') as never)) as { body: string };
  const alice = (
    JSON.parse(rest.body) as { presenceArr: { userId: string; page: { url: string } }[] }
  ).presenceArr.find((p) => p.userId === 'alice');
  expect(alice?.page.url).toBe('https://github.com/newer');
});
