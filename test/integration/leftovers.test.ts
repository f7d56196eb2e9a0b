// A test file run against a shared REDIS_URL leaves no keys behind: its environment removes its prefix when closed.
import { handler as connect } from '../../src/functions/connect/handler';
import { handler as updatePresence } from '../../src/functions/update-presence/handler';
import { wsEvent } from '../../events/sample-events';
import { keysWithPrefix } from '../support/redis-cleanup';
import { handlerEnvironment } from '../support/runtime-env';

const targetBefore = process.env.TEST_REDIS_TARGET;

afterEach(() => {
  if (targetBefore === undefined) delete process.env.TEST_REDIS_TARGET;
  else process.env.TEST_REDIS_TARGET = targetBefore;
});

it.each(['standalone', 'cluster'])(
  'leaves no key under its prefix on a %s Redis once its environment is closed',
  async (target) => {
    // Arrange: keys of every kind (connections, state, views, contexts, expiry index, 30-day last-seen records)
    process.env.TEST_REDIS_TARGET = target;
    const env = await handlerEnvironment();
    await connect(wsEvent('connect', 'alice', 'LeftA1=') as never);
    await connect(wsEvent('connect', 'bob', 'LeftB1=') as never);
    await updatePresence(
      wsEvent('update-presence', 'alice', 'LeftA1=', {
        action: 'update-presence',
        url: 'https://github.com/x',
        title: 'X',
      }) as never,
    );
    const before = await keysWithPrefix(env.redis, env.prefix);
    // Act
    await env.close();
    // Assert
    expect(env.redis.mode).toBe(target);
    expect(before.length).toBeGreaterThanOrEqual(5);
    await expect(keysWithPrefix(env.redis, env.prefix)).resolves.toEqual([]);
  },
);
