// The scheduled sweep (EventBridge, or the local timer): passes over all shards for SWEEP_WINDOW_SECONDS.
import type { Context, ScheduledEvent } from 'aws-lambda';
import type { SweepStats } from '@presence/layer';
import { ConfigError, getRuntime, logger, runSweep } from '@presence/layer';

/** Leases outlive a slow batch, yet a crashed sweep's entries come back within a pass or two. */
const LEASE_MS = 30_000;

export const handler = async (_event: ScheduledEvent, context?: Partial<Context>): Promise<SweepStats> => {
  const { config, deps } = await getRuntime();
  if (!config.connectionsEndpoint) throw new ConfigError('Invalid configuration: CONNECTIONS_ENDPOINT is required by the sweep');
  const stats = await runSweep(
    deps,
    {
      endpoint: config.connectionsEndpoint,
      leaseMs: LEASE_MS,
      batchSize: config.sweepBatchSize,
      shardConcurrency: 16,
      directoryConcurrency: config.databasePoolMax,
    },
    {
      windowMs: config.sweepWindowMs,
      intervalMs: config.sweepIntervalMs,
      remainingMs: () => context?.getRemainingTimeInMillis?.() ?? Number.POSITIVE_INFINITY,
    },
  );
  logger.info('sweep finished', { ...stats });
  return stats;
};
