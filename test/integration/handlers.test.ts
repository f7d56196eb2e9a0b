// Handlers end to end against real Redis and Postgres, posting through the real @connections client to a local endpoint.
import type { APIGatewayProxyResult } from 'aws-lambda';
import { handler as close } from '../../src/functions/close/handler';
import { handler as connect } from '../../src/functions/connect/handler';
import { handler as getPresence } from '../../src/functions/get-presence/handler';
import { handler as getUserPresence } from '../../src/functions/get-user-presence/handler';
import { handler as heartbeat } from '../../src/functions/heartbeat/handler';
import { handler as updatePresence } from '../../src/functions/update-presence/handler';
import { handler as sweep } from '../../src/functions/timeout/handler';
import { RedisKeys } from '../../src/layer/adapters/redis/keys';
import { getRuntime } from '../../src/layer/runtime';
import { restEvent, wsEvent } from '../../events/sample-events';
import { handlerEnvironment } from '../support/runtime-env';

type Env = Awaited<ReturnType<typeof handlerEnvironment>>;
let env: Env;
let seq = 0;
/** A fresh connection id (API Gateway's are base64-like, never containing ':'). */
const conn = (label: string) => `${label}${(seq += 1)}Abc=`;

const open = (userId: string, connectionId: string) => connect(wsEvent('connect', userId, connectionId) as never);
const send = (userId: string, connectionId: string, body: unknown) =>
  updatePresence(wsEvent('update-presence', userId, connectionId, body) as never);
const beat = (userId: string, connectionId: string) => heartbeat(wsEvent('heartbeat', userId, connectionId) as never);
const hangUp = (userId: string, connectionId: string) => close(wsEvent('close', userId, connectionId) as never);
const rest = async (userId: string, target?: string) => {
  const result = (await (target === undefined
    ? getPresence(restEvent('get-presence', userId) as never)
    : getUserPresence(restEvent('get-user-presence', userId, target) as never))) as APIGatewayProxyResult;
  return {
    status: result.statusCode,
    body: JSON.parse(result.body) as Record<string, any>,
    headers: result.headers ?? {},
  };
};
const presenceOf = async (viewer: string, target: string) =>
  (await rest(viewer)).body.presenceArr.find((p: { userId: string }) => p.userId === target);

beforeAll(async () => {
  env = await handlerEnvironment({ CONNECT_WINDOW_SECONDS: '1' });
});
afterAll(async () => {
  await env.close();
});
beforeEach(() => env.api.reset());

describe('connect', () => {
  it('announces a user coming online to accepted friends only', async () => {
    const [bob1, carol1, dave1, erin1] = [conn('B'), conn('C'), conn('D'), conn('E')];
    await open('bob', bob1);
    await open('carol', carol1);
    await open('dave', dave1);
    await open('erin', erin1);
    env.api.reset();

    const alice1 = conn('A');
    const result = await open('alice', alice1);

    expect(result.statusCode).toBe(200);
    for (const friend of [bob1, carol1]) {
      expect(env.api.messagesTo(friend)).toEqual([
        expect.objectContaining({ type: 'update-presence', userId: 'alice', status: 'online', url: '' }),
      ]);
    }
    expect(env.api.messagesTo(dave1)).toEqual([]);
    expect(env.api.messagesTo(erin1)).toEqual([]);
    await Promise.all([
      hangUp('alice', alice1),
      hangUp('bob', bob1),
      hangUp('carol', carol1),
      hangUp('dave', dave1),
      hangUp('erin', erin1),
    ]);
  });

  it('echoes the presence.v1 subprotocol when the client offered it', async () => {
    const id = conn('A');
    const result = await connect(wsEvent('connect-subprotocol', 'alice', id) as never);
    expect(result.statusCode).toBe(200);
    expect(result.headers).toEqual({ 'Sec-WebSocket-Protocol': 'presence.v1' });
    await hangUp('alice', id);
  });

  it('refuses an origin that is not allowed with 403 and registers nothing', async () => {
    const id = conn('A');
    const result = await connect(wsEvent('connect-bad-origin', 'alice', id) as never);
    expect(result.statusCode).toBe(403);
    expect((await rest('alice')).body.userPresence.status).toBe('offline');
  });

  it('refuses an unknown initial status with 400', async () => {
    const event = wsEvent<any>('connect', 'alice', conn('A'));
    event.queryStringParameters = { ...event.queryStringParameters, status: 'sleepy' };
    expect((await connect(event)).statusCode).toBe(400);
  });
});

