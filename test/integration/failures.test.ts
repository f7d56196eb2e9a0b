// Failure behaviour: a store that is down gives a retryable error within 2 s, leaks no driver text, and recovers.
import type { APIGatewayProxyResult } from 'aws-lambda';
import { handler as close } from '../../src/functions/close/handler';
import { handler as connect } from '../../src/functions/connect/handler';
import { handler as getPresence } from '../../src/functions/get-presence/handler';
import { handler as sweep } from '../../src/functions/timeout/handler';
import { handler as updatePresence } from '../../src/functions/update-presence/handler';
import Redis from 'ioredis';
import { getRuntime, shutdownRuntime } from '../../src/layer/runtime';
import { freePort, startRedisServer } from '../support/global-setup';
import { restEvent, wsEvent } from '../../events/sample-events';
import { handlerEnvironment } from '../support/runtime-env';

type Env = Awaited<ReturnType<typeof handlerEnvironment>>;
let env: Env;
let redis: { port: number; stop: () => Promise<void> };

const timed = async <T>(fn: () => Promise<T>) => {
  const start = Date.now();
  const value = await fn();
  return { value, ms: Date.now() - start };
};

beforeAll(async () => {
  redis = await startRedisServer();
  env = await handlerEnvironment({ REDIS_URL: `redis://127.0.0.1:${redis.port}`, STORE_TIMEOUT_MS: '1000' });
});
afterAll(async () => {
  await env.close();
  await redis.stop();
});

it('Redis down: REST answers 503 within 2 s, WebSocket senders get "unavailable", and it recovers by itself', async () => {
  await connect(wsEvent('connect', 'alice', 'AliceF1=') as never);
  await redis.stop();

  const rest = await timed(
    () => getPresence(restEvent('get-presence', 'alice') as never) as Promise<APIGatewayProxyResult>,
  );
  expect(rest.ms).toBeLessThan(2000);
  expect(rest.value.statusCode).toBe(503);
  expect(JSON.parse(rest.value.body)).toEqual({ message: 'Service temporarily unavailable, please retry' });

  env.api.reset();
  const ws = await timed(() =>
    updatePresence(
      wsEvent('update-presence', 'alice', 'AliceF1=', { action: 'update-presence', status: 'busy' }) as never,
    ),
  );
  expect(ws.ms).toBeLessThan(2000);
  expect(ws.value.statusCode).toBe(503);
  expect(env.api.messagesTo('AliceF1=')).toEqual([
    { type: 'error', code: 'unavailable', message: 'Service temporarily unavailable, please retry' },
  ]);

  redis = await startRedisServer([], redis.port);
  const deadline = Date.now() + 8000;
  let status = 0;
  while (Date.now() < deadline) {
    status = ((await getPresence(restEvent('get-presence', 'alice') as never)) as APIGatewayProxyResult).statusCode;
    if (status === 200) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  expect(status).toBe(200);
});

it('Postgres down: a request that needs it answers 503 within 2 s with no driver text', async () => {
  await shutdownRuntime();
  process.env.DATABASE_URL = `postgres://postgres@127.0.0.1:${await freePort()}/presence_test`;
  try {
    const rest = await timed(
      () => getPresence(restEvent('get-presence', 'carol') as never) as Promise<APIGatewayProxyResult>,
    );
    expect(rest.ms).toBeLessThan(2000);
    expect(rest.value.statusCode).toBe(503);
    expect(rest.value.body).toBe(JSON.stringify({ message: 'Service temporarily unavailable, please retry' }));
  } finally {
    process.env.DATABASE_URL = env.db.url;
    await shutdownRuntime();
  }
});

it('a $connect refused because Redis stalled after its write leaves no phantom, and the real connect is announced', async () => {
  // Arrange: alice online; Redis then holds every write back for longer than the store timeout, so the connect's
  // script runs only after the handler has given up and refused the $connect (the undo queued behind it). The store
  // is marked fresh: the first test restarted Redis, which otherwise (rightly) leaves standing choices unknown.
  await (await getRuntime()).store.markFresh();
  await connect(wsEvent('connect', 'alice', 'AliceP1=') as never);
  // carol was online earlier: her friend list is cached, so her next connect writes in its first round trip
  await connect(wsEvent('connect', 'carol', 'CarolP0=') as never);
  await close(wsEvent('close', 'carol', 'CarolP0=') as never);
  await sweep({} as never);
  env.api.reset();
  const admin = new Redis(redis.port, '127.0.0.1');
  await admin.call('CLIENT', 'PAUSE', '1800', 'WRITE');
  // Act
  const refused = await timed(() => connect(wsEvent('connect', 'carol', 'CarolP1=') as never));
  await new Promise((r) => setTimeout(r, 2200));
  await sweep({} as never);
  const afterRefusal = await getPresence(restEvent('get-presence', 'alice') as never);
  const toldAfterRefusal = env.api.messagesTo('AliceP1=').filter((m) => m.userId === 'carol');
  await connect(wsEvent('connect', 'carol', 'CarolP2=') as never);
  await sweep({} as never);
  // Assert
  await admin.quit();
  expect(refused.ms).toBeLessThan(2000);
  expect(refused.value.statusCode).toBe(503);
  const carol = (
    JSON.parse((afterRefusal as APIGatewayProxyResult).body) as { presenceArr: { userId: string; status: string }[] }
  ).presenceArr.find((p) => p.userId === 'carol');
  expect(carol?.status).toBe('offline');
  expect(toldAfterRefusal).toEqual([]);
  expect(env.api.messagesTo('AliceP1=').filter((m) => m.userId === 'carol')).toEqual([
    expect.objectContaining({ type: 'update-presence', userId: 'carol', status: 'online' }),
  ]);
});
