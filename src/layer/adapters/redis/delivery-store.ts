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
    // Cached friend lists and groups of the claimed users (same slot: one pipeline on one node).
    const contexts = (await this.redis.run(
      users.map((id): RedisCommand => ['hmget', this.keys.context(id), 'ids', 'grp']),
    )) as (string | null)[][];
    return users.map((userId, i) => {
      const [ids, grp] = contexts[i] ?? [];
      return {
        record: parseChangeRecord(userId, bodies[i] as string),
        friendIds: ids == null ? null : (JSON.parse(ids) as string[]),
        groupIds: ids == null ? null : (JSON.parse(grp ?? '[]') as string[]),
      };
    });
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
      const byConnection = new Map<string, Delivery[]>();
      for (const d of list) byConnection.set(d.connectionId, [...(byConnection.get(d.connectionId) ?? []), d]);
      const boxes = [...byConnection.entries()];
      commands.push([
        'presenceMailboxPut',
        1 + boxes.length,
        this.keys.mailbox(shard),
        ...boxes.map(([connectionId]) => this.keys.mailboxOf(shard, connectionId)),
        mailDue,
        ...boxes.flatMap(([connectionId, items]) => {
          const first = items[0] as Delivery;
          return [
            connectionId,
            first.ownerId,
            first.connectedAt,
            first.batch ? 1 : 0,
            items.length,
            ...items.flatMap((d) => [d.fromUserId, d.v, JSON.stringify(d.message)]),
          ];
        }),
      ]);
    }
    await this.redis.run(commands);
  }

  async claimMail(shard: number, now: number, leaseMs: number, limit: number): Promise<Mailbox[]> {
    const index = this.keys.mailbox(shard);
    const ids = await this.redis.one<string[]>(['presenceMailboxClaim', 1, index, now, now + leaseMs, limit]);
    if (ids.length === 0) return [];
    // The claimed mailboxes (same slot: one pipeline on one node).
    const hashes = (await this.redis.run(
      ids.map((id): RedisCommand => ['hgetall', this.keys.mailboxOf(shard, id)]),
    )) as Record<string, string>[];
    const boxes: Mailbox[] = [];
    const empty: string[] = [];
    ids.forEach((connectionId, k) => {
      const fields = hashes[k] ?? {};
      const ownerId = fields['#o'];
      if (ownerId === undefined) return void empty.push(connectionId);
      const items: Mailbox['items'][number][] = [];
      for (const [field, value] of Object.entries(fields)) {
        if (!field.startsWith('v:')) continue;
        const fromUserId = field.slice(2);
        items.push({
          fromUserId,
          v: Number(value),
          message: JSON.parse(fields[`p:${fromUserId}`] ?? '{}') as Record<string, unknown>,
        });
      }
      boxes.push({
        connectionId,
        ownerId,
        connectedAt: Number(fields['#c']) || 0,
        batch: fields['#b'] === '1',
        attempts: Number(fields['#n']) || 0,
        items,
      });
    });
    // An index entry whose mailbox is gone (acknowledged meanwhile) is dropped.
    if (empty.length > 0) await this.redis.one(['zrem', index, ...empty]);
    return boxes;
  }

  async ackMail(results: readonly (MailResult & { ownerId: string })[]): Promise<void> {
    const commands: RedisCommand[] = [];
    for (const [shard, list] of groupBy(results, (r) => shardOf(r.ownerId))) {
      commands.push([
        'presenceMailboxAck',
        1 + list.length,
        this.keys.mailbox(shard),
        ...list.map((r) => this.keys.mailboxOf(shard, r.connectionId)),
        ...list.flatMap((r) => [r.connectionId, r.outcome, String(r.retryAt ?? 0), JSON.stringify(r.delivered)]),
      ]);
    }
    await this.redis.run(commands);
  }
}
