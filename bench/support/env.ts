// The handlers' environment during the bench: the bench stores, the stand-in @connections API, bench-friendly limits.
import type { BenchStores } from './stores';

/** Settings that differ from the deployed defaults, with the reason (written into the report). */
export const BENCH_OVERRIDES: Readonly<Record<string, { value: string; why: string }>> = {
  GRACE_SECONDS: { value: '0', why: 'every close / expiry announces at once, so the fan-out cost is always measured' },
  PRESENCE_TIMEOUT_SECONDS: { value: '86400', why: 'seeded online friends must not expire during a long run' },
  FRIEND_CACHE_SECONDS: { value: '86400', why: 'warm figures: the friend context stays cached' },
  RATE_LIMIT_PER_SECOND: {
    value: '1000000',
    why: 'one connection is driven far above 10 msg/s; the limiter still runs',
  },
  RATE_LIMIT_BURST: { value: '1000000', why: 'as above' },
  DELIVERY_MAX_CALLS_PER_SECOND: {
    value: '10000000',
    why: 'throughput of this code, not of the AWS account: the deployed cap (5,000/s) would bound every fan-out figure',
  },
};

/** The environment the runtime (src/layer/runtime.ts) reads on first use. */
export function handlerEnv(
  stores: BenchStores,
  connectionsEndpoint: string,
  auth?: { issuer: string; audience: string; jwksUri: string },
) {
  const env: Record<string, string> = {
    REDIS_URL: stores.redisUrl,
    REDIS_MODE: 'standalone',
    REDIS_KEY_PREFIX: stores.keyPrefix,
    DATABASE_URL: stores.schemaUrl,
    CONNECTIONS_ENDPOINT: connectionsEndpoint,
    ALLOWED_ORIGINS: 'chrome-extension://abcdefghijklmnopabcdefghijklmnop,http://127.0.0.1:3000',
    // What CONNECTIONS_THREADS=auto gives the deployed request handlers (512 MB or less: under one vCPU, no thread);
    // the sweep bench sets it per run (bench/sweep.ts).
    CONNECTIONS_THREADS: '0',
    ...Object.fromEntries(Object.entries(BENCH_OVERRIDES).map(([key, { value }]) => [key, value])),
  };
  if (auth) Object.assign(env, { JWT_ISSUER: auth.issuer, JWT_AUDIENCE: auth.audience, JWT_JWKS_URI: auth.jwksUri });
  return env;
}
