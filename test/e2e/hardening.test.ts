// Input hardening and token hygiene through the local stack: malformed paths, prototype-named ids, tokens kept out
// of the request log, and the /dev and @connections routes closed to web pages in the developer's browser.
import { request } from 'node:http';
import { connectionIdsOf, waitForConnectionIds } from './support/demo-data';
import type { StackProcess } from './support/stack-process';
import { devToken, postJson, startStackProcess } from './support/stack-process';
import { WsPeer } from './support/ws-peer';

jest.setTimeout(60_000);

let stack: StackProcess;
const peers: WsPeer[] = [];
/** Every token handed out in this file: none may ever appear in the stack's output. */
const tokens: string[] = [];

async function tokenFor(userId: string): Promise<string> {
  const token = await devToken(stack.url, userId);
  tokens.push(token);
  return token;
}

async function connect(userId: string, via: 'subprotocol' | 'query' = 'subprotocol'): Promise<WsPeer> {
  const peer = await WsPeer.connect(stack.wsUrl, await tokenFor(userId), via);
  peers.push(peer);
  return peer;
}

/** A raw HTTP request (fetch would normalize the target): status and body. */
function raw(
  method: string,
  target: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<{ status: number; body: string; contentType: string | undefined }> {
  const { port } = new URL(stack.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path: target, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks).toString('utf8'),
          contentType: res.headers['content-type'],
        }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Users and friendships straight through /dev (exact ids, unlike createUsers). */
async function seed(users: string[], friendships: [string, string][]): Promise<void> {
  for (const userId of users) {
    expect(await postJson(stack.url, '/dev/users', { userId, firstName: `F${userId}`, shareMode: 'default_all' })).toBe(
      201,
    );
  }
  for (const [userId1, userId2] of friendships) {
    expect(await postJson(stack.url, '/dev/friendships', { userId1, userId2, accepted: true })).toBe(201);
  }
}

const devUsers = async (): Promise<string[]> =>
  ((await (await fetch(`${stack.url}/dev/users`)).json()) as { users: { userId: string }[] }).users.map(
    (u) => u.userId,
  );

beforeAll(async () => {
  stack = await startStackProcess({ GRACE_SECONDS: '1', SWEEP_INTERVAL_SECONDS: '1' });
});

afterEach(async () => {
  await Promise.all(peers.splice(0).map((p) => p.close()));
});

afterAll(async () => {
  const output = stack?.output() ?? '';
  const code = await stack?.stop();
  expect(code).toBe(143);
  for (const token of tokens) {
    expect(output).not.toContain(token);
    expect(output).not.toContain(token.split('.')[2]);
  }
});

describe('malformed percent-encoding is a 400 with a JSON message, never a 500', () => {
  it.each(['/presence/%ZZ', '/presence/%', '/presence/%E0%A4%A', '/presence/a%2'])('GET %s', async (path) => {
    const token = await tokenFor('alice');
    const response = await raw('GET', path, { Authorization: `Bearer ${token}` });
    expect(response.status).toBe(400);
    expect(response.contentType).toMatch(/application\/json/);
    expect(JSON.parse(response.body)).toEqual({ message: expect.any(String) });
  });

  it.each(['POST', 'GET', 'DELETE'])('%s /local/@connections/%%ZZ', async (method) => {
    const body = method === 'POST' ? '{}' : undefined;
    const response = await raw(method, '/local/@connections/%ZZ', { 'Content-Type': 'application/json' }, body);
    expect(response.status).toBe(400);
    expect(JSON.parse(response.body)).toEqual({ message: expect.any(String) });
  });

  it('a request target that is not a URL at all answers, and the stack keeps serving', async () => {
    const token = await tokenFor('alice');
    expect((await raw('GET', `//[bad?Authorization=${token}`)).status).toBe(404);
    expect((await raw('GET', '/presence', { Authorization: `Bearer ${token}` })).status).toBe(200);
  });
});

describe('tokens', () => {
  it('GET /presence/%ZZ?Authorization=<jwt>: 400, and the token is not in the request log', async () => {
    const token = await tokenFor('alice');
    const response = await raw('GET', `/presence/%ZZ?Authorization=${token}`);
    expect(response.status).toBe(400);
    expect(stack.output()).toMatch(/GET \/presence\/%ZZ\s+400/);
    expect(stack.output()).not.toContain(token);
  });

  it('REST ignores a token in the query string: alone it is 401, next to a header the header decides', async () => {
    const alice = await tokenFor('alice');
    const bob = await tokenFor('bob');
    expect((await raw('GET', `/presence?Authorization=${alice}`)).status).toBe(401);
    expect((await raw('GET', `/presence/alice?token=${alice}`)).status).toBe(401);
    const mixed = await raw('GET', `/presence?Authorization=${alice}`, { Authorization: `Bearer ${bob}` });
    expect(mixed.status).toBe(200);
    expect(JSON.parse(mixed.body).userPresence.userId).toBe('bob');
    expect(stack.output()).not.toContain(alice);
  });

  it('a WebSocket token in the query string still connects, and stays out of the log', async () => {
    const peer = await connect('carol', 'query');
    expect(peer.socket.readyState).toBe(1);
    const token = tokens.at(-1) as string;
    const refused = await raw('GET', `/ws/%ZZ?Authorization=${token}`, {
      Connection: 'Upgrade',
      Upgrade: 'websocket',
      'Sec-WebSocket-Version': '13',
      'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
    }).catch(() => ({ status: 0 }));
    expect(refused.status).not.toBe(101);
    expect(stack.output()).not.toContain(token);
  });
});

describe('ids named like Object.prototype properties work like any other id', () => {
  it('__proto__ and constructor as accepted friends: pushes, GET /presence, GET /presence/__proto__', async () => {
    await seed(
      ['__proto__', 'constructor', 'toString'],
      [
        ['__proto__', 'constructor'],
        ['toString', 'constructor'],
      ],
    );
    const ctor = await connect('constructor');
    const proto = await connect('__proto__');
    await ctor.waitFor((m) => m.userId === '__proto__' && m.status === 'online', 5000, '__proto__ online');

    proto.send({ action: 'update-presence', url: 'https://example.com/p?q=1', title: 'P' });
    await ctor.waitFor((m) => m.userId === '__proto__' && m.url === 'https://example.com/p', 5000, '__proto__ page');
    ctor.send({ action: 'update-presence', status: 'busy' });
    await proto.waitFor((m) => m.userId === 'constructor' && m.status === 'busy', 5000, 'constructor busy');

    const token = await tokenFor('constructor');
    const overview = await raw('GET', '/presence?constructor=1&__proto__=x&toString=y', {
      Authorization: `Bearer ${token}`,
    });
    expect(overview.status).toBe(200);
    const body = JSON.parse(overview.body);
    expect(body.presenceArr.map((p: { userId: string }) => p.userId).sort()).toEqual(['__proto__', 'toString']);
    expect(Object.keys(body.userInfoMap).sort()).toEqual(['__proto__', 'constructor', 'toString']);
    expect(Object.getOwnPropertyDescriptor(body.userInfoMap, '__proto__')?.value).toMatchObject({
      user_id: '__proto__',
    });
    const one = await raw('GET', '/presence/__proto__', { Authorization: `Bearer ${token}` });
    expect(one.status).toBe(200);
    expect(JSON.parse(one.body)).toMatchObject({
      userId: '__proto__',
      status: 'online',
      page: { url: 'https://example.com/p', domain: 'example.com' },
    });
    expect((await raw('GET', '/presence/hasOwnProperty', { Authorization: `Bearer ${token}` })).status).toBe(403);
    expect((await raw('GET', '/presence/%5F%5Fproto%5F%5F', { Authorization: `Bearer ${token}` })).status).toBe(200);
  });
});

describe('the local write routes refuse web pages in the developer’s browser', () => {
  const newUser = (userId: string) => JSON.stringify({ userId, shareMode: 'default_all' });

  it.each([
    ['another origin', { Origin: 'https://evil.example', 'Sec-Fetch-Site': 'cross-site' }],
    ['another origin, no Sec-Fetch-Site', { Origin: 'https://evil.example' }],
    ['another port of the same host', { Origin: 'http://127.0.0.1:1', 'Sec-Fetch-Site': 'same-site' }],
    ['an opaque origin', { Origin: 'null' }],
    ['Sec-Fetch-Site: cross-site without Origin', { 'Sec-Fetch-Site': 'cross-site' }],
    ['Sec-Fetch-Site: same-site without Origin', { 'Sec-Fetch-Site': 'same-site' }],
  ])('POST /dev/users from %s: 403, nothing written', async (name, headers) => {
    const userId = `xo-${name.replace(/\W+/g, '-')}`;
    const response = await raw(
      'POST',
      '/dev/users',
      { 'Content-Type': 'application/json', ...headers },
      newUser(userId),
    );
    expect(response.status).toBe(403);
    expect(JSON.parse(response.body)).toEqual({ message: expect.any(String) });
    expect(await devUsers()).not.toContain(userId);
  });

  it('GET /dev/users and POST /dev/token from another origin: 403', async () => {
    expect(
      (await raw('GET', '/dev/users', { Origin: 'https://evil.example', 'Sec-Fetch-Site': 'cross-site' })).status,
    ).toBe(403);
    const token = await raw(
      'POST',
      '/dev/token',
      { 'Content-Type': 'application/json', Origin: 'https://evil.example' },
      '{"userId":"alice"}',
    );
    expect(token.status).toBe(403);
    expect(token.body).not.toContain('token":');
  });

  it.each([
    ['text/plain', 'text/plain'],
    ['a form', 'application/x-www-form-urlencoded'],
    ['multipart', 'multipart/form-data; boundary=x'],
    ['no Content-Type', undefined],
  ])('POST /dev/* with %s: 415, nothing written', async (_name, contentType) => {
    const userId = `ct-${_name.replace(/\W+/g, '-')}`;
    const headers: Record<string, string> = contentType ? { 'Content-Type': contentType } : {};
    const response = await raw('POST', '/dev/users', headers, newUser(userId));
    expect(response.status).toBe(415);
    expect(JSON.parse(response.body)).toEqual({ message: 'Content-Type must be application/json' });
    expect((await raw('POST', '/dev/friendships', headers, '{"userId1":"alice","userId2":"erin"}')).status).toBe(415);
    expect(await devUsers()).not.toContain(userId);
  });

  it('the demo page’s own origin, and clients that are not browsers, still work', async () => {
    const own = await raw(
      'POST',
      '/dev/users',
      { 'Content-Type': 'application/json; charset=utf-8', Origin: stack.url, 'Sec-Fetch-Site': 'same-origin' },
      newUser('own-origin-user'),
    );
    expect(own.status).toBe(201);
    expect((await raw('GET', '/dev/users', { 'Sec-Fetch-Site': 'same-origin' })).status).toBe(200);
    expect(await postJson(stack.url, '/dev/users', { userId: 'no-origin-user' })).toBe(201);
    expect(await devUsers()).toEqual(expect.arrayContaining(['own-origin-user', 'no-origin-user']));
  });

  it('@connections: a browser page cannot post to or delete a connection; the SDK-like client can', async () => {
    const peer = await connect('dave');
    const [connectionId] = await waitForConnectionIds(() => stack.output(), 'dave');
    const path = `/local/@connections/${encodeURIComponent(connectionId!)}`;
    const browsers: Record<string, string>[] = [
      { Origin: 'https://evil.example' },
      { 'Sec-Fetch-Site': 'cross-site' },
      { Origin: 'http://localhost:1', 'Sec-Fetch-Site': 'same-site' },
    ];
    for (const headers of browsers) {
      expect((await raw('POST', path, headers, '{"type":"forged"}')).status).toBe(403);
      expect((await raw('DELETE', path, headers)).status).toBe(403);
      expect((await raw('GET', path, headers)).status).toBe(403);
    }
    expect((await raw('POST', path, {}, '{"type":"genuine"}')).status).toBe(200);
    await peer.waitFor((m) => m.type === 'genuine', 5000, 'the genuine post');
    expect(peer.messages.some((m) => m.type === 'forged')).toBe(false);
    expect(peer.closed).toBeUndefined();
    expect(connectionIdsOf(stack.output(), 'dave')).toHaveLength(1);
  });
});
