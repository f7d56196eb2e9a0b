// PresenceStore on Redis: one Lua script (one slot, one round trip) per state change, which also records the change
// in the shard's outbox; reads batched per round trip.
import type {
  Activity,
  ChangeRecord,
  Page,
  PendingChange,
  PresenceSnapshot,
  PresenceStatus,
  StatusEvent,
  UserContext,
  UserInfo,
  View,
} from '../../presence/model';
import type {
  Applied,
  ConnectInput,
  ConnectResult,
  ConnectionRef,
  FreshMarkResult,
  FriendList,
  PresenceStore,
  RemoveResult,
  SubscribeResult,
  SweepClaim,
  SweepCommit,
  TargetConnection,
  TouchResult,
  UpdateInput,
  UpdateResult,
} from '../../presence/ports';
import type { RedisCommand, RedisExecutor } from './client';
import { RedisKeys, SHARD_COUNT, shardOf, userOfMember } from './keys';
import type { ScriptName } from './scripts';
import { USER_KEY_COUNT } from './scripts';

/** Tuning the store needs. */
export interface RedisStoreSettings {
  readonly timeoutMs: number;
  readonly graceMs: number;
  readonly retentionSeconds: number;
  readonly friendCacheSeconds: number;
  readonly rateLimit: { readonly perSecond: number; readonly burst: number };
  /** Auto-away after this long without update-presence (0: off). */
  readonly idleMs: number;
  /** How long a connection may outlive its token. */
  readonly authGraceMs: number;
  /** How long the caller of a state change holds the delivery of that change before the workers take it over. */
  readonly leaseMs: number;
}

type Reply = (string | number | Reply)[];

function num(value: unknown): number | null {
  if (value === null || value === undefined || value === '') return null;
  const n = Number(value);
  return Number.isFinite(n) && n !== 0 ? n : null;
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : value === null || value === undefined ? '' : String(value);
}

function parseActivity(text: unknown): Activity | null {
  if (typeof text !== 'string' || text === '') return null;
  return JSON.parse(text) as Activity;
}

/** A view from its stored JSON array `[status, url, title, domain, message, activity]`. */
export function parseView(json: unknown): View | null {
  if (typeof json !== 'string' || json === '') return null;
  const [status, url, title, domain, message, activity] = JSON.parse(json) as string[];
  return {
    status: status as PresenceStatus,
    page: { url: url ?? '', title: title ?? '', domain: domain ?? '' },
    message: message ?? '',
    activity: parseActivity(activity),
  };
}

function latestPage(url: unknown, title: unknown, domain: unknown): Page | null {
  const u = str(url);
  return u === '' ? null : { url: u, title: str(title), domain: str(domain) };
}

/**
 * A connection record's last activity: the first of the numbers in front of the record (`a,hb,...|{json}`, see
 * scripts.ts), or the `a` field of a record written in the old layout (JSON only).
 */
export function lastActivityOf(raw: string): number {
  const a = raw.startsWith('{') ? (JSON.parse(raw) as { a?: number }).a : Number(raw.slice(0, raw.indexOf(',')));
  return Number.isFinite(a) ? (a as number) : 0;
}

const OFFLINE_JSON = '["offline","","","","",""]';

/** A change record from its outbox body. */
export function parseChangeRecord(userId: string, body: string): ChangeRecord {
  const b = JSON.parse(body) as {
    ver: number;
    fv: string;
    ov: string;
    ls: number;
    lsp: number;
    lu: string;
    lt: string;
    ld: string;
    f: number;
    o: number;
    s: number;
    x?: string;
    e: { s: string; p: string; v: number; at: number }[] | Record<string, never>;
  };
  const events: StatusEvent[] = (Array.isArray(b.e) ? b.e : []).map((e) => ({
    status: e.s as PresenceStatus,
    previousStatus: e.p as PresenceStatus,
    v: e.v,
    at: e.at,
  }));
  return {
    userId,
    v: b.ver,
    friendView: parseView(b.fv || OFFLINE_JSON) as View,
    ownView: parseView(b.ov || OFFLINE_JSON) as View,
    friendsChanged: b.f === 1,
    ownChanged: b.o === 1,
    statusChanged: b.s === 1,
    actor: b.x ?? '',
    lastSeen: num(b.ls),
    publicLastSeen: num(b.lsp),
    latestPage: latestPage(b.lu, b.lt, b.ld),
    events,
  };
}

/** A friend's snapshot from their read-model string `[friend view, public last seen, latest url, title, domain, v]`. */
function friendSnapshotOf(view: string | null): PresenceSnapshot {
  if (view === null)
    return { friendView: null, ownView: null, lastSeen: null, publicLastSeen: null, latestPage: null, v: null };
  const [fv, lsp, lu, lt, ld, v] = JSON.parse(view) as string[];
  return {
    friendView: parseView(fv),
    ownView: null,
    lastSeen: null,
    publicLastSeen: num(lsp),
    latestPage: latestPage(lu, lt, ld),
    v: num(v),
  };
}