describe('update-presence', () => {
  it('shares a stripped page with friends and tells nobody else', async () => {
    const [alice1, bob1, dave1] = [conn('A'), conn('B'), conn('D')];
    await open('alice', alice1);
    await open('bob', bob1);
    await open('dave', dave1);
    env.api.reset();

    const result = await send('alice', alice1, {
      action: 'update-presence',
      url: 'https://en.wikipedia.org/wiki/Presence?utm_source=x#History',
      title: 'Presence - Wikipedia',
    });

    expect(result.statusCode).toBe(200);
    expect(env.api.messagesTo(bob1)).toEqual([
      {
        type: 'update-presence',
        userId: 'alice',
        status: 'online',
        url: 'https://en.wikipedia.org/wiki/Presence',
        title: 'Presence - Wikipedia',
        domain: 'wikipedia.org',
        latestUrl: 'https://en.wikipedia.org/wiki/Presence',
        latestTitle: 'Presence - Wikipedia',
        latestDomain: 'wikipedia.org',
        message: null,
        activity: null,
        lastSeen: expect.any(Number),
        v: expect.any(Number),
      },
    ]);
    expect(env.api.messagesTo(dave1)).toEqual([]);
    expect(env.api.messagesTo(alice1)).toEqual([]);
    await Promise.all([hangUp('alice', alice1), hangUp('bob', bob1), hangUp('dave', dave1)]);
  });

  it('default_all: hides denied domains; default_none: shows only allowed domains', async () => {
    const [alice1, bob1] = [conn('A'), conn('B')];
    await open('alice', alice1);
    await open('bob', bob1);

    await send('alice', alice1, { action: 'update-presence', url: 'https://www.facebook.com/me', title: 'Facebook' });
    expect(await presenceOf('bob', 'alice')).toMatchObject({ page: { url: '', title: '', domain: '' } });

    await send('bob', bob1, { action: 'update-presence', url: 'https://github.com/x/y', title: 'Repo' });
    expect(await presenceOf('alice', 'bob')).toMatchObject({
      status: 'online',
      page: { url: '', title: '', domain: '' },
    });

    await send('bob', bob1, { action: 'update-presence', url: 'https://de.wikipedia.org/wiki/X?q=1', title: 'X' });
    expect(await presenceOf('alice', 'bob')).toMatchObject({
      page: { url: 'https://de.wikipedia.org/wiki/X', title: 'X', domain: 'wikipedia.org' },
      latestPage: { url: 'https://de.wikipedia.org/wiki/X', title: 'X', domain: 'wikipedia.org' },
    });

    await send('alice', alice1, { action: 'update-presence', url: 'chrome://settings', title: 'Settings' });
    expect(await presenceOf('bob', 'alice')).toMatchObject({ page: { url: '', title: '', domain: '' } });
    await Promise.all([hangUp('alice', alice1), hangUp('bob', bob1)]);
  });

  it('sets a status and custom message, and tells the user’s other connections', async () => {
    const [alice1, alice2, bob1] = [conn('A'), conn('A'), conn('B')];
    await open('alice', alice1);
    await open('alice', alice2);
    await open('bob', bob1);
    env.api.reset();

    await send('alice', alice1, { action: 'update-presence', status: 'busy', message: 'Deep work' });

    expect(env.api.messagesTo(bob1)).toEqual([
      expect.objectContaining({ userId: 'alice', status: 'busy', message: 'Deep work' }),
    ]);
    expect(env.api.messagesTo(alice2)).toEqual([expect.objectContaining({ userId: 'alice', status: 'busy' })]);
    expect(env.api.messagesTo(alice1)).toEqual([]);
    await Promise.all([hangUp('alice', alice1), hangUp('alice', alice2), hangUp('bob', bob1)]);
  });

  it('invisible: friends see offline without page, the user sees their real state', async () => {
    const [alice1, alice2, bob1] = [conn('A'), conn('A'), conn('B')];
    await open('alice', alice1);
    await open('alice', alice2);
    await open('bob', bob1);
    await send('alice', alice1, { action: 'update-presence', url: 'https://example.com/a', title: 'A' });
    env.api.reset();

    await send('alice', alice1, {
      action: 'update-presence',
      status: 'invisible',
      url: 'https://example.com/secret',
      title: 'S',
    });

    expect(env.api.messagesTo(bob1)).toEqual([
      { type: 'presence-timeout', userId: 'alice', lastSeen: expect.any(Number), v: expect.any(Number) },
    ]);
    expect(env.api.messagesTo(alice2)).toEqual([
      expect.objectContaining({ status: 'invisible', url: 'https://example.com/secret' }),
    ]);
    const seenByBob = await presenceOf('bob', 'alice');
    expect(seenByBob).toMatchObject({ status: 'offline', page: null, message: null });
    expect(seenByBob.latestPage).toEqual({ url: 'https://example.com/a', title: 'A', domain: 'example.com' });
    expect((await rest('alice')).body.userPresence).toMatchObject({ status: 'invisible' });

    // Activity while invisible does not move what friends see.
    env.api.reset();
    await beat('alice', alice1);
    expect((await presenceOf('bob', 'alice')).lastSeen).toBe(seenByBob.lastSeen);
    // invisible is a standing choice: it outlives these connections until the user says online
    await Promise.all([hangUp('alice', alice1), hangUp('alice', alice2)]);
    const alice3 = conn('A');
    await open('alice', alice3);
    expect((await presenceOf('bob', 'alice')).status).toBe('offline');
    await send('alice', alice3, { action: 'update-presence', status: 'online' });
    expect((await presenceOf('bob', 'alice')).status).toBe('online');
    await Promise.all([hangUp('alice', alice3), hangUp('bob', bob1)]);
  });
});

