// The @connections gateway on worker threads: the real SDK client in each thread against the fake @connections API,
// outcomes by status, many calls at once, threads that die or are stopped mid-call, the sweep through it, and the
// same gateway from the bundled layer (as Lambda loads it).
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { handler as connect } from '../../src/functions/connect/handler';
import { handler as heartbeat } from '../../src/functions/heartbeat/handler';
import { handler as timeout } from '../../src/functions/timeout/handler';
import { ThreadedConnectionGateway } from '../../src/layer/adapters/apigw/threaded-gateway';
import { getRuntime } from '../../src/layer/runtime';
import { autoConnectionsThreads, parseCoreConfig } from '../../src/layer/shared/config';
import { bundleLayer, LAYER_MODULE_NAME } from '../../lib/constructs/shared-layer';
import { loadEvent, wsEvent } from '../../events/sample-events';
import { advance, useFakeDate } from '../support/clock';
import { FakeConnectionsApi } from '../support/connections-api';
import { handlerEnvironment } from '../support/runtime-env';
import { tempDir } from '../support/temp-dirs';

const run = promisify(execFile);
let api: FakeConnectionsApi;
const gateways: ThreadedConnectionGateway[] = [];
const threaded = (threads: number, entry?: string) => {
  const gateway = entry ? new ThreadedConnectionGateway(threads, {}, entry) : new ThreadedConnectionGateway(threads);
  gateways.push(gateway);
  return gateway;
};

beforeEach(async () => {
  api = await new FakeConnectionsApi().start();
});
afterEach(async () => {
  await Promise.all(gateways.splice(0).map((g) => g.destroy()));
  await api.stop();
});