/** Parses the reply of a state change: {kind, v, friend ids, has context, resync, change body, group ids}. */
function parseApplied(userId: string, reply: Reply): Applied {
  const body = str(reply[5]);
  const friends = str(reply[2]);
  const groups = str(reply[6]);
  const hasContext = Number(reply[3]) === 1;
  const change: PendingChange | null =
    body === ''
      ? null
      : {
          record: parseChangeRecord(userId, body),
          friendIds: hasContext ? (friends === '' ? [] : (JSON.parse(friends) as string[])) : null,
          groupIds: hasContext ? (groups === '' ? [] : (JSON.parse(groups) as string[])) : null,
        };
  return { kind: 'applied', change, resync: Number(reply[4]) === 1 };
}

/**
 * The outcome a state-changing script answered: a word (`ok`, `resync`, `expired`, `need-context`, `stale`), a rate
 * limit (`limited`, notify), or an applied change.
 */
function parseOutcome(userId: string, reply: Reply) {
  switch (reply[0]) {
    case 'limited':
      return { kind: 'rate-limited', notify: Number(reply[1]) === 1 } as const;
    case 'ok':
    case 'resync':
    case 'expired':
    case 'need-context':
    case 'stale':
      return { kind: reply[0] } as const;
    default:
      return parseApplied(userId, reply);
  }
}

/** Arguments that cache a context: ttl, mode, ids, info, n, domains..., groups. */
export function contextArgs(context: UserContext, ttl: number): (string | number)[] {
  return [
    ttl,
    context.settings.shareMode,
    JSON.stringify(context.friendIds),
    JSON.stringify(Object.fromEntries(context.info)),
    context.settings.domains.length,
    ...context.settings.domains,
    JSON.stringify(context.groupIds),
  ];
}

/** User info from its cached JSON (an object whose keys are user ids). */
export function parseInfo(json: string | null | undefined): Map<string, UserInfo> {
  return new Map(Object.entries(JSON.parse(json ?? '{}') as Record<string, UserInfo>));
}

/** {@link PresenceStore} on Redis (standalone or cluster). */
export class RedisPresenceStore implements PresenceStore {
  readonly shardCount = SHARD_COUNT;

  constructor(
    private readonly redis: RedisExecutor,
    private readonly keys: RedisKeys,
    private readonly settings: RedisStoreSettings,
  ) {}

  /** The ten settings every script takes first (see scripts.ts). */
  settingsArgs(now: number, lease: number): (string | number)[] {
    const s = this.settings;
    return [
      now,
      s.timeoutMs,
      s.graceMs,
      s.retentionSeconds,
      s.rateLimit.perSecond,
      s.rateLimit.burst,
      s.idleMs,
      s.authGraceMs,
      lease,
      s.friendCacheSeconds,
    ];
  }

  async connect(input: ConnectInput): Promise<ConnectResult> {
    const reply = await this.userScript('presenceConnect', input, input.now + this.settings.leaseMs, [
      input.status ?? '',
      input.detail === 'status' ? 's' : 'f',
      input.batch ? 1 : 0,
      input.authorizedUntil,
      input.context ? '1' : '0',
      ...(input.context ? contextArgs(input.context, this.settings.friendCacheSeconds) : []),
    ]);
    return parseOutcome(input.userId, reply) as ConnectResult;
  }

  async touch(input: ConnectionRef & { countOnly?: boolean; authorizedUntil?: number }): Promise<TouchResult> {
    const s = this.settings;
    const reply = await this.redis.one<string>([
      'presenceTouch',
      3,
      this.keys.conns(input.userId),
      this.keys.state(input.userId),
      this.keys.expiry(shardOf(input.userId)),
      input.now,
      s.timeoutMs,
      s.rateLimit.perSecond,
      s.rateLimit.burst - 1,
      s.idleMs,
      s.authGraceMs,
      input.userId,
      input.connectionId,
      input.countOnly ? '1' : '0',
      input.authorizedUntil ?? '',
    ]);
    switch (reply) {
      case 'ok':
      case 'resync':
      case 'expired':
        return { kind: reply };
      case 'limited':
        return { kind: 'rate-limited', notify: false };
      case 'limited-notify':
        return { kind: 'rate-limited', notify: true };
    }
    // `unknown`: a live socket Redis does not know (a reap race, lost data): rare, so a second script brings it back.
    const revived = await this.userScript('presenceRevive', input, input.now + s.leaseMs, [
      input.authorizedUntil ?? '',
    ]);
    return parseOutcome(input.userId, revived) as TouchResult;
  }

