// The presence domain's data types: statuses, pages, views and the wire shapes built from them.

/** A status a connection can report. */
export type ConnectionStatus = 'online' | 'away' | 'busy' | 'invisible';

/** What a user's presence says: `invisible` only ever appears in the user's own view. */
export type PresenceStatus = 'online' | 'away' | 'busy' | 'offline' | 'invisible';

/** Statuses a client may send, in the contract's order. */
export const CONNECTION_STATUSES: readonly ConnectionStatus[] = ['online', 'away', 'busy', 'invisible'];

/** A page as it may be shared: stripped URL, title and registrable domain. Empty strings when not shared. */
export interface Page {
  readonly url: string;
  readonly title: string;
  readonly domain: string;
}

/** The presence of one user, as the REST API returns it. */
export interface Presence {
  readonly userId: string;
  readonly status: PresenceStatus;
  readonly page: Page | null;
  readonly latestPage: Page | null;
  readonly message: string | null;
  readonly lastSeen: number | null;
}

/**
 * A view as the store keeps it: what one audience (friends, or the user's own connections) was last told.
 * Stored as the JSON array `[status, url, title, domain, message]`.
 */
export interface View {
  readonly status: PresenceStatus;
  readonly page: Page;
  readonly message: string;
}

/** What the store knows about a user besides the views. */
export interface PresenceSnapshot {
  /** What friends see (null when the user was never seen or the record expired). */
  readonly friendView: View | null;
  /** What the user's own connections see. */
  readonly ownView: View | null;
  /** Last activity (the user's own view). */
  readonly lastSeen: number | null;
  /** Last activity while visible (what friends see). */
  readonly publicLastSeen: number | null;
  /** Last page shared while visible. */
  readonly latestPage: Page | null;
}

/** A row of `user_table` as clients get it in `userInfoMap`. */
export interface UserInfo {
  readonly user_id: string;
  readonly first_name: string | null;
  readonly last_name: string | null;
  readonly profile_image_extension: string | null;
}

/** Page-sharing settings of a user. `domains` is the allow list (default_none) or the deny list (default_all). */
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
  /** user_table rows of the user and their friends, by id. */
  readonly info: Readonly<Record<string, UserInfo>>;
}

/** The result of a state change: which audiences must be told what. */
export interface PresenceChange {
  readonly userId: string;
  /** Set when what friends see changed. */
  readonly friendView: View | null;
  /** Set when what the user's own connections see changed. */
  readonly ownView: View | null;
  readonly snapshot: PresenceSnapshot;
  /** Cached friend ids, or null when the context was not cached. */
  readonly friendIds: readonly string[] | null;
  /** The user's other connections (never the one that acted). */
  readonly ownConnectionIds: readonly string[];
}

/** The empty page. */
export const NO_PAGE: Page = Object.freeze({ url: '', title: '', domain: '' });

/** The view of a user nobody can see. */
export const OFFLINE_VIEW: View = Object.freeze({ status: 'offline', page: NO_PAGE, message: '' });

/** Whether a change needs any notification. */
export function hasNotifications(change: PresenceChange): boolean {
  return change.friendView !== null || (change.ownView !== null && change.ownConnectionIds.length > 0);
}