describe('multi-tab and disconnect', () => {
  it('keeps the user online while one of two connections remains; the last one going notifies', async () => {
    const [alice1, alice2, bob1] = [conn('A'), conn('A'), conn('B')];
    await open('bob', bob1);
    await open('alice', alice1);
    await open('alice', alice2);
    env.api.reset();

    await hangUp('alice', alice1);
    expect(env.api.messagesTo(bob1)).toEqual([]);
    expect((await presenceOf('bob', 'alice')).status).toBe('online');

    await hangUp('alice', alice2);
    expect(env.api.messagesTo(bob1)).toEqual([
      { type: 'presence-timeout', userId: 'alice', lastSeen: expect.any(Number), v: expect.any(Number) },
    ]);
    expect(await presenceOf('bob', 'alice')).toMatchObject({
      status: 'offline',
      page: null,
      lastSeen: expect.any(Number),
    });
    await hangUp('bob', bob1);
  });

  it('a $disconnect for an old connection never wipes a newer one', async () => {
    const [alice1, alice2, bob1] = [conn('A'), conn('A'), conn('B')];
    await open('bob', bob1);
    await open('alice', alice1);
    await hangUp('alice', alice1);
    await open('alice', alice2);
    env.api.reset();

    await hangUp('alice', alice1);
    await hangUp('alice', alice1);

    expect(env.api.messagesTo(bob1)).toEqual([]);
    expect((await presenceOf('bob', 'alice')).status).toBe('online');
    await Promise.all([hangUp('alice', alice2), hangUp('bob', bob1)]);
  });

  it("status: online > away across connections; busy is the user's choice on every connection until online", async () => {
    const [alice1, alice2] = [conn('A'), conn('A')];
    await open('alice', alice1);
    await open('alice', alice2);
    await send('alice', alice1, { action: 'update-presence', status: 'away' });
    expect((await presenceOf('bob', 'alice')).status).toBe('online');
    await send('alice', alice2, { action: 'update-presence', status: 'busy' });
    expect((await presenceOf('bob', 'alice')).status).toBe('busy');
    await hangUp('alice', alice2);
    expect((await presenceOf('bob', 'alice')).status).toBe('busy');
    const alice3 = conn('A');
    await open('alice', alice3);
    expect((await presenceOf('bob', 'alice')).status).toBe('busy');
    await send('alice', alice3, { action: 'update-presence', status: 'online' });
    expect((await presenceOf('bob', 'alice')).status).toBe('online');
    await hangUp('alice', alice3);
    expect((await presenceOf('bob', 'alice')).status).toBe('away');
    await send('alice', alice1, { action: 'update-presence', status: 'online' });
    await hangUp('alice', alice1);
  });
});

