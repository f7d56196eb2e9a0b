// PresenceStore on Redis: one Lua script (one slot, one round trip) per state change; reads batched per round trip.
import type {
  ConnectionStatus,
  Page,
  PresenceChange,
  PresenceSnapshot,
  UserContext,
  View,
} from '../../presence/model';
import type {
  ConnectionRef,
  FriendList,
  PresenceStore,
  SweepClaim,
  SweepCommit,
  TouchResult,
  UpdateInput,
  UpdateResult,
} from '../../presence/ports';
import type { RedisCommand, RedisExecutor } from './client';
import { RedisKeys, SHARD_COUNT, shardOf, userOfMember } from './keys';
import type { ScriptName } from './scripts';

/** Tuning the store needs. */
export interface RedisStoreSettings {
  readonly timeoutMs: number;
  readonly graceMs: number;
  readonly retentionSeconds: number;
  readonly friendCacheSeconds: number;
  readonly rateLimit: { readonly perSecond: number; readonly burst: number };
}

const SNAPSHOT_FIELDS = ['fv', 'ov', 'ls', 'lsp', 'lu', 'lt', 'ld'] as const;

type Reply = (string | number | Reply)[];

function num(value: unknown): number | null {
  if (value === null || value === undefined || value === '') return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : value === null || value === undefined ? '' : String(value);
}

function parseView(json: unknown): View | null {
  if (typeof json !== 'string' || json === '') return null;
  const [status, url, title, domain, message] = JSON.parse(json) as string[];
  return { status: status as View['status'], page: { url: url ?? '', title: title ?? '', domain: domain ?? '' }, message: message ?? '' };
}

function latestPage(url: unknown, title: unknown, domain: unknown): Page | null {
  const u = str(url);
  return u === '' ? null : { url: u, title: str(title), domain: str(domain) };
}

function snapshotOf(fields: readonly unknown[]): PresenceSnapshot {
  const [fv, ov, ls, lsp, lu, lt, ld] = fields;
  return {
    friendView: parseView(fv),
    ownView: parseView(ov),
    lastSeen: num(ls),
    publicLastSeen: num(lsp),
    latestPage: latestPage(lu, lt, ld),
  };
}

/** A friend's snapshot from their read-model string `[friend view, public last seen, latest url, title, domain]`. */
function friendSnapshotOf(view: string | null): PresenceSnapshot {
  if (view === null) return { friendView: null, ownView: null, lastSeen: null, publicLastSeen: null, latestPage: null };
  const [fv, lsp, lu, lt, ld] = JSON.parse(view) as string[];
  return {
    friendView: parseView(fv),
    ownView: null,
    lastSeen: null,
    publicLastSeen: num(lsp),
    latestPage: latestPage(lu, lt, ld),
  };
}

/** Parses the `change` tuple the scripts return: {fch, och, fv, ov, ls, lsp, lu, lt, ld, friendIds, hasContext, others}. */
function parseChange(userId: string, reply: Reply, offset: number): PresenceChange {
  const at = (i: number): unknown => reply[offset + i];
  const friends = str(at(9));
  const hasContext = Number(at(10)) === 1;
  const snapshot: PresenceSnapshot = {
    friendView: parseView(at(2)),
    ownView: parseView(at(3)),
    lastSeen: num(at(4)),
    publicLastSeen: num(at(5)),
    latestPage: latestPage(at(6), at(7), at(8)),
  };
  return {
    userId,
    friendView: Number(at(0)) === 1 ? snapshot.friendView : null,
    ownView: Number(at(1)) === 1 ? snapshot.ownView : null,
    snapshot,
    friendIds: hasContext ? (friends === '' ? [] : (JSON.parse(friends) as string[])) : null,
    ownConnectionIds: ((at(11) as Reply | undefined) ?? []).map(String),
  };
}

/** Arguments that cache a context: ttl, mode, ids, info, n, domains... */
function contextArgs(context: UserContext, ttl: number): (string | number)[] {
  return [
    ttl,
    context.settings.shareMode,
    JSON.stringify(context.friendIds),
    JSON.stringify(context.info),
    context.settings.domains.length,
    ...context.settings.domains,
  ];
}

