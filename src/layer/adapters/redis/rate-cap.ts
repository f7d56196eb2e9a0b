// The deployment-wide cap on @connections calls: token buckets in Redis shared by every function and worker, spread
// over several slots (no hot key), on Redis's clock. A throttled call halves every bucket's rate for a while.
import type { RateCap } from '../../delivery/ports';
import type { RedisCommand, RedisExecutor } from './client';
import type { RedisKeys } from './keys';

/** Buckets the cap is split into (each holds cap/BUCKETS per second). */
export const RATE_BUCKETS = 8;

/** How long a throttling answer slows a bucket down. */
const SLOW_MS = 5000;

/**
 * KEYS bucket. ARGV rate per second, burst, wanted, slow ('1': API Gateway throttled us). Returns {granted, retry in ms}.
 */
export const RATE_CAP_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if ARGV[4] == '1' then
  redis.call('HSET', KEYS[1], 'su', now + ${SLOW_MS})
  redis.call('PEXPIRE', KEYS[1], 60000)
  return {0, 0}
end
local b = redis.call('HMGET', KEYS[1], 'tk', 'ts', 'su')
local rate, burst, wanted = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
if b[3] and tonumber(b[3]) > now then rate = rate / 2 end
local tk = tonumber(b[1]) or burst
local ts = tonumber(b[2]) or now
tk = math.min(burst, tk + math.max(0, now - ts) * rate / 1000)
local granted = math.min(wanted, math.floor(tk))
tk = tk - granted
redis.call('HSET', KEYS[1], 'tk', tostring(tk), 'ts', now)
redis.call('PEXPIRE', KEYS[1], 60000)
local wait = 0
if granted < wanted then wait = math.ceil((1 - (tk - math.floor(tk))) * 1000 / rate) end
return {granted, wait}
`;

/** {@link RateCap} on Redis token buckets. */
export class RedisRateCap implements RateCap {
  private readonly perBucket: number;
  private readonly burst: number;

  constructor(
    private readonly redis: RedisExecutor,
    private readonly keys: RedisKeys,
    /** DELIVERY_MAX_CALLS_PER_SECOND. */
    callsPerSecond: number,
  ) {
    this.perBucket = callsPerSecond / RATE_BUCKETS;
    // A small burst keeps any 1-second window under 1.1x the cap.
    this.burst = Math.max(1, Math.floor(this.perBucket / 10));
  }

  async acquire(wanted: number): Promise<{ granted: number; retryInMs: number }> {
    if (wanted <= 0) return { granted: 0, retryInMs: 0 };
    const bucket = Math.floor(Math.random() * RATE_BUCKETS);
    const [granted, wait] = await this.redis.one<[number, number]>([
      'presenceRateCap',
      1,
      this.keys.rateBucket(bucket),
      this.perBucket,
      this.burst,
      wanted,
      '0',
    ]);
    return { granted: Number(granted), retryInMs: Number(wait) };
  }

  /** Throttling is account-wide: every bucket slows down (one round trip, one command per bucket). */
  async throttled(): Promise<void> {
    await this.redis.run(
      Array.from({ length: RATE_BUCKETS }, (_, i): RedisCommand => [
        'presenceRateCap',
        1,
        this.keys.rateBucket(i),
        this.perBucket,
        this.burst,
        0,
        '1',
      ]),
    );
  }
}
