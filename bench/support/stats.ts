// Latency statistics: timed loops over async operations and their percentiles, in milliseconds.

/** Percentiles and spread of one series of latencies (milliseconds). */
export interface LatencyStats {
  readonly n: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

/** The `q` quantile (0..1) of sorted `values` (nearest rank). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] as number;
}

/** The median of `values` (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Summarizes raw latencies (milliseconds). */
export function summarize(values: readonly number[]): LatencyStats {
  const sorted = [...values].sort((a, b) => a - b);
  const sum = sorted.reduce((acc, v) => acc + v, 0);
  return {
    n: sorted.length,
    p50: quantile(sorted, 0.5),
    p90: quantile(sorted, 0.9),
    p99: quantile(sorted, 0.99),
    max: sorted.length ? (sorted[sorted.length - 1] as number) : Number.NaN,
    mean: sorted.length ? sum / sorted.length : Number.NaN,
  };
}

/** Milliseconds since `start` (from `process.hrtime.bigint()`). */
export function elapsedMs(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/**
 * Runs `op` `warmup` times untimed, then `iterations` times one after another (no overlap: the latency of one
 * invocation, like one Lambda container serving one event at a time), with an optional untimed `between` step.
 */
export async function timeLoop(
  iterations: number,
  warmup: number,
  op: (i: number) => Promise<unknown>,
  between?: (i: number) => Promise<unknown>,
): Promise<number[]> {
  return (await timeLoopCpu(iterations, warmup, op, between)).samples;
}

/** {@link timeLoop}, also answering this process's CPU per timed iteration (µs, user + system; `between` excluded). */
export async function timeLoopCpu(
  iterations: number,
  warmup: number,
  op: (i: number) => Promise<unknown>,
  between?: (i: number) => Promise<unknown>,
): Promise<{ samples: number[]; cpuUs: number }> {
  for (let i = 0; i < warmup; i += 1) {
    await op(i);
    if (between) await between(i);
  }
  const samples: number[] = new Array(iterations);
  let cpu = 0;
  for (let i = 0; i < iterations; i += 1) {
    const c0 = process.cpuUsage();
    const start = process.hrtime.bigint();
    await op(warmup + i);
    samples[i] = elapsedMs(start);
    const c = process.cpuUsage(c0);
    cpu += c.user + c.system;
    if (between) await between(warmup + i);
  }
  return { samples, cpuUs: cpu / iterations };
}

/** Runs `fn` over `items` with at most `limit` in flight (seeding helper; rejects on the first failure). */
export async function forEachLimit<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T, i: number) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Rounds for display: 3 significant decimals below 1, fewer above. */
export function fmt(value: number | null | undefined, digits?: number): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return 'n/a';
  if (digits !== undefined) return value.toFixed(digits);
  const abs = Math.abs(value);
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2);
  return value.toFixed(3);
}
