// The presence domain's data types: statuses, pages, activity, views, pending changes and the REST shape built from them.

/** A status a client can send: `online`/`away` describe the connection, `busy`/`invisible` are standing user choices. */
export type ConnectionStatus = 'online' | 'away' | 'busy' | 'invisible';

/** What a user's presence says: `invisible` only ever appears in the user's own view. */
export type PresenceStatus = 'online' | 'away' | 'busy' | 'offline' | 'invisible';

/** Statuses a client may send, in the contract's order. */
export const CONNECTION_STATUSES: readonly ConnectionStatus[] = ['online', 'away', 'busy', 'invisible'];

/** How much of friends' presence a connection receives. */
export type Detail = 'full' | 'status';

/** A page as it may be shared: stripped URL, title and registrable domain. Empty strings when not shared. */
export interface Page {
  readonly url: string;
  readonly title: string;
  readonly domain: string;
}

/** Application-defined activity: a flat object of strings, finite numbers and booleans. */
export type Activity = Readonly<Record<string, string | number | boolean>>;

/** The presence of one user, as the REST API returns it. */
export interface Presence {
  readonly userId: string;
  readonly status: PresenceStatus;
  readonly page: Page | null;
  readonly latestPage: Page | null;
  readonly message: string | null;
  readonly activity: Activity | null;
  readonly lastSeen: number | null;
  /** Version of what friends see (strictly increasing per user); null for a user never seen. */
  readonly v: number | null;
}

/** A view: what one audience (friends, or the user's own connections) sees of the user. */
export interface View {
  readonly status: PresenceStatus;
  readonly page: Page;
  readonly message: string;
  readonly activity: Activity | null;
}

/** What the store knows about a user besides the views. */
export interface PresenceSnapshot {
  /** What friends see (null when the user was never seen or the record expired). */
  readonly friendView: View | null;
  /** What the user's own connections see. */
  readonly ownView: View | null;
  /** Last activity (the user's own view). */
  readonly lastSeen: number | null;
  /** Last activity while visible (what friends see; exact once offline). */
  readonly publicLastSeen: number | null;
  /** Last page shared while visible. */
  readonly latestPage: Page | null;
  /** Version of the views. */
  readonly v: number | null;
}

/** A row of `user_table` as clients get it in `userInfoMap`. */
export interface UserInfo {
  readonly user_id: string;
  readonly first_name: string | null;
  readonly last_name: string | null;
  readonly profile_image_extension: string | null;
}

/** Page-sharing settings of a user. `domains` is the allow list (default_none) or the deny list (default_all), as hosts. */
export interface PrivacySettings {
  readonly shareMode: 'default_none' | 'default_all';
  readonly domains: readonly string[];
}

/** Everything the service reads from Postgres about one user, cached in Redis for FRIEND_CACHE_SECONDS. */
export interface UserContext {
  readonly userId: string;
  readonly settings: PrivacySettings;
  /** Accepted friends' ids. */
  readonly friendIds: readonly string[];
  /** user_table rows of the user and their friends, by id (a Map: ids such as `__proto__` are ordinary keys). */
  readonly info: ReadonlyMap<string, UserInfo>;
  /** Groups the user is a member of. */
  readonly groupIds: readonly string[];
}

/** A visible status change, published as a presence event. */
export interface StatusEvent {
  readonly status: PresenceStatus;
  readonly previousStatus: PresenceStatus;
  readonly v: number;
  readonly at: number;
}

/**
 * One user's pending delivery as the outbox holds it: the latest views (intermediate ones are never delivered), what
 * changed since the last acknowledged delivery, and the status events not yet published.
 */
export interface ChangeRecord {
  readonly userId: string;
  readonly v: number;
  readonly friendView: View;
  readonly ownView: View;
  /** What friends see changed. */
  readonly friendsChanged: boolean;
  /** What the user's own connections see changed. */
  readonly ownChanged: boolean;
  /** The status, message or online state changed (what `status`-detail connections receive). */
  readonly statusChanged: boolean;
  /** The connection that made the last own change (it is not told its own change). */
  readonly actor: string;
  readonly lastSeen: number | null;
  readonly publicLastSeen: number | null;
  readonly latestPage: Page | null;
  readonly events: readonly StatusEvent[];
}

/** A change ready for fan-out: the record plus whom it concerns, as known when it was made. */
export interface PendingChange {
  readonly record: ChangeRecord;
  /** Cached friend ids, or null when the context was not cached (the deliverer loads them). */
  readonly friendIds: readonly string[] | null;
  /** Cached ids of the user's groups (null or absent: not cached, the deliverer loads them with the friend list). */
  readonly groupIds?: readonly string[] | null;
}

/** A group as it is served: its name and its first GROUP_MAX_MEMBERS members (in joining order) with their info. */
export interface Group {
  readonly groupId: string;
  readonly name: string;
  readonly memberIds: readonly string[];
  /** user_table rows of the members (a member without a row gets one with null names). */
  readonly info: ReadonlyMap<string, UserInfo>;
}

/** The empty page. */
export const NO_PAGE: Page = Object.freeze({ url: '', title: '', domain: '' });

/** The view of a user nobody can see. */
export const OFFLINE_VIEW: View = Object.freeze({ status: 'offline', page: NO_PAGE, message: '', activity: null });
