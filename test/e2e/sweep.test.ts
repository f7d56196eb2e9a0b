// Protocol e2e of the sweep: with $disconnect dropped (LOCAL_DROP_DISCONNECT=1) only the scheduled sweep reaps connections.
import { createUsers } from './support/demo-data';
import type { StackProcess } from './support/stack-process';
import { devToken, startStackProcess } from './support/stack-process';
import { WsPeer } from './support/ws-peer';

jest.setTimeout(60_000);

const TIMEOUT_S = 2;
const GRACE_S = 1;
const SWEEP_S = 1;
let stack: StackProcess;
const peers: WsPeer[] = [];

/** A connection that heartbeats often enough to stay alive under the short timeout. */
async function liveConnection(userId: string): Promise<WsPeer> {
  const peer = await WsPeer.connect(stack.wsUrl, await devToken(stack.url, userId));
  peers.push(peer);
  peer.heartbeatEvery(500);
  return peer;
}

beforeAll(async () => {
  stack = await startStackProcess({
    LOCAL_DROP_DISCONNECT: '1',
    PRESENCE_TIMEOUT_SECONDS: String(TIMEOUT_S),
    GRACE_SECONDS: String(GRACE_S),
    SWEEP_INTERVAL_SECONDS: String(SWEEP_S),
  });
});

afterEach(async () => {
  await Promise.all(peers.splice(0).map((p) => p.close()));
});

afterAll(async () => {
  await stack?.stop();
});

describe('the sweep, with $disconnect dropped', () => {
  it('tells friends a user is offline after the timeout when the socket vanished without $disconnect', async () => {
    // Arrange
    const u = await createUsers(stack.url, 'vanish', { gone: {}, stays: {} }, [['gone', 'stays']]);
    const stays = await liveConnection(u.stays);
    const gone = await WsPeer.connect(stack.wsUrl, await devToken(stack.url, u.gone));
    await stays.waitFor((m) => m.userId === u.gone && m.status === 'online', 5000);
    // Act
    const vanishedAt = Date.now();
    gone.socket.terminate();
    const timeout = await stays.waitFor(
      (m) => m.type === 'presence-timeout' && m.userId === u.gone,
      (TIMEOUT_S + GRACE_S + SWEEP_S) * 1000 + 5000,
    );
    // Assert
    const elapsed = Date.now() - vanishedAt;
    expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_S * 1000 - 500);
    expect(typeof timeout.lastSeen).toBe('number');
    expect(stack.output()).toMatch(new RegExp(`\\$disconnect\\s+dropped\\s+${u.gone}`));
  });

  it('closes a silent zombie socket through @connections and reports the user offline', async () => {
    // Arrange
    const u = await createUsers(stack.url, 'zombie', { zombie: {}, watcher: {} }, [['zombie', 'watcher']]);
    const watcher = await liveConnection(u.watcher);
    const zombie = await WsPeer.connect(stack.wsUrl, await devToken(stack.url, u.zombie));
    peers.push(zombie);
    // Act: the zombie never sends a heartbeat
    const closed = await zombie.waitForClose((TIMEOUT_S + SWEEP_S) * 1000 + 5000);
    // Assert
    expect(closed.code).toBe(1000);
    await watcher.waitFor(
      (m) => m.type === 'presence-timeout' && m.userId === u.zombie,
      (GRACE_S + SWEEP_S) * 1000 + 5000,
    );
    expect(stack.output()).toMatch(/DELETE @connections\s+204/);
  });

  it('keeps a heartbeating connection alive across many sweeps', async () => {
    // Arrange
    const u = await createUsers(stack.url, 'alive', { beat: {}, friend: {} }, [['beat', 'friend']]);
    const friend = await liveConnection(u.friend);
    await liveConnection(u.beat);
    await friend.waitFor((m) => m.userId === u.beat && m.status === 'online', 5000);
    // Act
    await new Promise((r) => setTimeout(r, (TIMEOUT_S + GRACE_S + SWEEP_S) * 1000 + 1500));
    // Assert
    expect(friend.about(u.beat, 'presence-timeout')).toEqual([]);
  });
});
