// Settings changes reach the page friends already see, and a connection lives no longer than its token: handlers on
// real Redis and Postgres, @connections through the real SDK client to the fake endpoint.
import type { APIGatewayProxyResult } from 'aws-lambda';
import { handler as connect } from '../../src/functions/connect/handler';
import { handler as getPresence } from '../../src/functions/get-presence/handler';
import { handler as heartbeat } from '../../src/functions/heartbeat/handler';
import { handler as sweep } from '../../src/functions/timeout/handler';
import { handler as updatePresence } from '../../src/functions/update-presence/handler';
import { restEvent, wsEvent } from '../../events/sample-events';
import { handlerEnvironment } from '../support/runtime-env';

type Env = Awaited<ReturnType<typeof handlerEnvironment>>;
let env: Env;
let n = 0;
const conn = (label: string) => `${label}${(n += 1)}Tok=`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A $connect whose authorizer context carries the token's expiry (epoch ms), as the authorizer sets it. */
const open = (userId: string, connectionId: string, exp?: number) => {
  const event = wsEvent<{ requestContext: { authorizer: Record<string, unknown> } }>('connect', userId, connectionId);
  if (exp !== undefined) event.requestContext.authorizer.exp = exp;
  return connect(event as never);
};
const send = (userId: string, connectionId: string, body: unknown) =>
  updatePresence(wsEvent('update-presence', userId, connectionId, body) as never);
const beat = (userId: string, connectionId: string) => heartbeat(wsEvent('heartbeat', userId, connectionId) as never);
const friendView = async (viewer: string, target: string) => {
  const result = (await getPresence(restEvent('get-presence', viewer) as never)) as APIGatewayProxyResult;
  return (JSON.parse(result.body) as { presenceArr: { userId: string }[] }).presenceArr.find(
    (p) => p.userId === target,
  ) as Record<string, unknown> | undefined;
};

beforeAll(async () => {
  env = await handlerEnvironment({ FRIEND_CACHE_SECONDS: '1', AUTH_GRACE_SECONDS: '0', GRACE_SECONDS: '0' });
});
afterAll(async () => {
  await env.close();
});
beforeEach(() => env.api.reset());

it("a page the new settings no longer share disappears from friends' view within FRIEND_CACHE_SECONDS, pushed", async () => {
  const [alice1, bob1] = [conn('A'), conn('B')];
  await open('bob', bob1);
  await open('alice', alice1);
  await send('alice', alice1, { action: 'update-presence', url: 'https://docs.example.com/plan', title: 'Plan' });
  expect(await friendView('bob', 'alice')).toMatchObject({ page: { url: 'https://docs.example.com/plan' } });
  env.api.reset();

  // alice denies example.com (and so every *.example.com page) in user-api
  await env.db.pool.query(`UPDATE user_table SET domain_deny_array = ARRAY['example.com'] WHERE user_id = 'alice'`);
  await sleep(1200);
  await sweep({} as never);

  const pushed = env.api.messagesTo(bob1).filter((m) => m.userId === 'alice');
  expect(pushed.at(-1)).toMatchObject({ type: 'update-presence', url: '', title: '', domain: '', latestUrl: '' });
  expect(await friendView('bob', 'alice')).toMatchObject({ page: { url: '' }, latestPage: null });
});

it('a connection whose token expired is told token_expired and closed on its next message, and friends are told', async () => {
  const [carol1, alice1] = [conn('C'), conn('A')];
  await open('alice', alice1);
  await open('carol', carol1, Date.now() + 400);
  env.api.reset();
  await sleep(600);

  const result = await beat('carol', carol1);

  expect(result.statusCode).toBe(401);
  expect(env.api.messagesTo(carol1)).toEqual([expect.objectContaining({ type: 'error', code: 'token_expired' })]);
  expect(env.api.deleted()).toContain(carol1);
  expect(env.api.messagesTo(alice1)).toEqual([expect.objectContaining({ type: 'presence-timeout', userId: 'carol' })]);
});

it('the sweep closes a silent connection whose token expired', async () => {
  const carol2 = conn('C');
  await open('carol', carol2, Date.now() + 300);
  env.api.reset();
  await sleep(500);

  await sweep({} as never);

  expect(env.api.messagesTo(carol2)).toEqual([expect.objectContaining({ code: 'token_expired' })]);
  expect(env.api.deleted()).toContain(carol2);
});