  async update(input: UpdateInput): Promise<UpdateResult> {
    const page = input.page;
    const reply = await this.userScript('presenceUpdate', input, input.now + this.settings.leaseMs, [
      input.status === undefined ? '0' : '1',
      input.status ?? '',
      input.message === undefined ? '0' : '1',
      input.message ?? '',
      page === undefined ? '0' : '1',
      page?.url ?? '',
      page?.title ?? '',
      page?.domain ?? '',
      page?.host ?? '',
      input.activity === undefined ? '0' : '1',
      input.activity ?? '',
      input.seq ?? '',
      input.authorizedUntil ?? '',
      input.context ? '1' : '0',
      ...(input.context ? contextArgs(input.context, this.settings.friendCacheSeconds) : []),
    ]);
    return parseOutcome(input.userId, reply) as UpdateResult;
  }

  async subscribe(
    input: ConnectionRef & { detail?: 'full' | 'status'; groups?: readonly string[]; authorizedUntil?: number },
  ): Promise<SubscribeResult> {
    const reply = await this.userScript('presenceSubscribe', input, input.now, [
      input.detail === undefined ? '' : input.detail === 'status' ? 's' : 'f',
      input.groups === undefined ? '' : JSON.stringify(input.groups),
      input.authorizedUntil ?? '',
    ]);
    if (reply[0] !== 'ok') return { kind: 'absent' };
    return {
      kind: 'ok',
      previousGroups: JSON.parse(str(reply[2]) || '[]') as string[],
      batch: Number(reply[3]) === 1,
      connectedAt: Number(reply[4]),
    };
  }

  async remove(input: ConnectionRef & { protectMs?: number; deliverInline?: boolean }): Promise<RemoveResult> {
    const lease = input.deliverInline === false ? input.now : input.now + this.settings.leaseMs;
    const reply = await this.userScript('presenceRemove', input, lease, [
      input.protectMs !== undefined ? '1' : '0',
      input.protectMs ?? 0,
    ]);
    if (reply[0] === 'absent') return { kind: 'absent' };
    if (reply[0] === 'protected') return { kind: 'protected' };
    return { kind: 'removed', change: parseApplied(input.userId, reply).change };
  }

  async undoConnect(input: ConnectionRef): Promise<void> {
    const reply = await this.userScript('presenceUnconnect', input, input.now, []);
    if (reply[0] === 'fallback') await this.remove({ ...input, deliverInline: false });
  }

  async connectionsOf(
    userIds: readonly string[],
    save: readonly UserContext[] = [],
  ): Promise<Map<string, TargetConnection[]>> {
    const groups = this.groupBySlot(userIds);
    const replies = await this.redis.run([
      ...this.saveCommands(save),
      ...groups.map((ids): RedisCommand => [
        'presenceConnectionsMany',
        ids.length,
        ...ids.map((id) => this.keys.conns(id)),
      ]),
    ]);
    const result = new Map<string, TargetConnection[]>();
    groups.forEach((ids, g) => {
      const lists = JSON.parse(String(replies[save.length + g])) as (
        [string, string, number, number, string][] | false
      )[];
      ids.forEach((id, i) => {
        const list = lists[i];
        if (!list) return;
        result.set(
          id,
          list.map(([connectionId, detail, batch, connectedAt, groupsJson]) => ({
            connectionId,
            detail: detail === 's' ? 'status' : 'full',
            batch: batch === 1,
            connectedAt,
            groups: groupsJson ? (JSON.parse(groupsJson) as string[]) : [],
          })),
        );
      });
    });
    return result;
  }

  async readSelf(userId: string): Promise<{ snapshot: PresenceSnapshot; context: FriendList | null }> {
    const [state, context, conns] = (await this.redis.run([
      ['hmget', this.keys.state(userId), 'fv', 'ov', 'ls', 'lsp', 'lu', 'lt', 'ld', 'v'],
      ['hmget', this.keys.context(userId), 'ids', 'info'],
      ['hvals', this.keys.conns(userId)],
    ])) as [unknown[], (string | null)[], string[]];
    const [fv, ov, ls, lsp, lu, lt, ld, v] = state;
    // Heartbeats only touch the connections: the user's own last activity is the newest of theirs.
    let lastSeen = num(ls);
    for (const raw of conns) {
      const a = lastActivityOf(raw);
      if (a > (lastSeen ?? 0)) lastSeen = a;
    }
    const [ids, info] = context;
    return {
      snapshot: {
        friendView: parseView(fv),
        ownView: parseView(ov),
        lastSeen,
        publicLastSeen: num(lsp),
        latestPage: latestPage(lu, lt, ld),
        v: num(v),
      },
      context: ids == null ? null : { friendIds: JSON.parse(ids) as string[], info: parseInfo(info) },
    };
  }

