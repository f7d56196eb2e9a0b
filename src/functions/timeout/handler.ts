// The scheduled sweep (EventBridge, or the local timer): passes over all shards for SWEEP_WINDOW_SECONDS, handed to the
// queue-driven workers when there are any, else done here (this alone is a complete recovery path). The stack also
// invokes it once, when it is created, with {"markFresh":true}: a new store is marked fresh (see markFreshIfNew).
import type { Context, ScheduledEvent } from 'aws-lambda';
import type { FreshMarkResult, SweepStats } from '@presence/layer';
import {
  ConfigError,
  ValidationError,
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

/** The one-time event of stack creation (events/timeout-mark-fresh.json); an operator may send it too. */
export interface MarkFreshEvent {
  readonly markFresh: true;
}

/** What a sweep invocation did. */
export type SweepResult = SweepStats & { handedOff: number };

export async function handler(event: ScheduledEvent, context?: Partial<Context>): Promise<SweepResult>;
export async function handler(event: MarkFreshEvent, context?: Partial<Context>): Promise<FreshMarkResult>;
export async function handler(
  event: ScheduledEvent | MarkFreshEvent,
  context?: Partial<Context>,
): Promise<SweepResult | FreshMarkResult> {
  if (event !== null && typeof event === 'object' && 'markFresh' in event) {
    if (event.markFresh !== true) throw new ValidationError('markFresh must be true (the event is {"markFresh":true})');
    return markFresh();
  }
  return sweep(context);
}

/** Marks a new store fresh, so users are not asked to resync after the first deploy; refuses on a store with data. */
async function markFresh(): Promise<FreshMarkResult> {
  const { store } = await getRuntime();
  const result = await store.markFreshIfNew();
  if (result.outcome === 'refused') {
    logger.warn('mark fresh refused: the store holds data or is recovering from a loss; nothing changed', {
      ...result.shards,
    });
  } else logger.info(`mark fresh: ${result.outcome}`, { ...result.shards });
  return result;
}

async function sweep(context: Partial<Context> | undefined): Promise<SweepResult> {
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
}
