// Shared by the sweep bench and its worker process (which must not load the bench's own modules).

/** The line a handshaking sweep worker writes to stdout and stderr right before its measured pass. */
export const MEASURED_PASS_MARK = 'BENCH_MEASURED_PASS';
