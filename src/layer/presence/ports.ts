// Ports: the interfaces the presence domain needs from the outside world; adapters implement them.
import type { Delivery } from '../delivery/ports';
import type {
  ConnectionStatus,
  Detail,
  Group,
  PendingChange,
  Page,
  PresenceSnapshot,
  UserContext,
  UserInfo,
} from './model';

/** The cached part of a context that reads need: friend ids and user info. */
export interface FriendList {
  readonly friendIds: readonly string[];
  readonly info: ReadonlyMap<string, UserInfo>;
}

/** Input of a connection-scoped store operation. */
export interface ConnectionRef {
  readonly userId: string;
  readonly connectionId: string;
  readonly now: number;
}

/** A state change the store applied: what to deliver (null when nobody must be told) and whether to ask for a resync. */
export interface Applied {
  readonly kind: 'applied';
  readonly change: PendingChange | null;
  /** The user's standing choice is unknown (their state was lost): the client must resend its status and page. */
  readonly resync: boolean;
}

/** Result of `connect`. */
export type ConnectResult = Applied | { readonly kind: 'need-context' };

/** Result of `touch` (heartbeat and other messages). */
export type TouchResult =
  | { readonly kind: 'ok' }
  | { readonly kind: 'resync' }
  | { readonly kind: 'expired' }
  | { readonly kind: 'rate-limited'; readonly notify: boolean }
  | Applied;

/** Result of `update`. */
export type UpdateResult =
  | Applied
  | { readonly kind: 'need-context' }
  | { readonly kind: 'stale' }
  | { readonly kind: 'expired' }
  | { readonly kind: 'rate-limited'; readonly notify: boolean };

/** Result of `remove`. */
export type RemoveResult =
  | { readonly kind: 'removed'; readonly change: PendingChange | null }
  | { readonly kind: 'absent' }
  | { readonly kind: 'protected' };

/** A page candidate for sharing: the stripped page and its ASCII host (privacy is decided against the host). */
export interface PageCandidate extends Page {
  readonly host: string;
}

/** What a new connection starts with. */
export interface ConnectInput extends ConnectionRef {
  /** `?status=` on connect: overrides the standing choice. */
  readonly status?: ConnectionStatus;
  readonly detail: Detail;
  readonly batch: boolean;
  /** Epoch ms the connection's token expires (0: unknown / never). */
  readonly authorizedUntil: number;
  /** Context to cache first (after a `need-context` answer). */
  readonly context?: UserContext;
}

/** What a presence update asks for; `undefined` fields are left as they are. */
export interface UpdateInput extends ConnectionRef {
  readonly status?: ConnectionStatus;
  /** `null` clears the message. */
  readonly message?: string | null;
  /** The page candidate; `null` means "on a page that can never be shared". */
  readonly page?: PageCandidate | null;
  /** The activity as JSON text; `null` clears it. */
  readonly activity?: string | null;
  readonly seq?: number;
  /** A renewed token's expiry (epoch ms). */
  readonly authorizedUntil?: number;
  /** Context to cache first (after a `need-context` answer). */
  readonly context?: UserContext;
}

/** A connection as a fan-out target. */
export interface TargetConnection {
  readonly connectionId: string;
  readonly detail: Detail;
  readonly batch: boolean;
  readonly connectedAt: number;
  readonly groups: readonly string[];
}

/** A due entry of the expiry index taken by one sweep pass. */
export interface SweepClaim {
  readonly shard: number;
  readonly lease: number;
  readonly members: readonly string[];
  /** Users the members belong to. */
  readonly userIds: readonly string[];
}

/** Why the sweep removed a connection. */
export type ReapReason = 'expired' | 'token';

/** What one sweep commit did. */
export interface SweepCommit {
  /** Connections removed: their sockets must be closed (after a `token_expired` message for `token`). */
  readonly reaped: readonly { readonly userId: string; readonly connectionId: string; readonly reason: ReapReason }[];
  /** Users whose change now waits in the shard's outbox. */
  readonly changedUsers: readonly string[];
  /** Those of them without a cached context: delivering their change needs their friend list from the directory. */
  readonly uncachedUsers: readonly string[];
}

/**
 * Friend lists loaded ahead of a delivery (the sweep starts loading them while it reaps): per user, the result of the
 * directory load that includes them, or null when that load failed (the user's changes then wait, as when the
 * delivery's own load fails).
 */
export type ListsAhead = ReadonlyMap<string, Promise<ReadonlyMap<string, UserContext> | null>>;

