// Reconnect delays: exponential backoff with full jitter, so many clients do not reconnect in lockstep.

/** Backoff settings. */
export interface BackoffOptions {
  /** First ceiling, in ms (default 1000). */
  readonly initialDelayMs?: number;
  /** Largest ceiling, in ms (default 30000). */
  readonly maxDelayMs?: number;
}

/** The delay before reconnect attempt `attempt` (0-based): uniform in [ceiling/2, ceiling], ceiling doubling up to max. */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions = {},
  random: () => number = Math.random,
): number {
  const initial = options.initialDelayMs ?? 1000;
  const max = options.maxDelayMs ?? 30_000;
  const ceiling = Math.min(max, initial * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
