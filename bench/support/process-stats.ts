// CPU time and memory of a process from /proc (Linux), and Redis INFO commandstats: where the time went.
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

/** CPU seconds (user + system) a process has used so far, or null when /proc cannot tell. */
export function cpuSeconds(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields after the command name start at field 3 (state); utime and stime are fields 14 and 15.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

/** Resident set size of a process in MB, or null. */
export function rssMb(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /VmRSS:\s+(\d+)\s+kB/.exec(status);
    return match ? Number(match[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** Calls and total microseconds per Redis command (INFO commandstats). */
export type CommandStats = Record<string, { calls: number; usec: number }>;

/** Reads INFO commandstats. */
export async function commandStats(redis: Redis): Promise<CommandStats> {
  const text = await redis.info('commandstats');
  const stats: CommandStats = {};
  for (const line of text.split('\n')) {
    const match = /^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/.exec(line.trim());
    if (match) stats[match[1] as string] = { calls: Number(match[2]), usec: Number(match[3]) };
  }
  return stats;
}

/** What happened between two readings, busiest command first (usec_per_call included). */
export function commandStatsDelta(
  before: CommandStats,
  after: CommandStats,
): { command: string; calls: number; usec: number; usecPerCall: number }[] {
  return Object.entries(after)
    .map(([command, a]) => {
      const b = before[command] ?? { calls: 0, usec: 0 };
      const calls = a.calls - b.calls;
      const usec = a.usec - b.usec;
      return { command, calls, usec, usecPerCall: calls > 0 ? usec / calls : 0 };
    })
    .filter((row) => row.calls > 0)
    .sort((x, y) => y.usec - x.usec);
}