  async readMany(
    userIds: readonly string[],
    save: readonly UserContext[] = [],
  ): Promise<Map<string, PresenceSnapshot>> {
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
    return { shard, lease, members, userIds: [...new Set(members.map(userOfMember))] };
  }

  async commit(claim: SweepClaim, now: number): Promise<SweepCommit> {
    if (claim.members.length === 0) return { reaped: [], changedUsers: [], uncachedUsers: [] };
    const s = claim.shard;
    const keys = [
      this.keys.expiry(s),
      this.keys.outbox(s),
      this.keys.outboxBodies(s),
      this.keys.shard(s),
      this.keys.recheck(s),
    ];
    for (const id of claim.userIds) {
      keys.push(this.keys.conns(id), this.keys.state(id), this.keys.context(id), this.keys.view(id));
    }
    const [reapedFlat, changed, uncached] = await this.redis.one<[string[], string[], string[]]>([
      'presenceCommit',
      keys.length,
      ...keys,
      ...this.settingsArgs(now, claim.lease),
      claim.userIds.length,
      ...claim.userIds,
      ...claim.members,
    ]);
    const reaped: SweepCommit['reaped'][number][] = [];
    for (let i = 0; i < reapedFlat.length; i += 3) {
      reaped.push({
        userId: String(reapedFlat[i]),
        connectionId: String(reapedFlat[i + 1]),
        reason: reapedFlat[i + 2] === 'token' ? 'token' : 'expired',
      });
    }
    return { reaped, changedUsers: changed.map(String), uncachedUsers: uncached.map(String) };
  }

  async claimRechecks(shard: number, now: number, leaseMs: number, limit: number): Promise<string[]> {
    return this.redis.one<string[]>(['presenceClaim', 1, this.keys.recheck(shard), now, now + leaseMs, limit]);
  }

  async recheck(userId: string, now: number, context: UserContext): Promise<void> {
    await this.redis.one([
      'presenceRecheck',
      USER_KEY_COUNT,
      ...this.keys.userKeys(userId),
      // due at once: the sweep pass that re-applied the settings delivers the change right after
      ...this.settingsArgs(now, now),
      userId,
      '1',
      ...contextArgs(context, this.settings.friendCacheSeconds),
    ]);
  }

  async markFresh(): Promise<void> {
    await this.redis.run(
      Array.from({ length: SHARD_COUNT }, (_, s): RedisCommand => [
        'presenceShardInfo',
        1,
        this.keys.shard(s),
        'fresh',
      ]),
    );
  }

  async markFreshIfNew(): Promise<FreshMarkResult> {
    const shardStates = async (mode: 'check' | 'mark', shards: readonly number[]) =>
      (await this.redis.run(
        shards.map((s): RedisCommand => ['presenceShardMarkFresh', 1, this.keys.shard(s), mode]),
      )) as string[];
    const all = Array.from({ length: SHARD_COUNT }, (_, s) => s);
    const before = await shardStates('check', all);
    const count = (states: readonly string[], state: string) => states.filter((s) => s === state).length;
    const shards = { marked: 0, fresh: count(before, 'fresh'), recovering: 0, data: count(before, 'data') };
    if (count(before, 'recovering') > 0 || shards.data > 0) {
      return { outcome: 'refused', shards: { ...shards, recovering: count(before, 'recovering') } };
    }
    const unmarked = all.filter((s) => before[s] === 'new');
    if (unmarked.length === 0) return { outcome: 'already-fresh', shards };
    // Checked again per shard, atomically: a shard someone reached meanwhile keeps the state that connect gave it.
    const after = await shardStates('mark', unmarked);
    return {
      outcome: 'marked',
      shards: {
        marked: count(after, 'marked'),
        fresh: shards.fresh + count(after, 'fresh'),
        recovering: count(after, 'recovering'),
        data: count(after, 'data'),
      },
    };
  }

  async usage(): Promise<{ users: number; connections: number }> {
    const replies = (await this.redis.run(
      Array.from({ length: SHARD_COUNT }, (_, s): RedisCommand => ['presenceShardInfo', 1, this.keys.shard(s), '']),
    )) as [number, number][];
    let users = 0;
    let connections = 0;
    for (const [u, n] of replies) {
      users += Number(u);
      connections += Number(n);
    }
    return { users, connections };
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

  /** Runs a per-user script: KEYS (see {@link RedisKeys.userKeys}); ARGV the settings, user, connection, then `extra`. */
  private userScript(
    name: ScriptName,
    input: ConnectionRef,
    lease: number,
    extra: (string | number)[],
  ): Promise<Reply> {
    return this.redis.one<Reply>([
      name,
      USER_KEY_COUNT,
      ...this.keys.userKeys(input.userId),
      ...this.settingsArgs(input.now, lease),
      input.userId,
      input.connectionId,
      ...extra,
    ]);
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