/** {@link PresenceStore} on Redis (standalone or cluster). */
export class RedisPresenceStore implements PresenceStore {
  readonly shardCount = SHARD_COUNT;

  constructor(
    private readonly redis: RedisExecutor,
    private readonly keys: RedisKeys,
    private readonly settings: RedisStoreSettings,
  ) {}

  async connect(input: ConnectionRef & { status?: ConnectionStatus }): Promise<PresenceChange> {
    const reply = await this.userScript('presenceConnect', input, [
      input.status ?? '',
      this.settings.rateLimit.burst,
      this.settings.retentionSeconds,
    ]);
    return parseChange(input.userId, reply, 0);
  }

  async touch(input: ConnectionRef & { countOnly?: boolean }): Promise<TouchResult> {
    const reply = await this.userScript('presenceTouch', input, [
      this.settings.rateLimit.perSecond,
      this.settings.rateLimit.burst,
      this.settings.retentionSeconds,
      input.countOnly ? '1' : '0',
    ]);
    if (reply[0] === 'ok') return { kind: 'ok' };
    if (reply[0] === 'limited') return { kind: 'rate-limited', notify: Number(reply[1]) === 1 };
    return { kind: 'revived', change: parseChange(input.userId, reply, 1) };
  }

  async update(input: UpdateInput): Promise<UpdateResult> {
    const page = input.page;
    const reply = await this.userScript('presenceUpdate', input, [
      this.settings.rateLimit.perSecond,
      this.settings.rateLimit.burst,
      this.settings.retentionSeconds,
      input.status === undefined ? '0' : '1',
      input.status ?? '',
      input.message === undefined ? '0' : '1',
      input.message ?? '',
      page === undefined ? '0' : '1',
      page?.url ?? '',
      page?.title ?? '',
      page?.domain ?? '',
      input.context ? '1' : '0',
      ...(input.context ? contextArgs(input.context, this.settings.friendCacheSeconds) : []),
    ]);
    if (reply[0] === 'need-context') return { kind: 'need-context' };
    if (reply[0] === 'limited') return { kind: 'rate-limited', notify: Number(reply[1]) === 1 };
    return { kind: 'changed', change: parseChange(input.userId, reply, 1) };
  }

  async remove(input: ConnectionRef & { deferAnnounce?: boolean }): Promise<PresenceChange | null> {
    const reply = await this.userScript('presenceRemove', input, [
      this.settings.graceMs,
      this.settings.retentionSeconds,
      input.deferAnnounce ? '1' : '0',
    ]);
    return reply[0] === 'removed' ? parseChange(input.userId, reply, 1) : null;
  }

  async connectionsOf(userIds: readonly string[], save: readonly UserContext[] = []): Promise<Map<string, string[]>> {
    const groups = this.groupBySlot(userIds);
    const replies = await this.redis.run([
      ...this.saveCommands(save),
      ...groups.map((ids): RedisCommand => ['presenceConnectionsMany', ids.length, ...ids.map((id) => this.keys.conns(id))]),
    ]);
    const result = new Map<string, string[]>();
    groups.forEach((ids, g) => {
      const lists = JSON.parse(String(replies[save.length + g])) as (string[] | false)[];
      ids.forEach((id, i) => {
        const list = lists[i];
        if (list) result.set(id, list);
      });
    });
    return result;
  }

  async readSelf(userId: string): Promise<{ snapshot: PresenceSnapshot; context: FriendList | null }> {
    const [state, context] = (await this.redis.run([
      ['hmget', this.keys.state(userId), ...SNAPSHOT_FIELDS],
      ['hmget', this.keys.context(userId), 'ids', 'info'],
    ])) as [unknown[], (string | null)[]];
    const [ids, info] = context;
    return {
      snapshot: snapshotOf(state),
      context: ids == null ? null : { friendIds: JSON.parse(ids) as string[], info: JSON.parse(info ?? '{}') as UserContext['info'] },
    };
  }