describe('REST', () => {
  it('GET /presence returns the caller, accepted friends and their info, with CORS for allowed origins', async () => {
    const alice1 = conn('A');
    await open('alice', alice1);

    const { status, body, headers } = await rest('alice');

    expect(status).toBe(200);
    expect(headers['Access-Control-Allow-Origin']).toBe('http://127.0.0.1:3000');
    expect(body.userPresence).toMatchObject({ userId: 'alice', status: 'online', page: { url: '' } });
    expect(body.presenceArr.map((p: { userId: string }) => p.userId).sort()).toEqual(['bob', 'carol']);
    expect(body.presenceArr.find((p: { userId: string }) => p.userId === 'bob')).toEqual({
      userId: 'bob',
      status: 'offline',
      page: null,
      latestPage: { url: 'https://de.wikipedia.org/wiki/X', title: 'X', domain: 'wikipedia.org' },
      message: null,
      activity: null,
      lastSeen: expect.any(Number),
      v: expect.any(Number),
    });
    expect(Object.keys(body.userInfoMap).sort()).toEqual(['alice', 'bob', 'carol']);
    expect(body.userInfoMap.bob).toEqual({
      user_id: 'bob',
      first_name: 'Bob',
      last_name: 'Test',
      profile_image_extension: null,
    });
    await hangUp('alice', alice1);
  });

  it('GET /presence/{userId}: self and friends answer, anyone else is 403 whether they exist or not', async () => {
    expect((await rest('alice', 'alice')).body).toMatchObject({ userId: 'alice' });
    expect((await rest('alice', 'bob')).status).toBe(200);
    for (const other of ['erin', 'dave', 'nobody-at-all']) {
      expect(await rest('alice', other)).toMatchObject({
        status: 403,
        body: { message: 'Forbidden access to user presence' },
      });
    }
  });

  it('GET /presence/{userId} with an oversized id is 400', async () => {
    expect((await rest('alice', 'x'.repeat(200))).status).toBe(400);
  });
});

describe('bad input changes nothing', () => {
  const cases: [string, string, unknown, string, RegExp][] = [
    [
      'url too long',
      'update-presence',
      { action: 'update-presence', url: `https://a.com/${'a'.repeat(2100)}` },
      'invalid_message',
      /url/,
    ],
    [
      'title too long',
      'update-presence',
      { action: 'update-presence', url: 'https://a.com', title: 't'.repeat(513) },
      'invalid_message',
      /title/,
    ],
    [
      'unknown status',
      'update-presence',
      { action: 'update-presence', status: 'sleeping' },
      'invalid_message',
      /status/,
    ],
    [
      'message too long',
      'update-presence',
      { action: 'update-presence', message: 'm'.repeat(141) },
      'invalid_message',
      /message/,
    ],
    ['url not a string', 'update-presence', { action: 'update-presence', url: 42 }, 'invalid_message', /url/],
    [
      'over 8 KB',
      'update-presence',
      JSON.stringify({ action: 'update-presence', pad: 'p'.repeat(9000) }),
      'invalid_message',
      /8192 bytes/,
    ],
    ['not JSON', 'default-not-json', 'hello there', 'invalid_message', /JSON/],
    ['JSON array', 'default-not-json', '[1,2]', 'invalid_message', /JSON object/],
    ['unknown action', 'default-unknown-action', { action: 'dance' }, 'unknown_action', /dance/],
    ['no action', 'default-unknown-action', { hello: 1 }, 'unknown_action', /no action/],
  ];

  it.each(cases)(
    '%s: the sender gets an error naming it, friends hear nothing',
    async (_name, eventName, body, code, text) => {
      const [alice1, bob1] = [conn('A'), conn('B')];
      await open('alice', alice1);
      await open('bob', bob1);
      await send('alice', alice1, { action: 'update-presence', url: 'https://example.com/before', title: 'Before' });
      const before = await presenceOf('bob', 'alice');
      env.api.reset();

      const event = wsEvent(eventName, 'alice', alice1, body);
      const result =
        eventName === 'update-presence' ? await updatePresence(event as never) : await heartbeat(event as never);

      expect(result.statusCode).toBe(400);
      const [reply, ...more] = env.api.messagesTo(alice1);
      expect(more).toEqual([]);
      expect(reply).toMatchObject({ type: 'error', code });
      expect(String(reply?.message)).toMatch(text);
      expect(env.api.messagesTo(bob1)).toEqual([]);
      expect(await presenceOf('bob', 'alice')).toEqual(before);
      await Promise.all([hangUp('alice', alice1), hangUp('bob', bob1)]);
    },
  );
});