/** Live presence (Redis). Every method is atomic per user; every change is recorded for delivery in the same step. */
export interface PresenceStore {
  /** Number of shards (expiry index, outbox, mailbox). */
  readonly shardCount: number;
  /** Adds a connection; `need-context` (nothing changed) when the user's context must be loaded first. */
  connect(input: ConnectInput): Promise<ConnectResult>;
  /** Refreshes liveness and charges the rate limit; with `countOnly`, only charges the rate limit. */
  touch(
    input: ConnectionRef & { readonly countOnly?: boolean; readonly authorizedUntil?: number },
  ): Promise<TouchResult>;
  update(input: UpdateInput): Promise<UpdateResult>;
  /** Sets what a connection receives; `absent` when the store does not know the connection. */
  subscribe(
    input: ConnectionRef & {
      readonly detail?: Detail;
      readonly groups?: readonly string[];
      readonly authorizedUntil?: number;
    },
  ): Promise<SubscribeResult>;
  /**
   * Removes exactly this connection of this user. With `protectMs`, a connection that completed `$connect` less than
   * that long ago is kept (`protected`). With `deliverInline` false the change is left to the workers.
   */
  remove(
    input: ConnectionRef & { readonly protectMs?: number; readonly deliverInline?: boolean },
  ): Promise<RemoveResult>;
  /**
   * Takes back a connection whose `$connect` was refused after the store wrote it: leaves no trace when nobody can
   * have been told yet, else removes it as {@link remove} does with the change left to the workers.
   */
  undoConnect(input: ConnectionRef): Promise<void>;
  /** Connections of each user (users without connections are absent); may cache contexts in the same round trip. */
  connectionsOf(userIds: readonly string[], save?: readonly UserContext[]): Promise<Map<string, TargetConnection[]>>;
  /** The user's own snapshot and cached context (one round trip). */
  readSelf(userId: string): Promise<{ snapshot: PresenceSnapshot; context: FriendList | null }>;
  /** What friends see of many users (one round trip); may cache contexts in the same round trip. */
  readMany(userIds: readonly string[], save?: readonly UserContext[]): Promise<Map<string, PresenceSnapshot>>;
  /** Caches contexts. */
  saveContexts(contexts: readonly UserContext[]): Promise<void>;
  /** Takes up to `limit` due entries of one shard's expiry index under a lease. */
  claim(shard: number, now: number, leaseMs: number, limit: number): Promise<SweepClaim>;
  /** Applies a claim: reaps, ends grace windows, auto-away; the changes wait in the shard's outbox, due at once. */
  commit(claim: SweepClaim, now: number): Promise<SweepCommit>;
  /** Users of one shard whose page settings are due to be re-applied (leased). */
  claimRechecks(shard: number, now: number, leaseMs: number, limit: number): Promise<string[]>;
  /** Caches fresh settings and re-applies them to the pages friends see. */
  recheck(userId: string, now: number, context: UserContext): Promise<void>;
  /** Marks every shard's data complete (a new, empty store): users without state then start with no choice. */
  markFresh(): Promise<void>;
  /**
   * The deploy-time mark: marks the store fresh only if it is new (no shard holds data or has noticed a loss);
   * otherwise changes nothing. Idempotent: a second call answers `already-fresh`.
   */
  markFreshIfNew(): Promise<FreshMarkResult>;
  /** Users with a connection and open connections, summed over the shards (exact counters). */
  usage(): Promise<{ users: number; connections: number }>;
}

/** One point of the usage record: at `t` (epoch ms, start of its minute or hour), the highest counts seen then. */
export interface UsagePoint {
  readonly t: number;
  readonly online: number;
  readonly connections: number;
}

/** Resolution of the usage record: one point per minute (kept a day) or per hour (kept the retention). */
export type UsageResolution = 'minute' | 'hour';

/** The per-minute record of users online and connections open (Redis), kept `USAGE_RETENTION_DAYS`. */
export interface UsageLog {
  /** Records counts seen at `at` into its minute and hour (each keeps the highest counts recorded in it). */
  record(at: number, users: number, connections: number): Promise<void>;
  /** Points of one resolution from `from` (epoch ms) on, oldest first. */
  series(resolution: UsageResolution, from: number): Promise<UsagePoint[]>;
}

/** Result of {@link PresenceStore.subscribe}: the connection as group subscriber indexes need it. */
export type SubscribeResult =
  | { readonly kind: 'absent' }
  | {
      readonly kind: 'ok';
      /** The groups the connection was subscribed to before. */
      readonly previousGroups: readonly string[];
      readonly batch: boolean;
      readonly connectedAt: number;
    };

/** A connection subscribed to a group, as the group's subscriber index holds it. */
export interface GroupSubscriber {
  readonly ownerId: string;
  readonly connectionId: string;
  readonly batch: boolean;
  readonly connectedAt: number;
}

/** Groups and their members (Postgres, read-only). */
export interface GroupDirectory {
  /** Groups by id in one query, each with its first `maxMembers` members; unknown groups are absent. */
  loadGroups(groupIds: readonly string[]): Promise<Map<string, Group>>;
}

/**
 * Cached groups and the per-group subscriber indexes (Redis). Every command touches the keys of one group (its own
 * hash tag); a batch is one round trip (one pipeline per node on a cluster).
 */
