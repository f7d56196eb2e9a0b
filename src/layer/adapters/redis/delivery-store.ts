// DeliveryStore on Redis: the per-shard outbox of pending changes and per-connection mailboxes of messages to retry.
import type { PendingChange } from '../../presence/model';
import type { Delivery, DeliveryStore, MailResult, Mailbox, OutboxAck } from '../../delivery/ports';
import type { RedisCommand, RedisExecutor } from './client';
import { RedisKeys, SHARD_COUNT, shardOf } from './keys';
import { parseChangeRecord } from './presence-store';

function groupBy<T>(items: readonly T[], key: (item: T) => number): Map<number, T[]> {
  const groups = new Map<number, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = groups.get(k);
    if (list) list.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

/** {@link DeliveryStore} on Redis (standalone or cluster): every script touches one shard's slot. */
export class RedisDeliveryStore implements DeliveryStore {
  readonly shardCount = SHARD_COUNT;

  constructor(
    private readonly redis: RedisExecutor,
    private readonly keys: RedisKeys,
  ) {}

  shardOf(userId: string): number {
    return shardOf(userId);
  }

  async claimOutbox(shard: number, now: number, leaseMs: number, limit: number): Promise<PendingChange[]> {
    const flat = await this.redis.one<string[]>([
      'presenceOutboxClaim',
      2,
      this.keys.outbox(shard),
      this.keys.outboxBodies(shard),
      now,
      now + leaseMs,
      limit,
    ]);
    const users: string[] = [];
    const bodies: string[] = [];
    for (let i = 0; i < flat.length; i += 2) {
      users.push(String(flat[i]).slice(2));
      bodies.push(String(flat[i + 1]));
    }
    if (users.length === 0) return [];
    // Cached friend lists of the claimed users (same slot: one pipeline on one node).
    const friends = (await this.redis.run(users.map((id): RedisCommand => ['hget', this.keys.context(id), 'ids']))) as (
      string | null
    )[];
    return users.map((userId, i) => ({
      record: parseChangeRecord(userId, bodies[i] as string),
      friendIds: friends[i] == null ? null : (JSON.parse(friends[i] as string) as string[]),
    }));
  }

  async settle(acks: readonly OutboxAck[], mail: readonly Delivery[], mailDue: number): Promise<void> {
    const commands: RedisCommand[] = [];
    for (const [shard, list] of groupBy(acks, (a) => shardOf(a.userId))) {
      commands.push([
        'presenceOutboxAck',
        2,
        this.keys.outbox(shard),
        this.keys.outboxBodies(shard),
        ...list.flatMap((a) => [`u:${a.userId}`, String(a.v), a.retryAt === undefined ? '' : String(a.retryAt)]),
      ]);
    }
    for (const [shard, list] of groupBy(mail, (d) => shardOf(d.ownerId))) {
      commands.push([
        'presenceMailboxPut',
        2,
        this.keys.mailbox(shard),
        this.keys.mailboxBodies(shard),
        mailDue,
        ...list.flatMap((d) => [
          d.connectionId,
          d.ownerId,
          d.connectedAt,
          d.batch ? 1 : 0,
          d.fromUserId,
          d.v,
          JSON.stringify(d.message),
        ]),
      ]);
    }
    await this.redis.run(commands);
  }

  async claimMail(shard: number, now: number, leaseMs: number, limit: number): Promise<Mailbox[]> {
    const flat = await this.redis.one<string[]>([
      'presenceMailboxClaim',
      2,
      this.keys.mailbox(shard),
      this.keys.mailboxBodies(shard),
      now,
      now + leaseMs,
      limit,
    ]);
    const boxes: Mailbox[] = [];
    for (let i = 0; i < flat.length; i += 2) {
      const body = JSON.parse(String(flat[i + 1])) as {
        o: string;
        c: number;
        b: number;
        n: number;
        i: [string, number, string][] | Record<string, never>;
      };
      boxes.push({
        connectionId: String(flat[i]),
        ownerId: body.o,
        connectedAt: Number(body.c) || 0,
        batch: body.b === 1,
        attempts: Number(body.n) || 0,
        items: (Array.isArray(body.i) ? body.i : []).map(([fromUserId, v, payload]) => ({
          fromUserId,
          v: Number(v),
          message: JSON.parse(payload) as Record<string, unknown>,
        })),
      });
    }
    return boxes;
  }

  async ackMail(results: readonly (MailResult & { ownerId: string })[]): Promise<void> {
    const commands: RedisCommand[] = [];
    for (const [shard, list] of groupBy(results, (r) => shardOf(r.ownerId))) {
      commands.push([
        'presenceMailboxAck',
        2,
        this.keys.mailbox(shard),
        this.keys.mailboxBodies(shard),
        ...list.flatMap((r) => [r.connectionId, r.outcome, String(r.retryAt ?? 0), JSON.stringify(r.delivered)]),
      ]);
    }
    await this.redis.run(commands);
  }
}
