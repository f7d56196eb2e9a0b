// The local stack's handler threads: real handlers in worker threads against real Redis and Postgres, posting through
// the real @connections client; the work queue and event bus reached through the main thread; a crashed thread.
import type { APIGatewayProxyResult } from 'aws-lambda';
import type { PresenceEventDetail, WorkMessage } from '@presence/layer';
import { randomUUID } from 'node:crypto';
import type { HandlerPool } from '../../src/local/handler-pool';
import { startHandlerPool } from '../../src/local/handler-pool';
import { lambdaContext } from '../../src/local/handler-registry';
import { Redis } from 'ioredis';
import { loadEvent, wsEvent } from '../../events/sample-events';
import { handlerEnvironment } from '../support/runtime-env';

type Env = Awaited<ReturnType<typeof handlerEnvironment>>;
let env: Env;
let pool: HandlerPool;
const notified: { shards: readonly number[]; delayMs: number | undefined }[] = [];
const sent: WorkMessage[] = [];
const published: PresenceEventDetail[] = [];
let seq = 0;
const conn = (label: string) => `${label}${(seq += 1)}Pool=`;

const invoke = (name: 'connect' | 'heartbeat' | 'update-presence' | 'close' | 'timeout', event: unknown) =>
  pool.handlers[name](event, lambdaContext(name, randomUUID(), 29_000)) as Promise<APIGatewayProxyResult>;

beforeAll(async () => {
  env = await handlerEnvironment();
  pool = await startHandlerPool(2, {
    queue: {
      notify: async (shards, delayMs) => void notified.push({ shards, delayMs }),
      send: async (message) => void sent.push(message),
    },
    events: { publish: async (events) => void published.push(...events) },
  });
});

afterAll(async () => {
  await pool?.stop();
  await env?.close();
});

describe('the handler pool', () => {
  it('runs the real handlers in its threads: a page switch reaches the friend through the @connections client', async () => {
    // Arrange
    const [alice, bob] = [conn('A'), conn('B')];
    expect((await invoke('connect', wsEvent('connect', 'alice', alice))).statusCode).toBe(200);
    expect((await invoke('connect', wsEvent('connect', 'bob', bob))).statusCode).toBe(200);
    env.api.reset();
    // Act
    const result = await invoke(
      'update-presence',
      wsEvent('update-presence', 'alice', alice, {
        action: 'update-presence',
        url: 'https://en.wikipedia.org/wiki/Thread',
        title: 'Thread',
      }),
    );
    // Assert
    expect(result.statusCode).toBe(200);
    expect(env.api.messagesTo(bob)).toEqual([
      expect.objectContaining({
        type: 'update-presence',
        userId: 'alice',
        url: 'https://en.wikipedia.org/wiki/Thread',
      }),
    ]);
    await invoke('close', wsEvent('close', 'alice', alice));
    await invoke('close', wsEvent('close', 'bob', bob));
  });

  it('spreads concurrent invocations over every thread', async () => {
    // Arrange
    const id = conn('C');
    await invoke('connect', wsEvent('connect', 'carol', id));
    const before = pool.invocationsPerThread();
    // Act
    await Promise.all(Array.from({ length: 40 }, () => invoke('heartbeat', wsEvent('heartbeat', 'carol', id))));
    // Assert
    const after = pool.invocationsPerThread();
    expect(after.map((n, i) => n - (before[i] ?? 0)).every((n) => n > 0)).toBe(true);
    expect(after.reduce((a, b) => a + b, 0) - before.reduce((a, b) => a + b, 0)).toBe(40);
    await invoke('close', wsEvent('close', 'carol', id));
  });

  it('reaches the work queue and the event bus of the main thread', async () => {
    // Arrange
    published.length = 0;
    notified.length = 0;
    sent.length = 0;
    const id = conn('D');
    // Act: a status change publishes a presence event; the sweep hands its shards to the work queue
    await invoke('connect', wsEvent('connect', 'dave', id));
    await invoke('timeout', loadEvent('timeout'));
    // Assert
    expect(published).toEqual(expect.arrayContaining([expect.objectContaining({ userId: 'dave', status: 'online' })]));
    expect(notified.length + sent.length).toBeGreaterThan(0);
    await invoke('close', wsEvent('close', 'dave', id));
  });

  it('fails the invocations of a crashed thread and answers the next ones from a replacement', async () => {
    // Arrange: Redis holds every write, so a heartbeat is still in its thread when the thread dies
    const id = conn('E');
    await invoke('connect', wsEvent('connect', 'erin', id));
    const admin = new Redis(env.redis.url);
    await admin.call('CLIENT', 'PAUSE', '3000', 'WRITE');
    const stuck = Promise.allSettled(
      Array.from({ length: 4 }, () => invoke('heartbeat', wsEvent('heartbeat', 'erin', id))),
    );
    await new Promise((r) => setTimeout(r, 200));
    // Act
    await pool.crashThreadForTest(0);
    await admin.call('CLIENT', 'UNPAUSE');
    admin.disconnect();
    const outcomes = await stuck;
    // Assert: the crashed thread's invocations fail (as a Lambda killed mid-invocation), the others complete
    const failed = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(failed.length).toBeGreaterThan(0);
    expect(String(failed[0]?.reason)).toContain('handler thread exited');
    const again = await Promise.all(
      Array.from({ length: 10 }, () => invoke('heartbeat', wsEvent('heartbeat', 'erin', id))),
    );
    expect(again.map((r) => r.statusCode)).toEqual(Array(10).fill(200));
    expect(pool.size).toBe(2);
    await invoke('close', wsEvent('close', 'erin', id));
  });
});