describe('ThreadedConnectionGateway', () => {
  it('answers each call with the outcome of its status, as the gateway on the calling thread does', async () => {
    // Arrange: one connection of each kind
    api.gone.add('gone1');
    api.failing.add('broken1');
    const gateway = threaded(1);

    // Act
    const outcomes = await Promise.all([
      gateway.post(api.endpoint, 'ok1', '{"type":"x","n":1}'),
      gateway.post(api.endpoint, 'gone1', '{"type":"x","n":2}'),
      gateway.post(api.endpoint, 'broken1', '{"type":"x","n":3}'),
    ]);
    api.throttleNext = 1;
    const throttled = await gateway.post(api.endpoint, 'ok1', '{"type":"x","n":4}');
    await gateway.close(api.endpoint, 'gone1');
    const closeFailure = await gateway.close(api.endpoint, 'broken1').then(
      () => undefined,
      (error: Error) => error,
    );

    // Assert
    expect(outcomes).toEqual(['sent', 'gone', 'failed']);
    expect(throttled).toBe('throttled');
    expect(closeFailure?.name).toBe('InternalServerErrorException');
    expect(api.messagesTo('ok1')).toEqual([{ type: 'x', n: 1 }]);
    expect(api.deleted()).toEqual(['gone1', 'broken1']);
    expect(gateway.posts).toBe(4);
    expect(gateway.failures).toBe(1);
  });

  it('delivers 2,000 calls over two threads, each once with its own body', async () => {
    const gateway = threaded(2);
    const ids = Array.from({ length: 2000 }, (_, i) => `c${i}`);

    const outcomes = await Promise.all(ids.map((id) => gateway.post(api.endpoint, id, JSON.stringify({ id }))));

    expect(new Set(outcomes)).toEqual(new Set(['sent']));
    const bodies = api.calls.map((c) => [c.connectionId, (JSON.parse(c.body) as { id: string }).id]);
    expect(bodies).toHaveLength(2000);
    for (const [connectionId, id] of bodies) expect(id).toBe(connectionId);
    expect(new Set(bodies.map(([id]) => id)).size).toBe(2000);
  });

  it('fails the calls of a thread that is stopped mid-call, and starts a new thread for the next call', async () => {
    // Arrange: the API never answers the first two posts
    api.stallNext = 2;
    const gateway = threaded(1);
    const stalled = [gateway.post(api.endpoint, 'a1', '{}'), gateway.post(api.endpoint, 'a2', '{}')];
    const closing = gateway.close(api.endpoint, 'a3').then(
      () => 'closed',
      (error: Error) => error.message,
    );
    await waitFor(() => api.calls.length >= 1);

    // Act
    await gateway.destroy();
    // The thread may be stopped before its second post reached the API: that stall must not catch the next post.
    api.stallNext = 0;

    // Assert: the calls in flight fail (the delivery module retries them); the gateway works again afterwards
    expect(await Promise.all(stalled)).toEqual(['failed', 'failed']);
    expect(await closing).toMatch(/closed|stopped/);
    expect(await gateway.post(api.endpoint, 'a4', '{"n":4}')).toBe('sent');
    expect(api.messagesTo('a4')).toEqual([{ n: 4 }]);
  });

  it('fails the calls of a thread that crashes, posts as failed and closes with the error', async () => {
    const gateway = threaded(1, join(__dirname, '../support/crashing-sender.mjs'));

    const [post, close] = await Promise.all([
      gateway.post(api.endpoint, 'b1', '{}'),
      gateway.close(api.endpoint, 'b2').then(
        () => undefined,
        (error: Error) => error.message,
      ),
    ]);

    expect(post).toBe('failed');
    expect(close).toBe('sender crashed');
    expect(gateway.failures).toBe(1);
    expect(api.calls).toEqual([]);
  });

  it('runs in the bundled layer: the bundle is its own thread entry point', async () => {
    // Arrange: the layer as `cdk deploy` bundles it, loaded by a plain Node.js process
    const out = tempDir('threaded-layer-');
    bundleLayer(
      {
        sourceDir: join(__dirname, '../../src/layer'),
        tsconfig: join(__dirname, '../../tsconfig.json'),
        target: 'node20',
      },
      out,
    );
    const bundle = join(out, 'nodejs', 'node_modules', ...LAYER_MODULE_NAME.split('/'), 'index.js');
    const script = `
      const { ThreadedConnectionGateway } = require(${JSON.stringify(bundle)});
      const gateway = new ThreadedConnectionGateway(1);
      Promise.all([gateway.post(process.argv[1], 'L1', '{"from":"bundle"}'), gateway.close(process.argv[1], 'L2')])
        .then(([outcome]) => { console.log(outcome); return gateway.destroy(); });`;

    // Act
    const { stdout } = await run(process.execPath, ['-e', script, api.endpoint], {
      env: { ...process.env, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' },
    });

    // Assert
    expect(stdout.trim()).toBe('sent');
    expect(api.messagesTo('L1')).toEqual([{ from: 'bundle' }]);
    expect(api.deleted()).toEqual(['L2']);
  });
});

describe('CONNECTIONS_THREADS', () => {
  it('auto follows the vCPUs: in Lambda those of the memory size, elsewhere the cores', () => {
    expect(autoConnectionsThreads({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1024' })).toBe(0);
    expect(autoConnectionsThreads({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '3008' })).toBe(0);
    expect(autoConnectionsThreads({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '3538' })).toBe(1);
    expect(autoConnectionsThreads({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '10240' })).toBe(4);
    const base = { REDIS_URL: 'redis://x', DATABASE_URL: 'postgres://x', ALLOWED_ORIGINS: '*' };
    expect(parseCoreConfig({ ...base, CONNECTIONS_THREADS: '3' }).connectionsThreads).toBe(3);
    expect(parseCoreConfig({ ...base, AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '7076' }).connectionsThreads).toBe(3);
    expect(() => parseCoreConfig({ ...base, CONNECTIONS_THREADS: '17' })).toThrow(
      'CONNECTIONS_THREADS must be auto or an integer from 0 to 16',
    );
  });
});

describe('the sweep on sender threads', () => {
  let env: Awaited<ReturnType<typeof handlerEnvironment>>;
  beforeAll(async () => {
    env = await handlerEnvironment({ CONNECTIONS_THREADS: '1', GRACE_SECONDS: '0', SWEEP_WINDOW_SECONDS: '0' });
  });
  afterAll(async () => {
    jest.useRealTimers();
    await env.close();
  });

  it('closes the zombie and tells the friend, through the thread', async () => {
    useFakeDate();
    await connect(wsEvent('connect', 'alice', 'zA1=') as never);
    await connect(wsEvent('connect', 'bob', 'zB1=') as never);
    env.api.reset();
    advance(60_000);
    await heartbeat(wsEvent('heartbeat', 'bob', 'zB1=') as never);
    advance(31_000);

    const stats = await timeout(loadEvent('timeout') as never, { getRemainingTimeInMillis: () => 60_000 });

    expect((await getRuntime()).gateway).toBeInstanceOf(ThreadedConnectionGateway);
    expect(stats.reaped).toBe(1);
    expect(env.api.deleted()).toEqual(['zA1=']);
    expect(env.api.messagesTo('zB1=')).toEqual([
      { type: 'presence-timeout', userId: 'alice', lastSeen: expect.any(Number), v: expect.any(Number) },
    ]);
  });
});

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i += 1) await new Promise((r) => setTimeout(r, 10));
  if (!condition()) throw new Error('condition not met within 2 s');
}
