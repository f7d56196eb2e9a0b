// User ids that are Object.prototype's property names work like any other id: friends, userInfoMap, pushes.
import type { APIGatewayProxyResult } from 'aws-lambda';
import { handler as close } from '../../src/functions/close/handler';
import { handler as connect } from '../../src/functions/connect/handler';
import { handler as getPresence } from '../../src/functions/get-presence/handler';
import { handler as getUserPresence } from '../../src/functions/get-user-presence/handler';
import { handler as updatePresence } from '../../src/functions/update-presence/handler';
import { restEvent, wsEvent } from '../../events/sample-events';
import { seedSocialGraph } from '../support/stores';
import { handlerEnvironment } from '../support/runtime-env';

type Env = Awaited<ReturnType<typeof handlerEnvironment>>;
let env: Env;

/** Ids that collide with what every plain object inherits. */
const IDS = ['__proto__', 'constructor', 'hasOwnProperty', 'toString'] as const;
const HOST = 'proto-host';

const rest = async (userId: string, target?: string) => {
  const result = (await (target === undefined
    ? getPresence(restEvent('get-presence', userId) as never)
    : getUserPresence(restEvent('get-user-presence', userId, target) as never))) as APIGatewayProxyResult;
  return { status: result.statusCode, body: JSON.parse(result.body) as Record<string, any> };
};
const open = (userId: string, connectionId: string) => connect(wsEvent('connect', userId, connectionId) as never);
const hangUp = (userId: string, connectionId: string) => close(wsEvent('close', userId, connectionId) as never);
const send = (userId: string, connectionId: string, body: unknown) =>
  updatePresence(wsEvent('update-presence', userId, connectionId, body) as never);
const connOf = (id: string) => `C${Buffer.from(id).toString('hex')}=`;

beforeAll(async () => {
  env = await handlerEnvironment();
  // HOST and every id are accepted friends of one another; `constructor` has a pending request to a stranger.
  await seedSocialGraph(
    env.db.pool,
    [{ id: HOST }, ...IDS.map((id) => ({ id })), { id: 'stranger' }],
    [
      ...IDS.map((id): [string, string, boolean] => [HOST, id, true]),
      ['__proto__', 'constructor', true],
      ['constructor', 'stranger', false],
    ],
  );
});
afterAll(async () => {
  await env.close();
});
beforeEach(() => env.api.reset());

describe('ids named like Object.prototype properties', () => {
  it('GET /presence lists them as friends, with their userInfoMap entries', async () => {
    const { status, body } = await rest(HOST);

    expect(status).toBe(200);
    expect(body.presenceArr.map((p: { userId: string }) => p.userId).sort()).toEqual([...IDS].sort());
    expect(Object.keys(body.userInfoMap).sort()).toEqual([HOST, ...IDS].sort());
    for (const id of IDS) {
      expect(Object.getOwnPropertyDescriptor(body.userInfoMap, id)?.value).toEqual({
        user_id: id,
        first_name: id[0]!.toUpperCase() + id.slice(1),
        last_name: 'Test',
        profile_image_extension: null,
      });
    }
  });

  it('GET /presence as __proto__ lists its own friends and its own info, nothing inherited', async () => {
    const { status, body } = await rest('__proto__');

    expect(status).toBe(200);
    expect(body.userPresence).toMatchObject({ userId: '__proto__' });
    expect(body.presenceArr.map((p: { userId: string }) => p.userId).sort()).toEqual(['constructor', HOST].sort());
    expect(Object.keys(body.userInfoMap).sort()).toEqual(['__proto__', 'constructor', HOST].sort());
  });

  it('GET /presence/{id} answers for a friend, for oneself, and 403 for an id that is not a friend', async () => {
    expect(await rest(HOST, '__proto__')).toMatchObject({ status: 200, body: { userId: '__proto__' } });
    expect(await rest(HOST, 'constructor')).toMatchObject({ status: 200, body: { userId: 'constructor' } });
    expect(await rest('__proto__', '__proto__')).toMatchObject({ status: 200, body: { userId: '__proto__' } });
    expect(await rest('__proto__', 'toString')).toMatchObject({ status: 403 });
    expect(await rest('constructor', 'stranger')).toMatchObject({ status: 403 });
    expect(await rest('stranger', 'valueOf')).toMatchObject({ status: 403 });
  });

  it('they receive pushes about their friends, and their friends about them', async () => {
    await open(HOST, connOf(HOST));
    for (const id of IDS) await open(id, connOf(id));
    env.api.reset();

    await send('__proto__', connOf('__proto__'), {
      action: 'update-presence',
      url: 'https://example.com/a',
      title: 'A',
    });
    await send(HOST, connOf(HOST), { action: 'update-presence', status: 'busy' });

    expect(env.api.messagesTo(connOf(HOST))).toEqual([
      expect.objectContaining({ type: 'update-presence', userId: '__proto__', url: 'https://example.com/a' }),
    ]);
    expect(env.api.messagesTo(connOf('constructor'))).toEqual([
      expect.objectContaining({ type: 'update-presence', userId: '__proto__', url: 'https://example.com/a' }),
      expect.objectContaining({ type: 'update-presence', userId: HOST, status: 'busy' }),
    ]);
    for (const id of ['__proto__', 'hasOwnProperty', 'toString']) {
      expect(env.api.messagesTo(connOf(id))).toEqual([expect.objectContaining({ userId: HOST, status: 'busy' })]);
    }
    expect((await rest(HOST)).body.presenceArr.find((p: { userId: string }) => p.userId === '__proto__')).toMatchObject(
      {
        status: 'online',
        page: { url: 'https://example.com/a', domain: 'example.com' },
      },
    );
    await Promise.all([HOST, ...IDS].map((id) => hangUp(id, connOf(id))));
  });
});