export interface GroupStore {
  /** Cached groups: a group, `unknown` (cached as absent from the directory), or absent from the map (not cached). */
  readGroups(groupIds: readonly string[]): Promise<Map<string, Group | 'unknown'>>;
  /** One cached group and the caller's cached friend ids (null: not cached), in one round trip. */
  readGroupAndFriends(
    groupId: string,
    callerId: string,
  ): Promise<{ readonly group: Group | 'unknown' | undefined; readonly friendIds: readonly string[] | null }>;
  /** Caches groups, and `unknown` marks for the ids the directory does not know. */
  saveGroups(groups: readonly Group[], unknown: readonly string[]): Promise<void>;
  /** Adds a connection to the subscriber index of `add` and removes it from that of `remove`. */
  index(subscriber: GroupSubscriber, add: readonly string[], remove: readonly string[]): Promise<void>;
  /** Removes connections from subscriber indexes (they are gone). */
  forget(entries: readonly { readonly groupId: string; readonly connectionId: string }[]): Promise<void>;
  /**
   * For each probe (a group and a member who changed): the subscribers of the group whose owner is a member, or
   * `need-group` when the group is not cached but has subscribers; nothing (an empty list) when the user is not a
   * served member. Subscribers who are no longer members are dropped from the index on the way.
   */
  subscribersOf(
    probes: readonly { readonly groupId: string; readonly userId: string }[],
  ): Promise<(readonly GroupSubscriber[] | 'need-group')[]>;
}

/** What group use cases and the group fan-out need. */
export interface GroupDeps {
  readonly store: GroupStore;
  readonly directory: GroupDirectory;
}

/** Friends and settings (Postgres, read-only). */
export interface FriendDirectory {
  /** Contexts of many users in one query; users unknown to the directory get an empty context. */
  loadContexts(userIds: readonly string[]): Promise<Map<string, UserContext>>;
}

/** Result of posting to one connection. */
export type PostOutcome = 'sent' | 'gone' | 'throttled' | 'failed';

/** The API Gateway `@connections` management API. */
export interface ConnectionGateway {
  /** Sends `payload` (a JSON text) to a connection; never throws: `gone` (410), `throttled` (429), `failed` (anything else). */
  post(endpoint: string, connectionId: string, payload: string): Promise<PostOutcome>;
  /** Closes a connection; resolves also when it is already gone. */
  close(endpoint: string, connectionId: string): Promise<void>;
}

/** Hands deliveries to the delivery module (which posts, retries, batches and rate-limits them). */
export interface Deliverer {
  /** Delivers changes just made by this caller (it holds their outbox lease); failures are retried by the workers. */
  deliverChanges(endpoint: string, changes: readonly PendingChange[]): Promise<unknown>;
  /**
   * Sends one message to one connection reliably: retried by the workers if it fails now. With `delayMs` it is only
   * stored and delivered by the workers after that delay (a connection whose `$connect` has not returned yet).
   */
  sendTo(endpoint: string, target: Delivery, delayMs?: number): Promise<void>;
  /**
   * Closes connections (after an optional last message each, e.g. `token_expired`), under the deployment-wide rate
   * cap; answers how many could not be closed (their sockets end at API Gateway's idle timeout).
   */
  close(
    endpoint: string,
    targets: readonly {
      readonly ownerId: string;
      readonly connectionId: string;
      readonly notice?: Record<string, unknown>;
    }[],
  ): Promise<number>;
  /**
   * Delivers what is due in `shards` (outboxes, planned together so one connection gets one batch for changes of
   * several shards, then mailboxes) until `deadline`.
   */
  drain(
    endpoint: string,
    shards: readonly number[],
    deadline: number,
    lists?: ListsAhead,
  ): Promise<{ calls: number; sent: number; gone: number; retried: number }>;
}

/** Everything a use case may need, plus tuning. */
export interface PresenceDeps {
  readonly store: PresenceStore;
  readonly directory: FriendDirectory;
  readonly gateway: ConnectionGateway;
  readonly deliverer: Deliverer;
  readonly groups: GroupDeps;
  readonly clock: () => number;
  readonly log: DomainLog;
}

/** The logging the domain does (structured, no tokens, no URLs). */
export interface DomainLog {
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  debug(message: string, fields?: Record<string, unknown>): void;
}

/** What {@link PresenceStore.markFreshIfNew} found and did; `shards` counts the store's shards by state. */
export interface FreshMarkResult {
  /**
   * `marked`: the store was new and is marked now; `already-fresh`: every shard was marked before; `refused`: some
   * shard holds data without a mark or is recovering from a detected loss, so nothing was changed.
   */
  readonly outcome: 'marked' | 'already-fresh' | 'refused';
  readonly shards: {
    /** Marked by this call. */
    readonly marked: number;
    /** Marked before. */
    readonly fresh: number;
    /** A loss of their data was detected: users without state are asked to resync. */
    readonly recovering: number;
    /** Unmarked, yet holding users or connections. */
    readonly data: number;
  };
}
