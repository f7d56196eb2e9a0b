// GroupStore on Redis: cached groups and per-group subscriber indexes, each under the group's own hash tag.
import type { Group, UserInfo } from '../../presence/model';
import type { GroupStore, GroupSubscriber } from '../../presence/ports';
import type { RedisCommand, RedisExecutor } from './client';
import type { RedisKeys } from './keys';

/** Tuning of the group store. */
export interface RedisGroupStoreSettings {
  /** FRIEND_CACHE_SECONDS: how long a cached group (and so a membership change) may be stale. */
  readonly cacheSeconds: number;
  /** How long a subscriber index outlives its last subscription or delivery (API Gateway closes sockets after 2 h). */
  readonly subscriptionSeconds: number;
}

/** A day: subscriber indexes of groups nobody subscribes to or changes in expire (connections live at most 2 h). */
export const GROUP_SUBSCRIPTION_SECONDS = 24 * 3600;

/** A cached group from `HMGET unknown name ids info`; undefined when not cached. */
function parseGroup(groupId: string, fields: readonly (string | null)[]): Group | 'unknown' | undefined {
  const [unknown, name, ids, info] = fields;
  if (unknown === '1') return 'unknown';
  if (typeof name !== 'string' || typeof ids !== 'string') return undefined;
  return {
    groupId,
    name,
    memberIds: JSON.parse(ids) as string[],
    // A Map: ids such as `__proto__` are ordinary keys.
    info: new Map(Object.entries(JSON.parse(info ?? '{}') as Record<string, UserInfo>)),
  };
}

/** {@link GroupStore} on Redis (standalone or cluster): every command and script touches one group's slot. */
export class RedisGroupStore implements GroupStore {
  constructor(
    private readonly redis: RedisExecutor,
    private readonly keys: RedisKeys,
    private readonly settings: RedisGroupStoreSettings,
  ) {}

  async readGroups(groupIds: readonly string[]): Promise<Map<string, Group | 'unknown'>> {
    const replies = (await this.redis.run(groupIds.map((id) => this.readCommand(id)))) as (string | null)[][];
    const result = new Map<string, Group | 'unknown'>();
    groupIds.forEach((groupId, i) => {
      const group = parseGroup(groupId, replies[i] ?? []);
      if (group) result.set(groupId, group);
    });
    return result;
  }

  async readGroupAndFriends(
    groupId: string,
    callerId: string,
  ): Promise<{ group: Group | 'unknown' | undefined; friendIds: string[] | null }> {
    const [group, ids] = (await this.redis.run([
      this.readCommand(groupId),
      ['hget', this.keys.context(callerId), 'ids'],
    ])) as [(string | null)[], string | null];
    return { group: parseGroup(groupId, group), friendIds: ids == null ? null : (JSON.parse(ids) as string[]) };
  }

  private readCommand(groupId: string): RedisCommand {
    return ['hmget', this.keys.group(groupId), 'unknown', 'name', 'ids', 'info'];
  }

  async saveGroups(groups: readonly Group[], unknown: readonly string[]): Promise<void> {
    await this.redis.run(this.saveCommands(groups, unknown));
  }

  /** Commands that cache groups (and unknown marks), to send with other commands in one round trip. */
  saveCommands(groups: readonly Group[], unknown: readonly string[]): RedisCommand[] {
    const ttl = this.settings.cacheSeconds;
    return [
      ...groups.map((g): RedisCommand => [
        'presenceGroupSave',
        1,
        this.keys.group(g.groupId),
        ttl,
        1,
        g.name,
        JSON.stringify(g.memberIds),
        JSON.stringify(Object.fromEntries(g.info)),
        ...g.memberIds,
      ]),
      ...unknown.map((id): RedisCommand => ['presenceGroupSave', 1, this.keys.group(id), ttl, 0, '', '[]', '{}']),
    ];
  }

  async index(subscriber: GroupSubscriber, add: readonly string[], remove: readonly string[]): Promise<void> {
    const entry = JSON.stringify([subscriber.ownerId, subscriber.batch ? 1 : 0, subscriber.connectedAt]);
    await this.redis.run([
      ...add.flatMap((g): RedisCommand[] => [
        ['hset', this.keys.groupSubscribers(g), subscriber.connectionId, entry],
        ['expire', this.keys.groupSubscribers(g), this.settings.subscriptionSeconds],
      ]),
      ...remove.map((g): RedisCommand => ['hdel', this.keys.groupSubscribers(g), subscriber.connectionId]),
    ]);
  }

  async forget(entries: readonly { readonly groupId: string; readonly connectionId: string }[]): Promise<void> {
    await this.redis.run(
      entries.map((e): RedisCommand => ['hdel', this.keys.groupSubscribers(e.groupId), e.connectionId]),
    );
  }

  async subscribersOf(
    probes: readonly { readonly groupId: string; readonly userId: string }[],
  ): Promise<(readonly GroupSubscriber[] | 'need-group')[]> {
    const replies = (await this.redis.run(
      probes.map((p): RedisCommand => [
        'presenceGroupTargets',
        2,
        this.keys.group(p.groupId),
        this.keys.groupSubscribers(p.groupId),
        p.userId,
        this.settings.subscriptionSeconds,
      ]),
    )) as (string | number)[][];
    return replies.map((reply) => {
      if (reply[0] === 'need-group') return 'need-group';
      const out: GroupSubscriber[] = [];
      for (let i = 1; i + 3 < reply.length; i += 4) {
        out.push({
          connectionId: String(reply[i]),
          ownerId: String(reply[i + 1]),
          batch: Number(reply[i + 2]) === 1,
          connectedAt: Number(reply[i + 3]),
        });
      }
      return out;
    });
  }
}
