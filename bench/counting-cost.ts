// What counting users online and connections open costs on the hot paths: Redis round trips and Redis CPU (INFO
// commandstats, microseconds per script call) of connect, heartbeat (a plain one, one that rewrites its expiry index
// entry, and the mix of steady one-minute beats, every other one of which rewrites it) and close, with the counters
// (as shipped) and with them removed from the scripts; and the cost of recording one usage point.
// Run: `npx tsx bench/counting-cost.ts [N]`.
import type { Redis } from 'ioredis';
import { RedisExecutor, createRedisClient } from '../src/layer/adapters/redis/client';
import { RedisKeys } from '../src/layer/adapters/redis/keys';
import { RedisPresenceStore } from '../src/layer/adapters/redis/presence-store';
import { SCRIPTS } from '../src/layer/adapters/redis/scripts';
import { RedisUsageLog } from '../src/layer/adapters/redis/usage-log';
import { recordUsage } from '../src/layer/presence/usage';
import { startEmbeddedRedis } from '../src/local/embedded-redis';

const N = Number(process.argv[2] ?? 5000);
const COUNT_FN = /local function count\(K, users, conns\)\n[\s\S]*?\nend\n/;

async function commandCpu(client: Redis): Promise<{ calls: number; usec: number }> {
  const info = await client.info('commandstats');
  let calls = 0;
  let usec = 0;
  for (const [, , c, u] of info.matchAll(/cmdstat_(evalsha|eval):calls=(\d+),usec=(\d+)/g)) {
    calls += Number(c);
    usec += Number(u);
  }
  return { calls, usec };
}

async function measure(url: string, variant: 'with counters' | 'without counters') {
  const scripts = SCRIPTS as Record<string, string>;
  const shipped = { ...scripts };
  if (variant === 'without counters') {
    for (const [name, lua] of Object.entries(scripts))
      scripts[name] = lua.replace(COUNT_FN, 'local function count(K, users, conns) end\n');
  }
  const client = createRedisClient({ url, mode: 'standalone', timeoutMs: 5000 }) as Redis;
  Object.assign(scripts, shipped);
  const admin = createRedisClient({ url, mode: 'standalone', timeoutMs: 5000 }) as Redis;
  const redis = new RedisExecutor(client, 5000);
  const keys = new RedisKeys(`cost${variant === 'with counters' ? 'a' : 'b'}:`);
  const store = new RedisPresenceStore(redis, keys, {
    timeoutMs: 90_000,
    graceMs: 0,
    retentionSeconds: 86_400,
    friendCacheSeconds: 3600,
    rateLimit: { perSecond: 1000, burst: 1000 },
    idleMs: 0,
    authGraceMs: 300_000,
    leaseMs: 15_000,
  });
  await store.markFresh();
  const users = Array.from({ length: N / 2 }, (_, i) => `user${i}`);
  await store.saveContexts(
    users.map((userId) => ({
      userId,
      settings: { shareMode: 'default_all', domains: [] },
      friendIds: [],
      info: new Map(),
      groupIds: [],
    })) as never,
  );
  const refs = Array.from({ length: N }, (_, i) => ({
    userId: users[i % users.length] as string,
    connectionId: `c${i}`,
  }));
  const rows: Record<string, string | number>[] = [];
  /** Runs `op` on every connection, `passes` times (pass 0, 1, ...), and records the cost per call. */
  const phase = async (
    name: string,
    op: (ref: (typeof refs)[number], pass: number) => Promise<unknown>,
    passes = 1,
  ) => {
    await admin.config('RESETSTAT');
    const trips = redis.roundTrips;
    const started = performance.now();
    for (let pass = 0; pass < passes; pass += 1) for (const ref of refs) await op(ref, pass);
    const ms = performance.now() - started;
    const cpu = await commandCpu(admin);
    const calls = refs.length * passes;
    rows.push({
      variant,
      op: name,
      roundTripsPerOp: (redis.roundTrips - trips) / calls,
      redisUsecPerOp: +(cpu.usec / cpu.calls).toFixed(2),
      clientMsPerOp: +(ms / calls).toFixed(3),
    });
  };
  await phase('connect', (r) =>
    store.connect({ ...r, now: Date.now(), detail: 'full', batch: false, authorizedUntil: 0 }),
  );
  await phase('heartbeat', (r) => store.touch({ ...r, now: Date.now() }));
  // 60 s later (a second heartbeat at a 60 s interval): more than half-way to the new deadline, so this one also
  // rewrites the connection's expiry index entry, as about every other heartbeat does in steady state
  await phase('heartbeat, index moved', (r) => store.touch({ ...r, now: Date.now() + 60_000 }));
  // steady one-minute beats (the interval learned): the one at 120 s leaves the index as it is, the one at 180 s
  // moves it; the mean of both is what a PageNow heartbeat costs on average
  await phase(
    'heartbeat, mix (60 s beats)',
    (r, pass) => store.touch({ ...r, now: Date.now() + 120_000 + 60_000 * pass }),
    2,
  );
  await phase('close', (r) => store.remove({ ...r, now: Date.now() }));
  if (variant === 'with counters') {
    const usage = new RedisUsageLog(redis, keys, 90);
    await admin.config('RESETSTAT');
    const trips = redis.roundTrips;
    const started = performance.now();
    for (let i = 0; i < 100; i += 1) await recordUsage({ store, usage, clock: () => Date.now() });
    const cpu = await commandCpu(admin);
    rows.push({
      variant,
      op: 'record a usage point (once per sweep pass)',
      roundTripsPerOp: (redis.roundTrips - trips) / 100,
      redisUsecPerOp: +(cpu.usec / 100).toFixed(2),
      clientMsPerOp: +((performance.now() - started) / 100).toFixed(3),
    });
  }
  client.disconnect();
  admin.disconnect();
  return rows;
}

async function main() {
  const server = await startEmbeddedRedis();
  try {
    const rows = [];
    // alternate the variants twice, so a warm-up or a neighbour's load does not favour one
    for (const variant of ['without counters', 'with counters', 'without counters', 'with counters'] as const) {
      rows.push(...(await measure(server.url, variant)));
    }
    console.table(rows);
  } finally {
    await server.stop();
  }
}

void main();
