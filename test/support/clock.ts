// Moves Date.now() (only) so liveness, grace and the sweep can be tested without waiting; real timers keep running.
const REAL_TIMERS = [
  'nextTick',
  'setImmediate',
  'clearImmediate',
  'setInterval',
  'clearInterval',
  'setTimeout',
  'clearTimeout',
  'queueMicrotask',
  'hrtime',
  'performance',
] as const;

/** Fakes Date only, starting now. */
export function useFakeDate(): void {
  jest.useFakeTimers({ doNotFake: [...REAL_TIMERS], now: Date.now() });
}

/** Advances the faked Date by `ms`. */
export function advance(ms: number): void {
  jest.setSystemTime(Date.now() + ms);
}
