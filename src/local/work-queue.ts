// The local stand-in for the SQS work queue: the same `worker` handler, invoked in-process by a configurable number of
// concurrent workers with SQS-shaped events, so the local stack and the tests run the real delivery pipeline.
import { randomUUID } from 'node:crypto';
import type { SweepQueue, WorkMessage } from '@presence/layer';
import type { LocalHandler } from './handler-registry';
import { lambdaContext } from './handler-registry';

/** Lambda timeout the local workers get. */
const WORKER_TIMEOUT_MS = 60_000;

function sqsEvent(message: WorkMessage) {
  const messageId = randomUUID();
  return {
    Records: [
      {
        messageId,
        receiptHandle: messageId,
        body: JSON.stringify(message),
        attributes: { ApproximateReceiveCount: '1', SentTimestamp: String(Date.now()) },
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:presence-local-work',
        awsRegion: 'us-east-1',
      },
    ],
  };
}

/** An in-process work queue with `workers` concurrent consumers; identical waiting messages are coalesced. */
export class LocalWorkQueue implements SweepQueue {
  private readonly waiting: WorkMessage[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly running = new Set<Promise<unknown>>();
  private stopped = false;
  /** Messages processed (tests read it). */
  processed = 0;

  constructor(
    private readonly worker: LocalHandler,
    private readonly workers: number,
  ) {}

  async notify(shards: readonly number[], delayMs = 0): Promise<void> {
    if (shards.length === 0) return;
    const message = { shards: [...new Set(shards)].sort((a, b) => a - b), sweep: false };
    if (delayMs <= 0) return this.push(message);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.push(message);
    }, delayMs);
    timer.unref();
    this.timers.add(timer);
  }

  async send(message: WorkMessage): Promise<void> {
    this.push(message);
  }

  /** Resolves when nothing is waiting or running. */
  async idle(): Promise<void> {
    while (this.running.size > 0 || this.waiting.length > 0) await Promise.allSettled([...this.running]);
  }

  /** Stops taking work and waits for the messages in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.waiting.length = 0;
    await Promise.allSettled([...this.running]);
  }

  private push(message: WorkMessage): void {
    if (this.stopped) return;
    const key = JSON.stringify(message);
    if (!this.waiting.some((m) => JSON.stringify(m) === key)) this.waiting.push(message);
    this.pump();
  }

  private pump(): void {
    while (!this.stopped && this.running.size < this.workers && this.waiting.length > 0) {
      const message = this.waiting.shift() as WorkMessage;
      const run = this.worker(sqsEvent(message), lambdaContext('worker', randomUUID(), WORKER_TIMEOUT_MS))
        .catch(() => undefined)
        .finally(() => {
          this.running.delete(run);
          this.processed += 1;
          this.pump();
        });
      this.running.add(run);
    }
  }
}
