// Protocol e2e of the local gateway's connection limits: idle timeout and maximum duration (short, by configuration).
import { createUsers } from './support/demo-data';
import type { StackProcess } from './support/stack-process';
import { devToken, startStackProcess } from './support/stack-process';
import { WsPeer, sleep } from './support/ws-peer';

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

describe('the local gateway limits', () => {
  it('closes an idle connection with 1001 and fires $disconnect', async () => {
    // Arrange
    const u = await createUsers(stack.url, 'idle', { idle: {}, friend: {} }, [['idle', 'friend']]);
    const friend = await WsPeer.connect(stack.wsUrl, await devToken(stack.url, u.friend));
    const keepFriend = setInterval(() => friend.send({ action: 'heartbeat' }), 500);
    peers.push(friend);
    const idle = await WsPeer.connect(stack.wsUrl, await devToken(stack.url, u.idle));
    // Act
    const closed = await idle.waitForClose(6000);
    // Assert
    clearInterval(keepFriend);
    expect(closed).toEqual({ code: 1001, reason: 'Going away (idle timeout)' });
    await friend.waitFor((m) => m.type === 'presence-timeout' && m.userId === u.idle, 4000);
  });

  it('closes a busy connection at the maximum duration', async () => {
    // Arrange
    const peer = await WsPeer.connect(stack.wsUrl, await devToken(stack.url, 'carol'));
    peers.push(peer);
    const openedAt = Date.now();
    const beat = setInterval(() => !peer.closed && peer.send({ action: 'heartbeat' }), 500);
    // Act
    const closed = await peer.waitForClose(8000);
    clearInterval(beat);
    // Assert
    expect(closed.code).toBe(1001);
    expect(closed.reason).toContain('maximum connection duration');
    expect(Date.now() - openedAt).toBeGreaterThanOrEqual(3500);
    await sleep(100);
  });
});
