// The client library in Node (ws injected) against the local stack: typed events, transports, reconnect, token stops.
import WebSocket from 'ws';
import { PresenceClient } from '../../src/client';
import type { ClientState, PresenceClientOptions, PresenceUpdateMessage, WebSocketConstructor } from '../../src/client';
import { createDevIssuer } from '../../src/local/dev-issuer';
import { createUsers, waitForConnectionIds } from './support/demo-data';
import type { StackProcess } from './support/stack-process';
import { devToken, startStackProcess } from './support/stack-process';
import { WsPeer, sleep } from './support/ws-peer';

jest.setTimeout(60_000);

const GRACE_MS = 1000;
const RECONNECT_MS = 8000;
let stack: StackProcess;
const clients: PresenceClient[] = [];
const peers: WsPeer[] = [];

function client(options: Partial<PresenceClientOptions> & { token: PresenceClientOptions['token'] }): PresenceClient {
  const c = new PresenceClient({
    url: stack.wsUrl,
    WebSocket: WebSocket as unknown as WebSocketConstructor,
    ...options,
  });
  clients.push(c);
  return c;
}

function next<T>(
  c: PresenceClient,
  event: 'update-presence' | 'auth-failed' | 'open',
  predicate: (payload: T) => boolean = () => true,
  timeoutMs = 5000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} in ${timeoutMs} ms`)), timeoutMs);
    const off = c.on(event, ((payload: T) => {
      if (!predicate(payload)) return;
      clearTimeout(timer);
      off();
      resolve(payload);
    }) as never);
  });
}

beforeAll(async () => {
  stack = await startStackProcess({ GRACE_SECONDS: String(GRACE_MS / 1000), SWEEP_INTERVAL_SECONDS: '1' });
});

afterEach(async () => {
  clients.splice(0).forEach((c) => c.close());
  await Promise.all(peers.splice(0).map((p) => p.close()));
});

afterAll(async () => {
  await stack?.stop();
});

describe('PresenceClient against the local stack', () => {
  it('connects with the subprotocol token and emits typed update-presence events from a friend', async () => {
    // Arrange
    const u = await createUsers(stack.url, 'lib', { me: {}, pal: {} }, [['me', 'pal']]);
    const me = client({ token: await devToken(stack.url, u.me) });
    const opened = next<{ protocol: string }>(me, 'open');
    me.connect();
    expect((await opened).protocol).toBe('presence.v1');
    const pal = await WsPeer.connect(stack.wsUrl, await devToken(stack.url, u.pal));
    peers.push(pal);
    // Act
    const update = next<PresenceUpdateMessage>(me, 'update-presence', (m) => m.url !== '');
    pal.send({ action: 'update-presence', url: 'https://github.com/lib', title: 'Lib' });
    // Assert
    await expect(update).resolves.toMatchObject({
      type: 'update-presence',
      userId: u.pal,
      url: 'https://github.com/lib',
      domain: 'github.com',
    });
    expect(me.state).toBe('open');
  });

  it('connects with the PageNow query token and sends heartbeats', async () => {
    // Arrange
    const u = await createUsers(stack.url, 'query', { beat: {} });
    const c = client({ token: await devToken(stack.url, u.beat), tokenTransport: 'query', heartbeatIntervalMs: 200 });
    // Act
    const opened = next<{ protocol: string }>(c, 'open');
    c.connect();
    await opened;
    await sleep(700);
    // Assert
    expect((await opened).protocol).toBe('');
    const heartbeats = stack
      .output()
      .split('\n')
      .filter((line) => /\sheartbeat\s+200\s/.test(line) && line.includes(u.beat));
    expect(heartbeats.length).toBeGreaterThanOrEqual(2);
  });

  it('reconnects with backoff after the server closes the socket and resends the current presence', async () => {
    // Arrange
    const u = await createUsers(stack.url, 'resend', { me: {}, pal: {} }, [['me', 'pal']]);
    const pal = await WsPeer.connect(stack.wsUrl, await devToken(stack.url, u.pal));
    peers.push(pal);
    pal.heartbeatEvery(500);
    // Reconnect only after the grace window, so the friend first sees the user go offline.
    const me = client({
      token: await devToken(stack.url, u.me),
      // The delay is jittered in [RECONNECT_MS/2, RECONNECT_MS], so at least 4 s: grace (1 s) + sweep cadence (1 s)
      // with room for a loaded CI machine. A reconnect that beats the sweep is not an offline, and the friend would
      // (rightly) see nothing at all.
      reconnect: { initialDelayMs: RECONNECT_MS, maxDelayMs: RECONNECT_MS },
    });
    me.updatePresence({ url: 'https://en.wikipedia.org/wiki/Backoff', title: 'Backoff' });
    me.connect();
    await pal.waitFor((m) => m.userId === u.me && m.url === 'https://en.wikipedia.org/wiki/Backoff', 5000);
    const [connectionId] = await waitForConnectionIds(() => stack.output(), u.me);
    const states: ClientState[] = [];
    me.on('state', (s) => states.push(s));
    pal.clear();
    // Act: the service closes the connection
    await fetch(`${stack.url}/local/@connections/${encodeURIComponent(connectionId!)}`, { method: 'DELETE' });
    // Assert: offline after grace, then back with the same page, without the app sending anything
    await pal.waitFor((m) => m.type === 'presence-timeout' && m.userId === u.me, RECONNECT_MS);
    await pal.waitFor(
      (m) => m.type === 'update-presence' && m.userId === u.me && m.url === 'https://en.wikipedia.org/wiki/Backoff',
      RECONNECT_MS + 10_000,
    );
    expect(states).toEqual(['reconnecting', 'open']);
  });

  it('stops for good when the server rejects the token', async () => {
    // Arrange
    const foreign = createDevIssuer({ issuer: `${stack.url}/dev/issuer`, audience: 'presence-local' }).sign('alice');
    const c = client({ token: foreign, reconnect: { initialDelayMs: 50, maxDelayMs: 50 } });
    // Act
    const failed = next<{ reason: string }>(c, 'auth-failed');
    c.connect();
    // Assert
    await expect(failed).resolves.toEqual({ reason: 'rejected' });
    await sleep(300);
    expect(c.state).toBe('stopped');
  });

  it('does not even try with an expired token, and asks a token function again on the next connect', async () => {
    // Arrange
    const expired = await devToken(stack.url, 'alice', -60);
    const fresh = await devToken(stack.url, 'alice');
    let calls = 0;
    const c = client({ token: () => (++calls === 1 ? expired : fresh) });
    // Act
    const failed = next<{ reason: string }>(c, 'auth-failed');
    c.connect();
    const reason = await failed;
    const opened = next<{ protocol: string }>(c, 'open');
    c.connect();
    // Assert
    expect(reason).toEqual({ reason: 'expired' });
    await expect(opened).resolves.toEqual({ protocol: 'presence.v1' });
    expect(calls).toBe(2);
  });
});
