// The client library against a fake WebSocket: version ordering, batches, seq on updates, resync.
import { PresenceClient } from '../../src/client/presence-client';
import type { WebSocketLike } from '../../src/client/presence-client';

class FakeSocket implements WebSocketLike {
  static last: FakeSocket | undefined;
  readyState = 0;
  protocol = 'presence.v2';
  sent: Record<string, unknown>[] = [];
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  constructor(
    readonly url: string,
    readonly protocols?: string | string[],
  ) {
    FakeSocket.last = this;
  }
  send(data: string): void {
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }
  close(): void {
    this.readyState = 3;
  }
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }
  receive(message: unknown): void {
    this.onmessage?.({ data: JSON.stringify(message) });
  }
}

const token = `x.${Buffer.from(JSON.stringify({ exp: Math.floor(Date.now() / 1000) + 3600 })).toString('base64url')}.y`;

async function openClient(options: { batch?: boolean } = {}) {
  const client = new PresenceClient({
    url: 'ws://test/ws',
    token,
    WebSocket: FakeSocket,
    reconnect: false,
    ...options,
  });
  client.connect();
  await new Promise((r) => setImmediate(r));
  const socket = FakeSocket.last as FakeSocket;
  socket.open();
  return { client, socket };
}

describe('PresenceClient versions', () => {
  it('applies a message only if its v is greater than the one held, so late and duplicate messages are dropped', async () => {
    const { client, socket } = await openClient();
    const seen: number[] = [];
    client.on('update-presence', (m) => seen.push(m.v as number));
    client.on('presence-timeout', (m) => seen.push(m.v as number));
    socket.receive({ type: 'update-presence', userId: 'bob', status: 'online', v: 5 });
    socket.receive({ type: 'presence-timeout', userId: 'bob', lastSeen: 1, v: 4 });
    socket.receive({ type: 'update-presence', userId: 'bob', status: 'online', v: 5 });
    socket.receive({ type: 'presence-timeout', userId: 'bob', lastSeen: 1, v: 7 });
    expect(seen).toEqual([5, 7]);
    // a REST snapshot older than what was pushed is not applied
    expect(client.accept('bob', 6)).toBe(false);
    expect(client.accept('bob', 8)).toBe(true);
    client.close();
  });

  it('opts in to batches with presence.v2, announces each batch and unpacks it into its messages', async () => {
    const { client, socket } = await openClient({ batch: true });
    expect(socket.protocols).toEqual(['presence.v2', token]);
    const seen: string[] = [];
    client.on('presence-batch', (m) => seen.push(`batch of ${m.changes.length}`));
    client.on('update-presence', (m) => seen.push(`${m.userId}:${m.v}`));
    socket.receive({
      type: 'presence-batch',
      changes: [
        { type: 'update-presence', userId: 'a', status: 'online', v: 2 },
        { type: 'update-presence', userId: 'c', status: 'busy', v: 9 },
      ],
    });
    expect(seen).toEqual(['batch of 2', 'a:2', 'c:9']);
    client.close();
  });

  it('numbers its updates with an increasing seq and resends its state, status included, on resync', async () => {
    const { client, socket } = await openClient();
    client.updatePresence({ url: 'https://a.example/', title: 'A' });
    client.setStatus('invisible');
    const resyncs: unknown[] = [];
    client.on('resync', (e) => resyncs.push(e));
    socket.receive({ type: 'error', code: 'resync', message: 'lost' });
    const updates = socket.sent.filter((m) => m.action === 'update-presence');
    expect(updates.map((m) => m.seq)).toEqual([1, 2, 3]);
    expect(updates[2]).toMatchObject({ status: 'invisible', url: 'https://a.example/', title: 'A' });
    expect(resyncs).toHaveLength(1);
    client.close();
  });
});

describe('PresenceClient heartbeats', () => {
  afterEach(() => jest.useRealTimers());

  it('sends a heartbeat after each interval of silence, and an update-presence replaces the heartbeat it precedes', async () => {
    // Arrange
    jest.useFakeTimers();
    const client = new PresenceClient({
      url: 'ws://test/ws',
      token,
      WebSocket: FakeSocket,
      reconnect: false,
      heartbeatIntervalMs: 20_000,
    });
    FakeSocket.last = undefined;
    client.connect();
    await jest.advanceTimersByTimeAsync(0);
    const s = FakeSocket.last as FakeSocket | undefined;
    if (!s) throw new Error('the client opened no socket');
    s.open();
    const beats = () => s.sent.filter((m) => m.action === 'heartbeat').length;
    // Act + Assert: silence -> a heartbeat at 20 s
    await jest.advanceTimersByTimeAsync(20_000);
    expect(beats()).toBe(1);
    // a page switch at 35 s: no heartbeat at 40 s, the next one 20 s after the switch
    await jest.advanceTimersByTimeAsync(15_000);
    client.updatePresence({ url: 'https://example.com/', title: 'Example' });
    await jest.advanceTimersByTimeAsync(5_000);
    expect(beats()).toBe(1);
    await jest.advanceTimersByTimeAsync(15_000);
    expect(beats()).toBe(2);
    // and back to one every 20 s of silence
    await jest.advanceTimersByTimeAsync(20_000);
    expect(beats()).toBe(3);
    expect(s.sent.map((m) => m.action)).toEqual(['heartbeat', 'update-presence', 'heartbeat', 'heartbeat']);
    // page switches every 15 s never leave more than two intervals between heartbeats (what the server learns from)
    const beatsAt: number[] = [];
    const send = s.send.bind(s);
    s.send = (data: string) => {
      if ((JSON.parse(data) as { action?: string }).action === 'heartbeat') beatsAt.push(Date.now());
      send(data);
    };
    const start = Date.now();
    for (let i = 0; i < 8; i += 1) {
      await jest.advanceTimersByTimeAsync(15_000);
      client.updatePresence({ url: `https://example.com/${i}`, title: 'Example' });
    }
    expect(beatsAt.map((at) => at - start)).toEqual([40_000, 80_000, 120_000]);
    expect(beats()).toBe(6);
    client.close();
    await jest.advanceTimersByTimeAsync(60_000);
    expect(beats()).toBe(6);
  });
});
