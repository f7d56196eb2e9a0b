// The deployment-wide cap on @connections calls (DELIVERY_MAX_CALLS_PER_SECOND), held by several workers at once: each
// worker has its own Redis client (as separate Lambdas do) and takes permits as fast as the cap lets it.
import { RedisExecutor, createRedisClient } from '../../src/layer/adapters/redis/client';
import { RedisKeys } from '../../src/layer/adapters/redis/keys';
import { RedisRateCap } from '../../src/layer/adapters/redis/rate-cap';
import { deleteKeysWithPrefix } from '../support/redis-cleanup';
import { REDIS_TARGETS, uniquePrefix } from '../support/stores';

const CAP = 400;
const WORKERS = 4;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs `WORKERS` workers against one cap for `ms`, each asking for 50 permits at a time; returns the permits taken. */
async function drive(caps: RedisRateCap[], ms: number): Promise<number[]> {
  const until = Date.now() + ms;
  return Promise.all(
    caps.map(async (cap) => {
      let taken = 0;
      while (Date.now() < until) {
        const { granted, retryInMs } = await cap.acquire(50);
        taken += granted;
        if (granted < 50) await sleep(Math.max(1, Math.min(retryInMs, until - Date.now())));
      }
      return taken;
    }),
  );
}

describe.each(REDIS_TARGETS)('the rate cap on %s', (_name, url, mode) => {
  const prefix = uniquePrefix();
  const clients = Array.from({ length: WORKERS }, () => createRedisClient({ url: url(), mode, timeoutMs: 2000 }));
  const caps = clients.map((c) => new RedisRateCap(new RedisExecutor(c, 2000), new RedisKeys(prefix), CAP));

  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await deleteKeysWithPrefix({ url: url(), mode }, prefix);
  });

  it('holds the cap across concurrent workers without starving any of them', async () => {
    // Act
    const taken = await drive(caps, 2000);
    // Assert: within the cap over the window (plus the small burst each bucket starts with), mostly used, shared
    const total = taken.reduce((a, b) => a + b, 0);
    expect(total).toBeLessThanOrEqual(CAP * 2 * 1.1 + CAP / 10);
    expect(total).toBeGreaterThanOrEqual(CAP * 2 * 0.6);
    for (const t of taken) expect(t).toBeGreaterThan(0);
  });

  it('slows every worker down to half the cap for a while after API Gateway throttles one call', async () => {
    // Arrange
    await sleep(300);
    // Act: one worker was throttled; everybody's next second
    await (caps[0] as RedisRateCap).throttled();
    const taken = await drive(caps, 1000);
    // Assert
    const total = taken.reduce((a, b) => a + b, 0);
    expect(total).toBeLessThanOrEqual(CAP * 0.5 * 1.1 + CAP / 10);
    expect(total).toBeGreaterThan(0);
  });
});
