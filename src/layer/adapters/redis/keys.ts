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

  /** The five keys every per-user script takes, in script order. */
  userKeys(userId: string): [string, string, string, string, string] {
    return [this.conns(userId), this.state(userId), this.expiry(shardOf(userId)), this.context(userId), this.view(userId)];
  }
}