  async readMany(userIds: readonly string[], save: readonly UserContext[] = []): Promise<Map<string, PresenceSnapshot>> {
    const groups = this.groupBySlot(userIds);
    const replies = await this.redis.run([
      ...this.saveCommands(save),
      ...groups.map((ids): RedisCommand => ['mget', ...ids.map((id) => this.keys.view(id))]),
    ]);
    const result = new Map<string, PresenceSnapshot>();
    groups.forEach((ids, g) => {
      const views = replies[save.length + g] as (string | null)[];
      ids.forEach((id, i) => result.set(id, friendSnapshotOf(views[i] ?? null)));
    });
    return result;
  }

  async saveContexts(contexts: readonly UserContext[]): Promise<void> {
    await this.redis.run(this.saveCommands(contexts));
  }

  async claim(shard: number, now: number, leaseMs: number, limit: number): Promise<SweepClaim> {
    const lease = now + leaseMs;
    const members = await this.redis.one<string[]>(['presenceClaim', 1, this.keys.expiry(shard), now, lease, limit]);
    const userIds = [...new Set(members.map(userOfMember))];
    const exists = userIds.length
      ? await this.redis.run(userIds.map((id): RedisCommand => ['exists', this.keys.context(id)]))
      : [];
    return {
      shard,
      lease,
      members,
      userIds,
      missingContexts: userIds.filter((_, i) => Number(exists[i]) === 0),
    };
  }

  async commit(claim: SweepClaim, now: number, save: readonly UserContext[] = []): Promise<SweepCommit> {
    if (claim.members.length === 0) return { reaped: [], changes: [] };
    const keys = [this.keys.expiry(claim.shard)];
    for (const id of claim.userIds) {
      keys.push(this.keys.conns(id), this.keys.state(id), this.keys.context(id), this.keys.view(id));
    }
    const replies = await this.redis.run([
      ...this.saveCommands(save),
      [
        'presenceCommit',
        keys.length,
        ...keys,
        now,
        claim.lease,
        this.settings.graceMs,
        this.settings.retentionSeconds,
        claim.userIds.length,
        ...claim.userIds,
        ...claim.members,
      ],
    ]);
    const [reapedFlat, changes] = replies[replies.length - 1] as [string[], Reply[]];
    const reaped: { userId: string; connectionId: string }[] = [];
    for (let i = 0; i < reapedFlat.length; i += 2) {
      reaped.push({ userId: String(reapedFlat[i]), connectionId: String(reapedFlat[i + 1]) });
    }
    return { reaped, changes: changes.map((c) => parseChange(String(c[0]), c, 1)) };
  }

  /**
   * Users grouped so that one script may read each group: everything together on a standalone server, one group per
   * shard (hash slot) on a cluster. Groups stay below Lua's unpack limit.
   */
  private groupBySlot(userIds: readonly string[]): string[][] {
    const groups = new Map<number | string, string[]>();
    userIds.forEach((id, i) => {
      const key = this.redis.isCluster ? shardOf(id) : Math.floor(i / 2000);
      const group = groups.get(key);
      if (group) group.push(id);
      else groups.set(key, [id]);
    });
    return [...groups.values()];
  }

  /**
   * Runs a per-user script: KEYS conns, state, expiry, context; ARGV user, connection, now, then the connect, touch
   * and update scripts take the new expiry, then `extra`.
   */
  private userScript(name: ScriptName, input: ConnectionRef, extra: (string | number)[]): Promise<Reply> {
    const head: (string | number)[] = [input.userId, input.connectionId, input.now];
    if (name !== 'presenceRemove') head.push(input.now + this.settings.timeoutMs);
    return this.redis.one<Reply>([name, 5, ...this.keys.userKeys(input.userId), ...head, ...extra]);
  }

  private saveCommands(contexts: readonly UserContext[]): RedisCommand[] {
    return contexts.map((context) => [
      'presenceSaveContext',
      1,
      this.keys.context(context.userId),
      ...contextArgs(context, this.settings.friendCacheSeconds),
    ]);
  }
}

