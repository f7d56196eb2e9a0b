// Presence events: published from the outbox exactly for status changes friends see, at least once across a publisher
// that dies mid-way, and (locally) POSTed to a webhook one JSON object each.
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { handler as close } from '../../src/functions/close/handler';
import { handler as connect } from '../../src/functions/connect/handler';
import { handler as heartbeat } from '../../src/functions/heartbeat/handler';
import { handler as sweep } from '../../src/functions/timeout/handler';
import { handler as updatePresence } from '../../src/functions/update-presence/handler';
import type { EventPublisher, PresenceEventDetail } from '../../src/layer/delivery/ports';
import { useLocalAdapters } from '../../src/layer/runtime';
import { LocalEventBus } from '../../src/local/event-bus';
import { loadEvent, wsEvent } from '../../events/sample-events';
import { handlerEnvironment } from '../support/runtime-env';

/** The local bus behind a switch: while `failing`, a publish call puts its first event on the bus, then dies. */
class KillablePublisher implements EventPublisher {
  failing = false;
  failures = 0;
  constructor(readonly bus: LocalEventBus) {}
  async publish(events: readonly PresenceEventDetail[]): Promise<void> {
    if (!this.failing) return this.bus.publish(events);
    this.failures += 1;
    await this.bus.publish(events.slice(0, 1));
    throw new Error('publisher killed mid-way');
  }
}

const bus = new LocalEventBus();
const publisher = new KillablePublisher(bus);
type Env = Awaited<ReturnType<typeof handlerEnvironment>>;
let env: Env;
let seq = 0;
const conn = (label: string) => `${label}${(seq += 1)}Evt=`;
const open = (userId: string, connectionId: string, status?: string) => {
  const event = wsEvent<any>('connect', userId, connectionId);
  if (status) event.queryStringParameters = { ...event.queryStringParameters, status };
  return connect(event);
};
const send = (userId: string, connectionId: string, body: Record<string, unknown>) =>
  updatePresence(wsEvent('update-presence', userId, connectionId, { action: 'update-presence', ...body }) as never);
const beat = (userId: string, connectionId: string) => heartbeat(wsEvent('heartbeat', userId, connectionId) as never);
const hangUp = (userId: string, connectionId: string) => close(wsEvent('close', userId, connectionId) as never);
/** The events of `userId` published since `from` (an index into the bus's log), as [previous, status]. */
const transitions = (userId: string, from = 0) =>
  bus
    .events()
    .slice(from)
    .filter((e) => e.detail.userId === userId)
    .map((e) => [e.detail.previousStatus, e.detail.status]);

beforeAll(async () => {
  useLocalAdapters({ events: publisher });
  env = await handlerEnvironment();
});
afterAll(async () => {
  await env.close();
  useLocalAdapters({});
});
beforeEach(() => {
  publisher.failing = false;
});

