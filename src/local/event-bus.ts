// The local stand-in for the stack's EventBridge bus: an EventPublisher that keeps the last events for GET /dev/events
// and POSTs each one to LOCAL_WEBHOOK_URL, retried like the deployed rule's API destination (then dropped and logged,
// where AWS would keep it in the dead-letter queue). Accepting an event does not wait for the webhook, as PutEvents
// does not: a slow or failing webhook never holds up presence deliveries.
import type { EventPublisher, PresenceEvent, PresenceEventDetail } from '@presence/layer';
import { presenceEvent } from '@presence/layer';
import { logRequest, since } from './request-log';

/** How many events GET /dev/events keeps (newest last). */
export const LOCAL_EVENT_LOG_SIZE = 1000;

/** Settings of {@link LocalEventBus}. */
export interface LocalEventBusOptions {
  /** LOCAL_WEBHOOK_URL: where each event is POSTed as one JSON object; undefined: nowhere. */
  readonly webhookUrl?: string | undefined;
  /** Attempts per event (default 3) and the first delay between them, doubling (default 1 s). */
  readonly attempts?: number;
  readonly retryBaseMs?: number;
  /** Per-request timeout (default 5 s). */
  readonly timeoutMs?: number;
}

/** {@link EventPublisher} of the local stack. */
export class LocalEventBus implements EventPublisher {
  private readonly log: PresenceEvent[] = [];
  /** Webhook posts go out one at a time, in publishing order. */
  private chain: Promise<void> = Promise.resolve();
  private stopped = false;
  /** Webhook requests answered 2xx / given up on (tests and the request log read them). */
  delivered = 0;
  dropped = 0;

  constructor(private readonly options: LocalEventBusOptions = {}) {}

  async publish(details: readonly PresenceEventDetail[]): Promise<void> {
    for (const detail of details) {
      const event = presenceEvent(detail);
      this.log.push(event);
      if (this.log.length > LOCAL_EVENT_LOG_SIZE) this.log.splice(0, this.log.length - LOCAL_EVENT_LOG_SIZE);
      if (this.options.webhookUrl && !this.stopped) {
        const url = this.options.webhookUrl;
        this.chain = this.chain.then(() => this.post(url, event));
      }
    }
  }

  /** The kept events, oldest first. */
  events(): readonly PresenceEvent[] {
    return [...this.log];
  }

  /** Resolves once every event published so far has been POSTed or given up on. */
  async idle(): Promise<void> {
    await this.chain;
  }

  /** Stops posting: waits for the post in flight (each is bounded by its timeout), skips the rest. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.chain;
  }

  private async post(url: string, event: PresenceEvent): Promise<void> {
    const attempts = this.options.attempts ?? 3;
    const body = JSON.stringify(event);
    const what = `POST webhook ${event.detail.userId} ${event.detail.status}`;
    let note = '';
    for (let attempt = 1; attempt <= attempts && !this.stopped; attempt += 1) {
      const started = performance.now();
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          signal: AbortSignal.timeout(this.options.timeoutMs ?? 5000),
        });
        await response.arrayBuffer().catch(() => undefined);
        if (response.ok) {
          this.delivered += 1;
          return logRequest({ kind: 'EVENT', what, status: response.status, ms: since(started) });
        }
        note = `answered ${response.status}`;
      } catch (error) {
        note = error instanceof Error ? error.message : String(error);
      }
      if (attempt < attempts && !this.stopped) {
        await new Promise((resolve) => setTimeout(resolve, (this.options.retryBaseMs ?? 1000) * 2 ** (attempt - 1)));
      }
    }
    this.dropped += 1;
    logRequest({ kind: 'EVENT', what, status: 'dropped', note: `${note} (after ${attempts} attempts)` });
  }
}
