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