describe('presence events', () => {
  it('are published for every status change friends see, invisible as offline, never for pages or heartbeats', async () => {
    // Arrange
    const from = bus.events().length;
    const alice1 = conn('A');
    const page = { url: 'https://en.wikipedia.org/wiki/Presence', title: 'Presence' };

    // Act
    await open('alice', alice1);
    await send('alice', alice1, page);
    await beat('alice', alice1);
    await send('alice', alice1, { status: 'away' });
    await send('alice', alice1, { status: 'busy', message: 'in a call' });
    await send('alice', alice1, { ...page, url: 'https://en.wikipedia.org/wiki/Status' });
    await send('alice', alice1, { status: 'invisible' });
    await send('alice', alice1, { url: 'https://example.com/', title: 'hidden' });
    await send('alice', alice1, { status: 'online' });
    await hangUp('alice', alice1);

    // Assert
    expect(transitions('alice', from)).toEqual([
      ['offline', 'online'],
      ['online', 'away'],
      ['away', 'busy'],
      ['busy', 'offline'],
      ['offline', 'online'],
      ['online', 'offline'],
    ]);
    const mine = bus
      .events()
      .slice(from)
      .filter((e) => e.detail.userId === 'alice');
    expect(mine[0]).toEqual({
      source: 'presence-api',
      'detail-type': 'Presence Changed',
      detail: {
        userId: 'alice',
        status: 'online',
        previousStatus: 'offline',
        v: expect.any(Number),
        at: expect.any(Number),
      },
    });
    const versions = mine.map((e) => e.detail.v);
    expect([...versions].sort((a, b) => a - b)).toEqual(versions);
    expect(new Set(versions).size).toBe(versions.length);
  });

  it('are not published for a user who connects invisible and leaves', async () => {
    // Arrange
    const from = bus.events().length;
    const carol1 = conn('C');

    // Act
    await open('carol', carol1, 'invisible');
    await send('carol', carol1, { url: 'https://example.com/', title: 'x' });
    await hangUp('carol', carol1);

    // Assert
    expect(transitions('carol', from)).toEqual([]);
  });

  it('are published at least once when the publisher dies mid-way: the outbox publishes them again', async () => {
    // Arrange
    const from = bus.events().length;
    const bob1 = conn('B');
    publisher.failing = true;

    // Act: three changes while every publish call dies after its first event
    await open('bob', bob1);
    await send('bob', bob1, { status: 'away' });
    await send('bob', bob1, { status: 'busy' });
    const beforeRecovery = transitions('bob', from);
    publisher.failing = false;
    // the failed change is due again after its backoff (about 2 s); the sweep alone is a complete recovery path
    const deadline = Date.now() + 15_000;
    const done = () => transitions('bob', from).some(([p, s]) => p === 'away' && s === 'busy');
    while (!done() && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      await sweep(loadEvent('timeout') as never);
    }

    // Assert
    expect(publisher.failures).toBeGreaterThanOrEqual(3);
    expect(beforeRecovery).not.toContainEqual(['away', 'busy']);
    const published = transitions('bob', from);
    for (const change of [
      ['offline', 'online'],
      ['online', 'away'],
      ['away', 'busy'],
    ]) {
      expect(published).toContainEqual(change);
    }
    await hangUp('bob', bob1);
  }, 30_000);
});

describe('the local event bus', () => {
  let server: Server;
  let url: string;
  const received: unknown[] = [];
  let failNext = 0;

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (failNext > 0) {
          failNext -= 1;
          res.writeHead(503).end();
          return;
        }
        received.push({ contentType: req.headers['content-type'], body: JSON.parse(Buffer.concat(chunks).toString()) });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('POSTs each event as one JSON object to the webhook, retrying one that fails, in order', async () => {
    // Arrange
    const local = new LocalEventBus({ webhookUrl: url, retryBaseMs: 20 });
    const first = { userId: 'alice', status: 'online', previousStatus: 'offline', v: 1, at: 1 };
    const second = { userId: 'alice', status: 'offline', previousStatus: 'online', v: 2, at: 2 };
    failNext = 1;

    // Act
    await local.publish([first, second]);
    await local.idle();

    // Assert
    expect(received).toEqual([
      {
        contentType: 'application/json',
        body: { source: 'presence-api', 'detail-type': 'Presence Changed', detail: first },
      },
      {
        contentType: 'application/json',
        body: { source: 'presence-api', 'detail-type': 'Presence Changed', detail: second },
      },
    ]);
    expect(local.delivered).toBe(2);
    expect(local.dropped).toBe(0);
  });

  it('keeps the last 1,000 events, newest last', async () => {
    // Arrange
    const local = new LocalEventBus();
    const details = Array.from({ length: 1005 }, (_, i) => ({
      userId: `u${i}`,
      status: 'online',
      previousStatus: 'offline',
      v: i + 1,
      at: i,
    }));

    // Act
    await local.publish(details);

    // Assert
    const kept = local.events();
    expect(kept).toHaveLength(1000);
    expect(kept[0]?.detail.userId).toBe('u5');
    expect(kept[999]?.detail.userId).toBe('u1004');
  });
});