describe('fan-out', () => {
  it('a 410 removes exactly that connection of that user and delivery to the others goes on', async () => {
    const [alice1, bob1, bob2, carol1] = [conn('A'), conn('B'), conn('B'), conn('C')];
    await open('bob', bob1);
    await open('bob', bob2);
    await open('carol', carol1);
    await open('alice', alice1);
    env.api.reset();
    env.api.gone.add(bob1);
    // Past the $connect window (1 s here): a 410 now means gone.
    await new Promise((r) => setTimeout(r, 1100));

    await send('alice', alice1, { action: 'update-presence', url: 'https://example.com/', title: 'E' });

    expect(env.api.messagesTo(bob2)).toHaveLength(1);
    expect(env.api.messagesTo(carol1)).toHaveLength(1);
    const { redis } = await getRuntime();
    const bobConns = await redis.client.hkeys(new RedisKeys(env.prefix).conns('bob'));
    expect(bobConns).toEqual([bob2]);
    expect((await presenceOf('alice', 'bob')).status).toBe('online');
    await Promise.all([hangUp('alice', alice1), hangUp('bob', bob2), hangUp('carol', carol1)]);
  });

  it('a 410 within the $connect window keeps the connection and delivers once it is established', async () => {
    const [alice1, bob1] = [conn('A'), conn('B')];
    await open('bob', bob1);
    await open('alice', alice1);
    env.api.reset();
    env.api.gone.add(bob1);

    await send('alice', alice1, { action: 'update-presence', url: 'https://example.com/w', title: 'W' });

    const { redis } = await getRuntime();
    expect(await redis.client.hkeys(new RedisKeys(env.prefix).conns('bob'))).toEqual([bob1]);
    env.api.gone.delete(bob1);
    await new Promise((r) => setTimeout(r, 1400));
    await sweep({} as never);
    // the 410 attempt, then the delivery: the same change, the same v
    const received = env.api.messagesTo(bob1);
    expect(received).toEqual([
      expect.objectContaining({ url: 'https://example.com/w' }),
      expect.objectContaining({ url: 'https://example.com/w' }),
    ]);
    expect(received[0]?.v).toBe(received[1]?.v);
    await Promise.all([hangUp('alice', alice1), hangUp('bob', bob1)]);
  });

  it('keeps a throttled post in the mailbox and the sweep delivers it after the backoff', async () => {
    const [alice1, bob1] = [conn('A'), conn('B')];
    await open('bob', bob1);
    await open('alice', alice1);
    env.api.reset();
    env.api.throttleNext = 1;

    await send('alice', alice1, { action: 'update-presence', url: 'https://example.com/t', title: 'T' });
    expect(env.api.messagesTo(bob1)).toEqual([]);
    await new Promise((r) => setTimeout(r, 1400));
    await sweep({} as never);

    expect(env.api.messagesTo(bob1)).toEqual([expect.objectContaining({ url: 'https://example.com/t' })]);
    await Promise.all([hangUp('alice', alice1), hangUp('bob', bob1)]);
  });
});

describe('heartbeat and rate limit', () => {
  it('a heartbeat notifies no one', async () => {
    const [alice1, bob1] = [conn('A'), conn('B')];
    await open('bob', bob1);
    await open('alice', alice1);
    env.api.reset();
    expect((await beat('alice', alice1)).statusCode).toBe(200);
    expect(env.api.calls).toEqual([]);
    await Promise.all([hangUp('alice', alice1), hangUp('bob', bob1)]);
  });

  it('drops messages over the rate and says rate_limited at most once a second', async () => {
    const alice1 = conn('A');
    await open('alice', alice1);
    env.api.reset();
    const results = [];
    for (let i = 0; i < 30; i += 1) results.push((await beat('alice', alice1)).statusCode);
    expect(results.filter((s) => s === 200).length).toBeGreaterThanOrEqual(19);
    expect(results.filter((s) => s === 429).length).toBeGreaterThanOrEqual(5);
    const notices = env.api.messagesTo(alice1).filter((m) => m.code === 'rate_limited');
    expect(notices.length).toBeGreaterThanOrEqual(1);
    expect(notices.length).toBeLessThanOrEqual(2);
    await hangUp('alice', alice1);
  });
});
