// Why the stack's caches never evict: on a full Redis, volatile-lru drops live presence; noeviction refuses the write.
import type { APIGatewayProxyResult } from 'aws-lambda';
import { Redis } from 'ioredis';
import { CACHE_EVICTION_POLICY } from '../../lib/constructs/cache';
import { restEvent, wsEvent } from '../../events/sample-events';
import { handler as close } from '../../src/functions/close/handler';
import { handler as connect } from '../../src/functions/connect/handler';
import { handler as getPresence } from '../../src/functions/get-presence/handler';
import { startRedisServer } from '../support/global-setup';
import { handlerEnvironment } from '../support/runtime-env';

const MAXMEMORY = 8 * 1024 * 1024;

/** A fresh redis-server with a small maxmemory and the given policy, the handlers pointed at it. */
async function fullCacheEnvironment(policy: string) {
  const server = await startRedisServer(['--maxmemory', String(MAXMEMORY), '--maxmemory-policy', policy]);
  const env = await handlerEnvironment({ REDIS_URL: `redis://127.0.0.1:${server.port}`, GRACE_SECONDS: '0' });
  const client = new Redis({ host: '127.0.0.1', port: server.port, maxRetriesPerRequest: 1 });
  return {
    env,
    client,
    close: async () => {
      client.disconnect();
      await env.close();
      await server.stop();
    },
  };
}

/**
 * Writes keys without a TTL (other data sharing the cache) until Redis refuses even small ones (OOM), i.e. the cache
 * is full; under an evicting policy Redis first evicts keys to make room. Resolves to whether it ended full.
 */
async function fill(client: Redis): Promise<boolean> {
  let key = 0;
  for (const size of [16 * 1024, 1024, 64]) {
    const value = 'x'.repeat(size);
    for (let written = 0; written < 2 * MAXMEMORY; written += size) {
      try {
        await client.set(`filler:${(key += 1)}`, value);
      } catch (error) {
        if (!/OOM/.test(String(error))) throw error;
        break;
      }
    }
  }
  return /OOM/.test(String(await client.set('probe', 'x'.repeat(64)).catch((error: unknown) => error)));
}

const open = (userId: string, id: string) => connect(wsEvent('connect', userId, id) as never);
const hangUp = (userId: string, id: string) => close(wsEvent('close', userId, id) as never);
const statusSeenBy = async (viewer: string, target: string) => {
  const result = (await getPresence(restEvent('get-presence', viewer) as never)) as APIGatewayProxyResult;
  const body = JSON.parse(result.body) as { presenceArr: { userId: string; status: string }[] };
  return body.presenceArr.find((p) => p.userId === target)?.status;
};

it('the stack configures noeviction', () => {
  expect(CACHE_EVICTION_POLICY).toBe('noeviction');
});

it('volatile-lru (the ElastiCache default) evicts live presence when memory runs out: an online user looks offline', async () => {
  const cache = await fullCacheEnvironment('volatile-lru');
  try {
    expect((await open('alice', 'AliceEvict1=')).statusCode).toBe(200);
    expect(await statusSeenBy('bob', 'alice')).toBe('online');

    await fill(cache.client);

    // Alice's socket is open and she did nothing, yet her keys (they carry TTLs) were evicted to make room.
    expect(await statusSeenBy('bob', 'alice')).toBe('offline');
  } finally {
    await cache.close();
  }
});

it('noeviction refuses the write instead: the handler answers 503 and everyone online stays online', async () => {
  const cache = await fullCacheEnvironment(CACHE_EVICTION_POLICY);
  try {
    expect((await open('alice', 'AliceKeep1=')).statusCode).toBe(200);

    expect(await fill(cache.client)).toBe(true);

    const refused = await open('carol', 'CarolFull1=');
    expect(refused.statusCode).toBe(503);
    expect(await statusSeenBy('bob', 'alice')).toBe('online');
    await cache.client.flushall();
    await hangUp('alice', 'AliceKeep1=');
  } finally {
    await cache.close();
  }
});
