// Protocol e2e of the local gateway's connection limits: idle timeout and maximum duration (short, by configuration).
import { createUsers } from './support/demo-data';
import type { StackProcess } from './support/stack-process';
import { devToken, startStackProcess } from './support/stack-process';
import { connect as tcpConnect } from 'node:net';
import { WsPeer, sleep } from './support/ws-peer';

/** Sends a raw HTTP upgrade request and resolves to the status line of the answer. */
function rawUpgrade(url: string, headers: Record<string, string>): Promise<string> {
  const { hostname, port, pathname, search } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = tcpConnect(Number(port), hostname, () => {
      const lines = [
        `GET ${pathname}${search} HTTP/1.1`,
        `Host: ${hostname}:${port}`,
        ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
      ];
      socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    });
    let answer = '';
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('utf8');
      if (answer.includes('\r\n')) {
        resolve(answer.split('\r\n')[0] ?? '');
        socket.destroy();
      }
    });
    socket.on('error', reject);
  });
}

jest.setTimeout(60_000);

let stack: StackProcess;
const peers: WsPeer[] = [];

beforeAll(async () => {
  stack = await startStackProcess({
    LOCAL_IDLE_TIMEOUT_SECONDS: '2',
    LOCAL_MAX_CONNECTION_SECONDS: '4',
    GRACE_SECONDS: '0',
    SWEEP_INTERVAL_SECONDS: '1',
  });
});

afterEach(async () => {
  await Promise.all(peers.splice(0).map((p) => p.close()));
});

afterAll(async () => {
  await stack?.stop();
});

describe('the local gateway handshake', () => {
  it('refuses an invalid WebSocket handshake with 400 before the authorizer or $connect run: no phantom presence', async () => {
    // Arrange
    const u = await createUsers(stack.url, 'hs', { ghost: {}, watcher: {} }, [['ghost', 'watcher']]);
    const watcher = await WsPeer.connect(stack.wsUrl, await devToken(stack.url, u.watcher));
    peers.push(watcher);
    const token = await devToken(stack.url, u.ghost);
    // Act: a bad key, then a wrong version, each carrying a valid token
    const badKey = await rawUpgrade(`${stack.wsUrl}?Authorization=${token}`, {
      Upgrade: 'websocket',
      Connection: 'Upgrade',
      'Sec-WebSocket-Key': 'not-a-key',
      'Sec-WebSocket-Version': '13',
    });
    const badVersion = await rawUpgrade(`${stack.wsUrl}?Authorization=${token}`, {
      Upgrade: 'websocket',
      Connection: 'Upgrade',
      'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
      'Sec-WebSocket-Version': '7',
    });
    // Assert
    expect(badKey).toContain(' 400 ');
    expect(badVersion).toContain(' 400 ');
    await sleep(1500);
    expect(watcher.messages.filter((m) => m.userId === u.ghost)).toEqual([]);
  });
});

describe('the local gateway limits', () => {
  it('closes an idle connection with 1001 and fires $disconnect', async () => {
    // Arrange
    const u = await createUsers(stack.url, 'idle', { idle: {}, friend: {} }, [['idle', 'friend']]);
    const friend = await WsPeer.connect(stack.wsUrl, await devToken(stack.url, u.friend));
    friend.heartbeatEvery(500);
    peers.push(friend);
    const idle = await WsPeer.connect(stack.wsUrl, await devToken(stack.url, u.idle));
    // Act
    const closed = await idle.waitForClose(6000);
    // Assert
    expect(closed).toEqual({ code: 1001, reason: 'Going away (idle timeout)' });
    await friend.waitFor((m) => m.type === 'presence-timeout' && m.userId === u.idle, 4000);
  });

  it('closes a busy connection at the maximum duration', async () => {
    // Arrange
    const peer = await WsPeer.connect(stack.wsUrl, await devToken(stack.url, 'carol'));
    peers.push(peer);
    const openedAt = Date.now();
    peer.heartbeatEvery(500);
    // Act
    const closed = await peer.waitForClose(8000);
    // Assert
    expect(closed.code).toBe(1001);
    expect(closed.reason).toContain('maximum connection duration');
    expect(Date.now() - openedAt).toBeGreaterThanOrEqual(3500);
    await sleep(100);
  });
});
