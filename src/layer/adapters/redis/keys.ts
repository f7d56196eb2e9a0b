// Redis key builders: every key of a user and that user's expiry-index entries share one hash slot (the shard tag).

/** Number of shards: hash tags `{0}`..`{255}`. Changing it remaps users, so it is a constant, not a setting. */
export const SHARD_COUNT = 256;

/** The shard of a user: FNV-1a (32 bit) of the UTF-8 id, modulo {@link SHARD_COUNT}. */
export function shardOf(userId: string): number {
  let hash = 0x811c9dc5;
  const bytes = Buffer.from(userId, 'utf8');
  for (const byte of bytes) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % SHARD_COUNT;
}

/**
 * The user an expiry-index member belongs to. Members (written by the Lua scripts) are `c:{connectionId}:{userId}`
 * for a connection (connection ids never contain ':', user ids may) and `g:{userId}` for a grace deadline.
 */
export function userOfMember(member: string): string {
  if (member.startsWith('g:')) return member.slice(2);
  const rest = member.slice(2);
  return rest.slice(rest.indexOf(':') + 1);
}

/** Key builders under one prefix (`REDIS_KEY_PREFIX`). */
export class RedisKeys {
  constructor(readonly prefix: string) {
    if (/[{}]/.test(prefix)) throw new Error('Redis key prefix must not contain { or }');
  }

  /** Hash: connectionId -> connection record. */
  conns(userId: string): string {
    return `${this.prefix}{${shardOf(userId)}}:c:${userId}`;
  }

  /** Hash: the user's rolled-up state and announced views. */
  state(userId: string): string {
    return `${this.prefix}{${shardOf(userId)}}:s:${userId}`;
  }

  /** Hash: the user's cached context (friends, info, privacy settings). */
  context(userId: string): string {
    return `${this.prefix}{${shardOf(userId)}}:x:${userId}`;
  }

  /** String: what friends read (view, public last seen, latest page), one MGET for a whole friend list. */
  view(userId: string): string {
    return `${this.prefix}{${shardOf(userId)}}:v:${userId}`;
  }

  /** Sorted set: the expiry index of one shard. */
  expiry(shard: number): string {
    return `${this.prefix}{${shard}}:e`;
  }

  /** Sorted set: the shard's outbox (`u:{userId}` by due time or lease deadline). */
  outbox(shard: number): string {
    return `${this.prefix}{${shard}}:o`;
  }

  /** Hash: the shard's outbox entries (`u:{userId}` -> pending change). */
  outboxBodies(shard: number): string {
    return `${this.prefix}{${shard}}:ob`;
  }

  /** Sorted set: connections of the shard with messages waiting for retry, by due time or lease deadline. */
  mailbox(shard: number): string {
    return `${this.prefix}{${shard}}:m`;
  }

  /** Hash: the messages waiting for one connection (`v:{from}` / `p:{from}`) and its owner, connect time, batch. */
  mailboxOf(shard: number, connectionId: string): string {
    return `${this.prefix}{${shard}}:mb:${connectionId}`;
  }

  /** Hash: the shard's usage counters and data-completeness mark. */
  shard(shard: number): string {
    return `${this.prefix}{${shard}}:k`;
  }

  /** Sorted set: users whose page settings are due to be re-applied. */
  recheck(shard: number): string {
    return `${this.prefix}{${shard}}:r`;
  }

  /** The keys every per-user script takes, in script order (see scripts.ts). */
  userKeys(userId: string): string[] {
    const s = shardOf(userId);
    return [
      this.conns(userId),
      this.state(userId),
      this.expiry(s),
      this.context(userId),
      this.view(userId),
      this.outbox(s),
      this.outboxBodies(s),
      this.shard(s),
      this.recheck(s),
    ];
  }

  /**
   * Hash: a cached group (TTL FRIEND_CACHE_SECONDS): `name`, `ids` (member ids in order), `info` (user info JSON),
   * `m:{userId}` per member (membership checks in scripts); `unknown` for a group the directory does not know. Group
   * keys have their own hash tag `{g<shard of the group id>}`, so one script touches one group's keys only.
   */
  group(groupId: string): string {
    return `${this.prefix}{g${shardOf(groupId)}}:gi:${groupId}`;
  }

  /** Hash: the group's subscriber index, connectionId -> `[owner, batch, connectedAt]`. */
  groupSubscribers(groupId: string): string {
    return `${this.prefix}{g${shardOf(groupId)}}:gs:${groupId}`;
  }

  /** Keys of the deployment-wide rate cap's buckets (spread over slots). */
  rateBucket(index: number): string {
    return `${this.prefix}{rc${index}}:cap`;
  }

  /**
   * Sorted set: the usage record at one resolution (`m` per minute, `h` per hour), member `t:online:connections`
   * scored by `t`. Written once per sweep pass and read by admins only: one slot, never a hot key.
   */
  usage(resolution: 'minute' | 'hour'): string {
    return `${this.prefix}{usage}:${resolution === 'minute' ? 'm' : 'h'}`;
  }
}
