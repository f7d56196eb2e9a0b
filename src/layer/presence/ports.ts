// Ports: the interfaces the presence domain needs from the outside world; adapters implement them.
import type { ConnectionStatus, Page, PresenceChange, PresenceSnapshot, UserContext } from './model';

/** The cached part of a context that reads need: friend ids and user info. */
export type FriendList = Pick<UserContext, 'friendIds' | 'info'>;

/** Input of a connection-scoped store operation. */
export interface ConnectionRef {
  readonly userId: string;
  readonly connectionId: string;
  readonly now: number;
}

/** Result of `touch` (heartbeat and other messages). */
export type TouchResult =
  | { readonly kind: 'ok' }
  | { readonly kind: 'rate-limited'; readonly notify: boolean }
  | { readonly kind: 'revived'; readonly change: PresenceChange };

/** Result of `update`. */
export type UpdateResult =
  | { readonly kind: 'changed'; readonly change: PresenceChange }
  | { readonly kind: 'rate-limited'; readonly notify: boolean }
  | { readonly kind: 'need-context' };

/** What a presence update asks for; `undefined` fields are left as they are. */
export interface UpdateInput extends ConnectionRef {
  readonly status?: ConnectionStatus;
  /** `null` clears the message. */
  readonly message?: string | null;
  /** The page candidate (already stripped); `null` means "on a page that can never be shared". */
  readonly page?: Page | null;
  /** Context to cache first (after a `need-context` answer). */
  readonly context?: UserContext;
}

/** A due entry of the expiry index taken by one sweep pass. */
export interface SweepClaim {
  readonly shard: number;
  readonly lease: number;
  readonly members: readonly string[];
  /** Users the members belong to. */
  readonly userIds: readonly string[];
  /** Users whose context is not cached. */
  readonly missingContexts: readonly string[];
}

/** What one sweep commit did. */
export interface SweepCommit {
  /** Connections removed because they expired: their sockets must be closed. */
  readonly reaped: readonly { readonly userId: string; readonly connectionId: string }[];
  readonly changes: readonly PresenceChange[];
}

/** Live presence (Redis). Every method is atomic per user. */
export interface PresenceStore {
  /** Adds a connection; the change's `friendIds` is null when the user's context is not cached. */
  connect(input: ConnectionRef & { readonly status?: ConnectionStatus }): Promise<PresenceChange>;
  /** Refreshes liveness and charges the rate limit; with `countOnly`, only charges the rate limit. */
  touch(input: ConnectionRef & { readonly countOnly?: boolean }): Promise<TouchResult>;
  update(input: UpdateInput): Promise<UpdateResult>;
  /**
   * Removes exactly this connection of this user (no-op if absent). With `deferAnnounce` the resulting change is
   * left to the sweep (used by 410 cleanup, which runs inside another user's fan-out).
   */
  remove(input: ConnectionRef & { readonly deferAnnounce?: boolean }): Promise<PresenceChange | null>;
  /** Connection ids of each user (users without connections are absent); may cache contexts in the same round trip. */
  connectionsOf(userIds: readonly string[], save?: readonly UserContext[]): Promise<Map<string, string[]>>;
  /** The user's own snapshot and cached context (one round trip). */
  readSelf(userId: string): Promise<{ snapshot: PresenceSnapshot; context: FriendList | null }>;
  /**
   * What friends see of many users (one round trip; `ownView` and `lastSeen` are not filled); may cache a context in
   * the same round trip.
   */
  readMany(userIds: readonly string[], save?: readonly UserContext[]): Promise<Map<string, PresenceSnapshot>>;
  /** Caches contexts. */
  saveContexts(contexts: readonly UserContext[]): Promise<void>;
  /** Number of expiry-index shards. */
  readonly shardCount: number;
  /** Takes up to `limit` due entries of one shard under a lease. */
  claim(shard: number, now: number, leaseMs: number, limit: number): Promise<SweepClaim>;
  /** Applies a claim: reaps expired connections, ends grace windows, and reports what changed. */
  commit(claim: SweepClaim, now: number, save?: readonly UserContext[]): Promise<SweepCommit>;
}

/** Friends and settings (Postgres, read-only). */
export interface FriendDirectory {
  /** Contexts of many users in one query; users unknown to the directory get an empty context. */
  loadContexts(userIds: readonly string[]): Promise<Map<string, UserContext>>;
}

/** Result of posting to one connection. */
export type PostOutcome = 'sent' | 'gone';

/** The API Gateway `@connections` management API. */
export interface ConnectionGateway {
  /** Sends `payload` (a JSON text) to a connection; `gone` when the connection no longer exists (410). */
  post(endpoint: string, connectionId: string, payload: string): Promise<PostOutcome>;
  /** Closes a connection; resolves also when it is already gone. */
  close(endpoint: string, connectionId: string): Promise<void>;
}

/** Everything a use case may need, plus tuning. */
export interface PresenceDeps {
  readonly store: PresenceStore;
  readonly directory: FriendDirectory;
  readonly gateway: ConnectionGateway;
  readonly clock: () => number;
  readonly fanoutConcurrency: number;
  readonly log: DomainLog;
}

/** The logging the domain does (structured, no tokens, no URLs). */
export interface DomainLog {
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  debug(message: string, fields?: Record<string, unknown>): void;
}
