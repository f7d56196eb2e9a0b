// Protocol e2e: real WebSocket clients through the local API Gateway to the real handlers, Redis and Postgres.
import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GetConnectionCommand,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { createDevIssuer } from '../../src/local/dev-issuer';
import { createUsers, waitForConnectionIds } from './support/demo-data';
import type { StackProcess } from './support/stack-process';
import { devToken, startStackProcess } from './support/stack-process';
import { HandshakeError, WsPeer, sleep } from './support/ws-peer';

jest.setTimeout(60_000);

const GRACE_MS = 2000;
let stack: StackProcess;
const peers: WsPeer[] = [];

async function connect(
  userId: string,
  via: 'subprotocol' | 'query' = 'subprotocol',
  headers: Record<string, string> = {},
): Promise<WsPeer> {
  const peer = await WsPeer.connect(stack.wsUrl, await devToken(stack.url, userId), via, headers);
  peers.push(peer);
  return peer;
}

async function handshakeStatus(url: string, protocols?: string[]): Promise<number> {
  const { default: WebSocket } = await import('ws');
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, protocols);
    socket.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    socket.once('open', () => {
      socket.close();
      reject(new Error('handshake was accepted'));
    });
    socket.once('error', reject);
  });
}

async function getJson(path: string, token: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${stack.url}${path}`, { headers: { Authorization: `Bearer ${token}` } });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  stack = await startStackProcess({ GRACE_SECONDS: String(GRACE_MS / 1000), SWEEP_INTERVAL_SECONDS: '1' });
});

afterEach(async () => {
  await Promise.all(peers.splice(0).map((p) => p.close()));
});

afterAll(async () => {
  const code = await stack?.stop();
  expect(code).toBe(143);
});

describe('the local stack with real WebSocket clients', () => {
  it('tells a friend when a user comes online and shares a page (two users)', async () => {
    // Arrange
    const u = await createUsers(stack.url, 'two', { ann: {}, ben: {} }, [['ann', 'ben']]);
    const ben = await connect(u.ben);
    // Act
    const ann = await connect(u.ann);
    await ben.waitFor(
      (m) => m.type === 'update-presence' && m.userId === u.ann && m.status === 'online',
      5000,
      'ann online',
    );
    ann.send({
      action: 'update-presence',
      url: 'https://en.wikipedia.org/wiki/Presence?utm_source=x#History',
      title: 'Presence - Wikipedia',
    });
    // Assert
    const update = await ben.waitFor((m) => m.userId === u.ann && m.url !== '', 5000, 'ann page');
    expect(update).toMatchObject({
      type: 'update-presence',
      status: 'online',
      url: 'https://en.wikipedia.org/wiki/Presence',
      title: 'Presence - Wikipedia',
      domain: 'wikipedia.org',
      latestUrl: 'https://en.wikipedia.org/wiki/Presence',
    });
    expect(typeof update.lastSeen).toBe('number');
  });

  it('notifies only accepted friends among three users, never a pending friend or a stranger', async () => {
    // Arrange
    const u = await createUsers(stack.url, 'three', { xen: {}, yul: {}, zoe: {}, pat: {}, sam: {} }, [
      ['xen', 'yul'],
      ['xen', 'zoe'],
      ['yul', 'zoe'],
      ['pat', 'xen', false],
    ]);
    const [yul, zoe, pat, sam] = await Promise.all([connect(u.yul), connect(u.zoe), connect(u.pat), connect(u.sam)]);
    const xen = await connect(u.xen);
    // Act
    xen.send({ action: 'update-presence', url: 'https://github.com/presence', title: 'GitHub' });
    // Assert
    await yul.waitFor((m) => m.userId === u.xen && m.url === 'https://github.com/presence', 5000, 'yul sees xen');
    await zoe.waitFor((m) => m.userId === u.xen && m.url === 'https://github.com/presence', 5000, 'zoe sees xen');
    await sleep(500);
    expect(pat.about(u.xen)).toEqual([]);
    expect(sam.about(u.xen)).toEqual([]);
    expect(xen.messages.map((m) => m.userId)).not.toContain(u.pat);
    expect(xen.messages.map((m) => m.userId)).not.toContain(u.sam);
  });

  it("applies the sharer's privacy settings: default_none shares only allowed domains, stripped", async () => {
    // Arrange
    const u = await createUsers(
      stack.url,
      'privacy',
      { shy: { shareMode: 'default_none', domainAllow: ['wikipedia.org'] }, fan: {} },
      [['shy', 'fan']],
    );
    const fan = await connect(u.fan);
    const shy = await connect(u.shy);
    // Act
    shy.send({ action: 'update-presence', url: 'https://mail.example.com/inbox?id=1', title: 'Inbox' });
    const hidden = await fan.waitFor(
      (m) => m.userId === u.shy && m.status === 'online' && m.title === '' && m.latestUrl === '',
      5000,
    );
    shy.send({ action: 'update-presence', url: 'https://de.wikipedia.org/wiki/Anwesenheit#x', title: 'Anwesenheit' });
    const shared = await fan.waitFor((m) => m.userId === u.shy && m.url !== '', 5000, 'shared page');
    // Assert
    expect(hidden.url).toBe('');
    expect(shared).toMatchObject({ url: 'https://de.wikipedia.org/wiki/Anwesenheit', domain: 'wikipedia.org' });
    expect(JSON.stringify(fan.messages)).not.toContain('mail.example.com');
  });

  it('keeps a user online while one of several tabs is open and tells the other tabs of their own changes', async () => {
    // Arrange
    const u = await createUsers(stack.url, 'tabs', { tab: {}, pal: {} }, [['tab', 'pal']]);
    const pal = await connect(u.pal);
    const tab1 = await connect(u.tab);
    await pal.waitFor((m) => m.userId === u.tab && m.status === 'online', 5000);
    const tab2 = await connect(u.tab);
    // Act
    tab2.send({ action: 'update-presence', url: 'https://github.com/tabs', title: 'Tabs', status: 'busy' });
    // Assert: the other tab gets its own user's change, the friend sees the rolled-up status
    await tab1.waitFor(
      (m) => m.userId === u.tab && m.status === 'busy' && m.url === 'https://github.com/tabs',
      5000,
      'own update',
    );
    await pal.waitFor((m) => m.userId === u.tab && m.status === 'busy', 5000, 'busy');
    await tab1.close();
    await sleep(GRACE_MS + 2000);
    expect(pal.about(u.tab, 'presence-timeout')).toEqual([]);
    await tab2.close();
    await pal.waitFor(
      (m) => m.type === 'presence-timeout' && m.userId === u.tab,
      GRACE_MS + 4000,
      'timeout after last tab',
    );
  });

  it('keeps a reconnect within the grace window invisible to friends, and reports offline after it', async () => {
    // Arrange
    const u = await createUsers(stack.url, 'grace', { flap: {}, watcher: {} }, [['flap', 'watcher']]);
    const watcher = await connect(u.watcher);
    const first = await connect(u.flap);
    first.send({ action: 'update-presence', url: 'https://github.com/grace', title: 'Grace' });
    await watcher.waitFor((m) => m.userId === u.flap && m.url === 'https://github.com/grace', 5000);
    watcher.clear();
    // Act: reload (close and reconnect quickly)
    await first.close(1001);
    const second = await connect(u.flap);
    await sleep(GRACE_MS + 2000);
    // Assert: nobody was told anything
    expect(watcher.messages).toEqual([]);
    // Act: leave for good
    const leftAt = Date.now();
    await second.close(1001);
    const timeout = await watcher.waitFor((m) => m.type === 'presence-timeout' && m.userId === u.flap, GRACE_MS + 5000);
    // Assert
    expect(Date.now() - leftAt).toBeGreaterThanOrEqual(GRACE_MS - 200);
    expect(typeof timeout.lastSeen).toBe('number');
  });

  it('refuses a missing, malformed, expired or foreign token at the upgrade with 401', async () => {
    // Arrange
    const expired = await devToken(stack.url, 'alice', -60);
    const foreign = createDevIssuer({ issuer: `${stack.url}/dev/issuer`, audience: 'presence-local' }).sign('alice');
    // Act
    const statuses = await Promise.all([
      handshakeStatus(stack.wsUrl),
      handshakeStatus(`${stack.wsUrl}?Authorization=not-a-jwt`),
      handshakeStatus(stack.wsUrl, ['presence.v1', expired]),
      handshakeStatus(`${stack.wsUrl}?token=${foreign}`),
    ]);
    const rest = await getJson('/presence', expired);
    // Assert
    expect(statuses).toEqual([401, 401, 401, 401]);
    expect(rest).toEqual({ status: 401, body: { message: 'Unauthorized' } });
  });

  it('refuses a WebSocket from an origin that is not allowed with 403', async () => {
    // Arrange
    const token = await devToken(stack.url, 'alice');
    // Act
    const refused = await WsPeer.connect(stack.wsUrl, token, 'subprotocol', { Origin: 'https://evil.example' }).catch(
      (e: unknown) => e,
    );
    // Assert
    expect(refused).toBeInstanceOf(HandshakeError);
    expect((refused as HandshakeError).status).toBe(403);
  });

  it('echoes presence.v1 for a subprotocol token and accepts the PageNow query token', async () => {
    // Arrange / Act
    const bySubprotocol = await connect('carol');
    const byQuery = await connect('carol', 'query');
    // Assert
    expect(bySubprotocol.socket.protocol).toBe('presence.v1');
    expect(byQuery.socket.protocol).toBe('');
  });

  it('answers bad messages with errors and keeps the connection open', async () => {
    // Arrange
    const u = await createUsers(stack.url, 'bad', { noisy: {}, quiet: {} }, [['noisy', 'quiet']]);
    const quiet = await connect(u.quiet);
    const noisy = await connect(u.noisy);
    // Act
    noisy.send('this is not JSON');
    noisy.send({ action: 'dance' });
    noisy.send({ action: 'update-presence', url: `https://example.com/${'x'.repeat(2100)}`, title: 't' });
    noisy.send({ action: 'update-presence', status: 'sleeping' });
    noisy.send({ action: 'heartbeat', jwt: 'not-a-token' });
    noisy.send({ action: 'update-presence', url: 'https://github.com/ok', title: 'OK' });
    // Assert
    await quiet.waitFor((m) => m.userId === u.noisy && m.url === 'https://github.com/ok', 5000, 'the good update');
    const errors = noisy.messages.filter((m) => m.type === 'error');
    expect(errors.map((e) => e.code)).toEqual([
      'invalid_message',
      'unknown_action',
      'invalid_message',
      'invalid_message',
      // a malformed token in a message is refused (contract, "Token lifetime") and that message dropped
      'unauthorized',
    ]);
    expect(String(errors[2]?.message)).toContain('url');
    expect(String(errors[3]?.message)).toContain('status');
    expect(noisy.closed).toBeUndefined();
  });

  it('closes the connection with 1009 when a frame is over 32 KB', async () => {
    // Arrange
    const peer = await connect('dave');
    // Act
    peer.send('x'.repeat(33 * 1024));
    // Assert
    expect((await peer.waitForClose()).code).toBe(1009);
  });

  it('serves a REST snapshot consistent with what was pushed', async () => {
    // Arrange
    const u = await createUsers(stack.url, 'rest', { pub: {}, sub: {}, out: {} }, [['pub', 'sub']]);
    const sub = await connect(u.sub);
    const pub = await connect(u.pub);
    pub.send({
      action: 'update-presence',
      url: 'https://github.com/rest',
      title: 'REST',
      status: 'away',
      message: 'lunch',
    });
    const pushed = await sub.waitFor(
      (m) => m.userId === u.pub && m.url === 'https://github.com/rest' && m.status === 'away',
      5000,
    );
    const subToken = await devToken(stack.url, u.sub);
    // Act
    const overview = await getJson('/presence', subToken);
    const one = await getJson(`/presence/${u.pub}`, subToken);
    const stranger = await getJson(`/presence/${u.pub}`, await devToken(stack.url, u.out));
    // Assert
    const expected = {
      userId: u.pub,
      status: pushed.status,
      page: { url: pushed.url, title: pushed.title, domain: pushed.domain },
      latestPage: { url: pushed.latestUrl, title: pushed.latestTitle, domain: pushed.latestDomain },
      message: pushed.message,
      activity: pushed.activity,
      lastSeen: pushed.lastSeen,
      v: pushed.v,
    };
    expect(overview.status).toBe(200);
    expect(overview.body.presenceArr).toEqual([expected]);
    expect(overview.body.userInfoMap).toHaveProperty(u.pub);
    // PageNow's web client reads the shared page at the top level of GET /presence/{userId}.
    expect(one).toEqual({ status: 200, body: { ...expected, url: pushed.url, title: pushed.title } });
    expect(stranger).toEqual({ status: 403, body: { message: 'Forbidden access to user presence' } });
  });

  it('answers CORS preflights for allowed origins only', async () => {
    // Arrange
    const preflight = (origin: string) =>
      fetch(`${stack.url}/presence`, {
        method: 'OPTIONS',
        headers: {
          Origin: origin,
          'Access-Control-Request-Method': 'GET',
          'Access-Control-Request-Headers': 'authorization',
        },
      });
    // Act
    const [allowed, denied] = await Promise.all([preflight(stack.url), preflight('https://evil.example')]);
    // Assert
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(stack.url);
    expect(allowed.headers.get('access-control-allow-headers')).toMatch(/authorization/i);
    expect(denied.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('serves @connections to the real SDK client: GET, POST, DELETE (fires $disconnect) and 410 for unknown ids', async () => {
    // Arrange
    const u = await createUsers(stack.url, 'mgmt', { target: {}, friend: {} }, [['target', 'friend']]);
    const friend = await connect(u.friend);
    const target = await connect(u.target);
    const [connectionId] = await waitForConnectionIds(() => stack.output(), u.target);
    const api = new ApiGatewayManagementApiClient({
      endpoint: `${stack.url}/local`,
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    });
    // Act
    const info = await api.send(new GetConnectionCommand({ ConnectionId: connectionId }));
    await api.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.from('{"type":"hello"}') }));
    await target.waitFor((m) => m.type === 'hello');
    await api.send(new DeleteConnectionCommand({ ConnectionId: connectionId }));
    const closed = await target.waitForClose();
    const gone = await api.send(new GetConnectionCommand({ ConnectionId: connectionId })).catch((e: unknown) => e);
    // Assert
    expect(info.ConnectedAt).toBeInstanceOf(Date);
    expect(info.LastActiveAt).toBeInstanceOf(Date);
    expect(info.Identity?.SourceIp).toBe('127.0.0.1');
    expect(closed.code).toBe(1000);
    expect((gone as { name?: string }).name).toBe('GoneException');
    expect((gone as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode).toBe(410);
    await friend.waitFor(
      (m) => m.type === 'presence-timeout' && m.userId === u.target,
      GRACE_MS + 5000,
      'offline after DELETE',
    );
    expect(stack.output()).toMatch(new RegExp(`\\$disconnect\\s+200\\s+${u.target}`));
    api.destroy();
  });
});
