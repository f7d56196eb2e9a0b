// The queue-driven worker (SQS event source in AWS, the in-process queue locally): sweeps and/or delivers the shards
// each message names; a message that fails is reported back (partial batch failure) and retried by the queue.
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { WorkMessage } from '@presence/layer';
import {
  ConfigError,
  emptySweepStats,
  flushMetrics,
  getRuntime,
  logger,
  putMetric,
  sweepOnce,
  sweepOptions,
} from '@presence/layer';

/** Stop this long before the Lambda timeout, so no pass is cut mid-way. */
const SAFETY_MS = 3000;

export const handler = async (event: SQSEvent, context?: Partial<Context>): Promise<SQSBatchResponse> => {
  const { config, deps } = await getRuntime();
  if (!config.connectionsEndpoint)
    throw new ConfigError('Invalid configuration: CONNECTIONS_ENDPOINT is required by the worker');
  const endpoint = config.connectionsEndpoint;
  const deadline = Date.now() + (context?.getRemainingTimeInMillis?.() ?? 60_000) - SAFETY_MS;
  const stats = emptySweepStats();
  const failures: { itemIdentifier: string }[] = [];
  for (const record of event.Records) {
    try {
      const message = JSON.parse(record.body) as WorkMessage;
      const shards = message.shards.filter((s) => Number.isInteger(s) && s >= 0 && s < deps.store.shardCount);
      if (message.sweep) {
        await sweepOnce(deps, sweepOptions(config, endpoint), stats, deadline, shards);
        // The pass was due when the schedule handed it over (the queue's send time).
        const sentAt = Number(record.attributes?.SentTimestamp);
        if (Number.isFinite(sentAt) && sentAt > 0) putMetric('SweepLag', Date.now() - sentAt);
      } else await deps.deliverer.drain(endpoint, shards, deadline);
    } catch (error) {
      logger.error('work message failed', { messageId: record.messageId, error: error as Error });
      failures.push({ itemIdentifier: record.messageId });
    }
  }
  if (stats.reaped || stats.sent) logger.info('worker finished', { ...stats });
  flushMetrics();
  return { batchItemFailures: failures };
};
