// Readable one-line request logs of the local stack (never tokens): time, kind, what, status, who, how long.
import { redactSecrets } from '@presence/layer';

const useColor = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code: number, text: string): string => (useColor ? `\u001b[${code}m${text}\u001b[0m` : text);

/** Colors for status codes: green 2xx/101, yellow 4xx, red 5xx. */
function statusText(status: number | string): string {
  if (typeof status === 'string') return paint(36, status);
  if (status >= 500) return paint(31, String(status));
  if (status >= 400) return paint(33, String(status));
  return paint(32, String(status));
}

function clock(): string {
  return new Date().toISOString().slice(11, 23);
}

/** One log line: `12:00:01.234 WS   update-presence  200  alice  conn=abc  4ms`. */
export function logRequest(entry: {
  readonly kind: 'REST' | 'WS' | 'CONN' | 'SWEEP' | 'DEV' | 'HTTP' | 'EVENT';
  readonly what: string;
  readonly status: number | string;
  readonly userId?: string | undefined;
  readonly connectionId?: string | undefined;
  readonly ms?: number | undefined;
  readonly note?: string | undefined;
}): void {
  // Callers print paths, never query strings; whatever slips through (a token in a path, an error message quoting a
  // URL) is redacted here, where every line passes.
  const parts = [
    paint(90, clock()),
    paint(35, entry.kind.padEnd(5)),
    redactSecrets(entry.what).padEnd(28),
    statusText(entry.status).padEnd(useColor ? 12 : 3),
    entry.userId ? paint(1, redactSecrets(entry.userId)) : '',
    entry.connectionId ? paint(90, `conn=${redactSecrets(entry.connectionId)}`) : '',
    entry.ms !== undefined ? `${entry.ms}ms` : '',
    entry.note ? paint(90, redactSecrets(entry.note)) : '',
  ];
  process.stdout.write(`${parts.filter(Boolean).join('  ')}\n`);
}

/** Milliseconds since `start` (from `performance.now()`), rounded. */
export function since(start: number): number {
  return Math.round(performance.now() - start);
}
