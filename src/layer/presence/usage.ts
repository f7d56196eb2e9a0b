// Use cases of the usage record: once a minute the sweep records users online and connections open (per-shard counters
// summed, so no hot key is written on any connect or disconnect); admins read it back over a range.
import { ForbiddenError, ValidationError } from '../shared/errors';
import type { PresenceStore, UsageLog, UsagePoint, UsageResolution } from './ports';

/** The ranges `GET /usage` serves and the resolution each is read at (per minute up to a day, per hour beyond). */
export const USAGE_RANGES: Readonly<Record<string, { readonly ms: number; readonly resolution: UsageResolution }>> =
  Object.freeze({
    '1h': { ms: 3_600_000, resolution: 'minute' },
    '24h': { ms: 86_400_000, resolution: 'minute' },
    '7d': { ms: 7 * 86_400_000, resolution: 'hour' },
    '30d': { ms: 30 * 86_400_000, resolution: 'hour' },
    '90d': { ms: 90 * 86_400_000, resolution: 'hour' },
  });

/** The range when the query names none. */
export const DEFAULT_USAGE_RANGE = '24h';

/** What `GET /usage` answers. */
export interface UsageReport {
  /** Users with at least one open connection, now (live counters, not the last point). */
  readonly onlineNow: number;
  readonly connectionsNow: number;
  /** The highest number of users online over the range (the live figure included). */
  readonly peakOnline: number;
  readonly series: readonly UsagePoint[];
}

/** What the usage use cases need. */
export interface UsageDeps {
  readonly store: Pick<PresenceStore, 'usage'>;
  readonly usage: UsageLog;
  readonly clock: () => number;
}

/** Records one point (the sweep does this every pass, so no minute is missed); answers the counts it recorded. */
export async function recordUsage(deps: UsageDeps): Promise<{ users: number; connections: number }> {
  const counts = await deps.store.usage();
  await deps.usage.record(deps.clock(), counts.users, counts.connections);
  return counts;
}

/**
 * The usage report for an admin: `groups` are the caller's token groups, `adminGroup` the one allowed. Anyone else
 * gets 403 (checked first: a non-admin learns nothing, not even which ranges exist); an unknown range 400.
 */
export async function getUsage(
  deps: UsageDeps,
  caller: { readonly groups: readonly string[] },
  adminGroup: string,
  range: string | undefined,
): Promise<UsageReport> {
  if (!caller.groups.includes(adminGroup)) throw new ForbiddenError('Forbidden access to usage');
  const name = range ?? DEFAULT_USAGE_RANGE;
  const spec = Object.hasOwn(USAGE_RANGES, name) ? USAGE_RANGES[name] : undefined;
  if (!spec) throw new ValidationError(`range must be one of ${Object.keys(USAGE_RANGES).join(', ')}`);
  const [now, series] = await Promise.all([
    deps.store.usage(),
    deps.usage.series(spec.resolution, deps.clock() - spec.ms),
  ]);
  const peakOnline = series.reduce((peak, point) => Math.max(peak, point.online), now.users);
  return { onlineNow: now.users, connectionsNow: now.connections, peakOnline, series };
}
