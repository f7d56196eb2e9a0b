// UsageLog on Redis: two sorted sets under one hash tag (per minute, kept a day; per hour, kept the retention).
import type { UsageLog, UsagePoint, UsageResolution } from '../../presence/ports';
import type { RedisExecutor } from './client';
import type { RedisKeys } from './keys';

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** {@link UsageLog} on Redis; `retentionDays` bounds the hourly record (the per-minute one keeps a day). */
export class RedisUsageLog implements UsageLog {
  constructor(
    private readonly redis: RedisExecutor,
    private readonly keys: RedisKeys,
    private readonly retentionDays: number,
  ) {}

  async record(at: number, users: number, connections: number): Promise<void> {
    const retentionMs = this.retentionDays * DAY_MS;
    await this.redis.one([
      'presenceUsageRecord',
      2,
      this.keys.usage('minute'),
      this.keys.usage('hour'),
      at - (at % MINUTE_MS),
      at - (at % HOUR_MS),
      Math.max(0, users),
      Math.max(0, connections),
      // the minute record serves ranges up to a day; a minute of margin keeps the oldest point of a 24 h range
      at - Math.min(retentionMs, DAY_MS) - MINUTE_MS,
      at - retentionMs,
      Math.ceil(retentionMs / 1000) + 3600,
    ]);
  }

  async series(resolution: UsageResolution, from: number): Promise<UsagePoint[]> {
    const members = await this.redis.one<string[]>(['zrangebyscore', this.keys.usage(resolution), from, '+inf']);
    const points: UsagePoint[] = [];
    for (const member of members) {
      const [t, online, connections] = member.split(':').map(Number);
      if (t !== undefined && Number.isFinite(t)) points.push({ t, online: online ?? 0, connections: connections ?? 0 });
    }
    return points;
  }
}
