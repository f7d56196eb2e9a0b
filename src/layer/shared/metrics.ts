// CloudWatch metrics through Powertools Metrics (embedded metric format: JSON log lines CloudWatch turns into
// metrics, no API call on the request path). Written only where POWERTOOLS_METRICS_NAMESPACE is set (the stack sets
// it); tests and the local stack write none. Names and units are documented here once (see docs/deployment.md).
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';

/** Every metric the functions write, with its unit. */
export const METRICS = Object.freeze({
  /** Users with at least one open connection (recorded by each sweep pass). */
  UsersOnline: MetricUnit.Count,
  /** Open WebSocket connections (recorded by each sweep pass). */
  ConnectionsOpen: MetricUnit.Count,
  /** `@connections` POSTs that reached their connection. */
  DeliveriesSent: MetricUnit.Count,
  /** `@connections` POSTs that failed (5xx, throttled, timeout) and wait in a mailbox for retry. */
  DeliveriesFailed: MetricUnit.Count,
  /** Age of the oldest change a delivery step posted: from the change (its version's clock) to the post. */
  DeliveryLag: MetricUnit.Milliseconds,
  /** How long after a sweep pass was due it finished (a due connection waits at most this long beyond its timeout). */
  SweepLag: MetricUnit.Milliseconds,
  /** `@connections` calls that had to wait for the deployment-wide rate cap. */
  RateCapWaits: MetricUnit.Count,
});

/** A metric name. */
export type MetricName = keyof typeof METRICS;

/** Powertools adds this dimension (`service`) to every metric; the dashboard reads the same. */
export const METRICS_SERVICE = 'presence-api';

/** Flush buffered request-path metrics at most this often (one log line per container per minute, not per request). */
const FLUSH_INTERVAL_MS = 60_000;

let metrics: Metrics | undefined;
let lastFlush = Date.now();

function instance(): Metrics | undefined {
  const namespace = process.env.POWERTOOLS_METRICS_NAMESPACE;
  if (!namespace || process.env.POWERTOOLS_METRICS_DISABLED === 'true') return undefined;
  metrics ??= new Metrics({ namespace, serviceName: METRICS_SERVICE });
  return metrics;
}

/**
 * Adds one value of a metric. Values are buffered (Powertools keeps up to 100 per metric, then flushes by itself) and
 * written by {@link flushMetrics}, or by the first call after a minute: request-path functions then write one line a
 * minute per container instead of one per request.
 */
export function putMetric(name: MetricName, value: number): void {
  const m = instance();
  if (!m || !Number.isFinite(value)) return;
  m.addMetric(name, METRICS[name], value);
  if (Date.now() - lastFlush >= FLUSH_INTERVAL_MS) flushMetrics();
}

/** Writes buffered metrics now (the sweep and the workers call it at the end of each invocation). */
export function flushMetrics(): void {
  lastFlush = Date.now();
  const m = metrics;
  if (m?.hasStoredMetrics()) m.publishStoredMetrics();
}
