// Connection ids the stand-in @connections API answers without counting.

/** A worker's warm-up call (first SDK call of a process: credentials, lazily loaded modules). */
export const WARMUP_CONNECTION_ID = '__warmup';
