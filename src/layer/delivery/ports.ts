// Ports of the delivery module: the durable outbox and mailboxes, the deployment-wide rate cap, the work queue and the
// event publisher. Adapters implement them (Redis, SQS or in-process, EventBridge or local).
import type { ChangeRecord, PendingChange } from '../presence/model';

/** One message for one connection. */
export interface Delivery {
  /** The user who owns the target connection. */
  readonly ownerId: string;
  readonly connectionId: string;
  /** When the target connection's `$connect` ran (0: unknown): 410s within the connect window are not "gone". */
  readonly connectedAt: number;
  /** Whether the target opted in to `presence-batch`. */
  readonly batch: boolean;
  /** Whose change this is ('' for messages that are about nobody, such as errors): only the newest per user is kept. */
  readonly fromUserId: string;
  readonly v: number;
  /** The server message (a JSON object with a `type`). */
  readonly message: Readonly<Record<string, unknown>>;
  /** The group whose subscription this delivery comes from (a gone target leaves that group's subscriber index). */
  readonly via?: string;
}

/**
 * A message to one connection that is about nobody (an error, a reply, `resync`, `token_expired`): it carries no
 * version, and a mailbox keeps only the newest one per connection.
 */
export function directMessage(
  ownerId: string,
  connectionId: string,
  message: Readonly<Record<string, unknown>>,
  connectedAt = 0,
): Delivery {
  return { ownerId, connectionId, connectedAt, batch: false, fromUserId: '', v: 0, message };
}

/** Pending messages of one connection, as its mailbox holds them. */
export interface Mailbox {
  readonly connectionId: string;
  readonly ownerId: string;
  readonly connectedAt: number;
  readonly batch: boolean;
  /** Failed attempts so far (for the backoff). */
  readonly attempts: number;
  readonly items: readonly {
    readonly fromUserId: string;
    readonly v: number;
    readonly message: Record<string, unknown>;
  }[];
}

/** What happened to a mailbox's delivery. */
export interface MailResult {
  readonly connectionId: string;
  readonly outcome: 'sent' | 'retry' | 'gone';
  /** When to try again (`retry`). */
  readonly retryAt?: number;
  /** The messages delivered: [fromUserId, v]. */
  readonly delivered: readonly (readonly [string, number])[];
}

/** Acknowledgement of one outbox entry. */
export interface OutboxAck {
  readonly userId: string;
  readonly v: number;
  /** Try the whole change again at this time (its fan-out could not be planned); absent: done. */
  readonly retryAt?: number;
}

/** The durable delivery state (Redis): per-shard outbox of changes and per-connection mailboxes of messages. */
export interface DeliveryStore {
  readonly shardCount: number;
  shardOf(userId: string): number;
  /** Leases up to `limit` due changes of one shard. */
  claimOutbox(shard: number, now: number, leaseMs: number, limit: number): Promise<PendingChange[]>;
  /** Acknowledges outbox entries and stores messages for retry, in one round trip. */
  settle(acks: readonly OutboxAck[], mail: readonly Delivery[], mailDue: number): Promise<void>;
  /** Leases up to `limit` due mailboxes of one shard. */
  claimMail(shard: number, now: number, leaseMs: number, limit: number): Promise<Mailbox[]>;
  /** Records what happened to claimed mailboxes (grouped by shard internally). */
  ackMail(results: readonly (MailResult & { readonly ownerId: string })[]): Promise<void>;
}

/** The deployment-wide cap on `@connections` calls, shared by every function and worker. */
export interface RateCap {
  /** Takes up to `wanted` call permits now; answers how many were granted (maybe 0) and when to ask again. */
  acquire(wanted: number): Promise<{ granted: number; retryInMs: number }>;
  /** API Gateway throttled a call: everyone slows down for a while. */
  throttled(): Promise<void>;
}

/** Hands shards with pending work to the delivery workers (SQS in AWS, in-process locally; none: the sweep does it). */
export interface WorkQueue {
  notify(shards: readonly number[], delayMs?: number): Promise<void>;
}

/** A presence event as the contract publishes it (`detail` of "Presence Changed"). */
export interface PresenceEventDetail {
  readonly userId: string;
  readonly status: string;
  readonly previousStatus: string;
  readonly v: number;
  readonly at: number;
}

/** Publishes presence events (EventBridge in AWS; the local event log and webhook locally). */
export interface EventPublisher {
  publish(events: readonly PresenceEventDetail[]): Promise<void>;
}

/** What the delivery module reports (CloudWatch metrics in AWS; nothing in tests and locally). */
export interface DeliveryMetrics {
  /** One delivery step: posts that reached their connection, posts that failed, the oldest change's age (ms). */
  delivered(sent: number, failed: number, lagMs: number | undefined): void;
  /** `@connections` calls that had to wait for the deployment-wide rate cap. */
  capWaited(calls: number): void;
}

/** Reports nothing. */
export const NO_METRICS: DeliveryMetrics = Object.freeze({ delivered: () => undefined, capWaited: () => undefined });

/** Record of a change, re-exported for the delivery module's users. */
export type { ChangeRecord };
