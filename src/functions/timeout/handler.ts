// The scheduled sweep (EventBridge, or the local timer): passes over all shards for SWEEP_WINDOW_SECONDS, handed to the
// queue-driven workers when there are any, else done here (this alone is a complete recovery path).
import type { Context, ScheduledEvent } from 'aws-lambda';
import type { SweepStats } from '@presence/layer';
import {
  ConfigError,
  emptySweepStats,
  flushMetrics,
  getRuntime,
  logger,
  putMetric,
  recordUsage,
  runSweep,
  sweepOnce,
  sweepOptions,
} from '@presence/layer';

/** Shards per work message when the pass is handed to the workers. */
const SHARDS_PER_MESSAGE = 16;

export const handler = async (
  _event: ScheduledEvent,
  context?: Partial<Context>,
): Promise<SweepStats & { handedOff: number }> => {
  const { config, deps, queue, usage } = await getRuntime();
  if (!config.connectionsEndpoint)
    throw new ConfigError('Invalid configuration: CONNECTIONS_ENDPOINT is required by the sweep');
  const options = sweepOptions(config, config.connectionsEndpoint);
  const stats = emptySweepStats();
  let handedOff = 0;
  await runSweep(
    {
      windowMs: config.sweepWindowMs,
      intervalMs: config.sweepIntervalMs,
      remainingMs: () => context?.getRemainingTimeInMillis?.() ?? Number.POSITIVE_INFINITY,
    },
    async (deadline) => {
      const due = Date.now();
      // Every pass records the usage point of its minute (one round trip: the per-shard counters, summed).
      try {
        const counts = await recordUsage({ store: deps.store, usage, clock: deps.clock });
        putMetric('UsersOnline', counts.users);
        putMetric('ConnectionsOpen', counts.connections);
      } catch (error) {
        logger.warn('recording usage failed', { error: error as Error });
      }
      if (queue) {
        try {
          const shards = Array.from({ length: deps.store.shardCount }, (_, i) => i);
          const messages = [];
          for (let i = 0; i < shards.length; i += SHARDS_PER_MESSAGE) {
            messages.push(queue.send({ shards: shards.slice(i, i + SHARDS_PER_MESSAGE), sweep: true }));
          }
          await Promise.all(messages);
          handedOff += 1;
          return;
        } catch (error) {
          logger.error('handing the sweep to the workers failed: sweeping here', { error: error as Error });
        }
      }
      await sweepOnce(deps, options, stats, deadline);
      putMetric('SweepLag', Date.now() - due);
    },
  );
  flushMetrics();
  logger.info('sweep finished', { ...stats, handedOff });
  return { ...stats, handedOff };
};
