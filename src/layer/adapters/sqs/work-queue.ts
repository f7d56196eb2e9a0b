// WorkQueue on SQS: tells the queue-driven workers which shards have due work (the `worker` function drains them).
import { SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { WorkQueue } from '../../delivery/ports';
import { boundedHttpHandler } from '../aws-http';

/** The body of a work message. */
export interface WorkMessage {
  /** Shards to process. */
  readonly shards: readonly number[];
  /** Also reap expired connections (a sweep pass), not only deliver. */
  readonly sweep: boolean;
}

/** {@link WorkQueue} on one SQS queue: one message per notification (the workers' leases make duplicates harmless). */
export class SqsWorkQueue implements WorkQueue {
  private readonly client = new SQSClient({ requestHandler: boundedHttpHandler({ maxSockets: 8 }) });

  constructor(private readonly queueUrl: string) {}

  async notify(shards: readonly number[], delayMs = 0): Promise<void> {
    if (shards.length === 0) return;
    await this.send({ shards: [...new Set(shards)].sort((a, b) => a - b), sweep: false }, delayMs);
  }

  /** Sends one work message (the sweep hands its passes to the workers this way). */
  async send(message: WorkMessage, delayMs = 0): Promise<void> {
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: JSON.stringify(message),
        DelaySeconds: Math.min(900, Math.ceil(delayMs / 1000)),
      }),
    );
  }
}

/** No queue: the scheduled sweep delivers what is due on its next pass. */
export const NO_QUEUE: WorkQueue = Object.freeze({ notify: async () => undefined });
