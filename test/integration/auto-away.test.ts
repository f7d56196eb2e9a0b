// Auto-away (IDLE_AWAY_SECONDS) on the real stores: applied by the sweep, announced like a status change, undone by
// the next update-presence; heartbeats do not count as activity, and busy stays busy.
import { handler as close } from '../../src/functions/close/handler';
import { handler as connect } from '../../src/functions/connect/handler';
import { handler as getPresence } from '../../src/functions/get-presence/handler';
import { handler as heartbeat } from '../../src/functions/heartbeat/handler';
import { handler as timeout } from '../../src/functions/timeout/handler';
import { handler as updatePresence } from '../../src/functions/update-presence/handler';
import { advance, useFakeDate } from '../support/clock';
import { loadEvent, restEvent, wsEvent } from '../../events/sample-events';
import { handlerEnvironment } from '../support/runtime-env';

type Env = Awaited<ReturnType<typeof handlerEnvironment>>;
let env: Env;
let seq = 0;
const conn = (label: string) => `${label}${(seq += 1)}Idl=`;
const open = (userId: string, id: string) => connect(wsEvent('connect', userId, id) as never);
/** What `id` was told about alice (the sweep also tells each idle user's own connections of their own change). */
const aboutAlice = (id: string) => env.api.messagesTo(id).filter((m) => m.userId === 'alice');
const hangUp = (userId: string, id: string) => close(wsEvent('close', userId, id) as never);
const send = (userId: string, id: string, body: Record<string, unknown>) =>
  updatePresence(wsEvent('update-presence', userId, id, { action: 'update-presence', ...body }) as never);
const sweep = () => timeout(loadEvent('timeout') as never, { getRemainingTimeInMillis: () => 60_000 });
const statusSeenBy = async (viewer: string, target: string) => {
  const result = (await getPresence(restEvent('get-presence', viewer) as never)) as { body: string };
  return (JSON.parse(result.body) as { presenceArr: { userId: string; status: string }[] }).presenceArr.find(
    (p) => p.userId === target,
  )?.status;
};

beforeAll(async () => {
  env = await handlerEnvironment({
    IDLE_AWAY_SECONDS: '60',
    PRESENCE_TIMEOUT_SECONDS: '600',
    SWEEP_WINDOW_SECONDS: '0',
  });
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

it('marks an idle connection away in the sweep, tells friends, and the next update makes it online again', async () => {
  const [alice1, bob1] = [conn('A'), conn('B')];
  await open('bob', bob1);
  await open('alice', alice1);
  await send('alice', alice1, { url: 'https://example.com/a', title: 'A' });
  advance(30_000);
  // heartbeats keep the connection alive but are no activity
  await heartbeat(wsEvent('heartbeat', 'alice', alice1) as never);
  env.api.reset();

  advance(31_000);
  await sweep();

  expect(aboutAlice(bob1)).toEqual([
    expect.objectContaining({ type: 'update-presence', userId: 'alice', status: 'away', url: 'https://example.com/a' }),
  ]);
  expect(await statusSeenBy('bob', 'alice')).toBe('away');
  env.api.reset();

  await send('alice', alice1, { title: 'A again' });

  expect(aboutAlice(bob1)).toEqual([
    expect.objectContaining({ type: 'update-presence', userId: 'alice', status: 'online' }),
  ]);
  expect(await statusSeenBy('bob', 'alice')).toBe('online');
  await Promise.all([hangUp('alice', alice1), hangUp('bob', bob1)]);
});

it('does not touch a connection that sent an update within IDLE_AWAY_SECONDS', async () => {
  const [alice1, bob1] = [conn('A'), conn('B')];
  await open('bob', bob1);
  await open('alice', alice1);
  advance(50_000);
  await send('alice', alice1, { title: 'still here' });
  env.api.reset();

  advance(50_000);
  await sweep();

  expect(aboutAlice(bob1)).toEqual([]);
  expect(await statusSeenBy('bob', 'alice')).toBe('online');
  await Promise.all([hangUp('alice', alice1), hangUp('bob', bob1)]);
});

it('leaves a busy user busy: busy ranks above away', async () => {
  const [alice1, bob1] = [conn('A'), conn('B')];
  await open('bob', bob1);
  await open('alice', alice1);
  await send('alice', alice1, { status: 'busy' });
  env.api.reset();

  advance(61_000);
  await sweep();

  expect(aboutAlice(bob1)).toEqual([]);
  expect(await statusSeenBy('bob', 'alice')).toBe('busy');
  await send('alice', alice1, { status: 'online' });
  await Promise.all([hangUp('alice', alice1), hangUp('bob', bob1)]);
});
