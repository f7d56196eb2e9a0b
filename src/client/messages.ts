// The wire shapes the client sends and receives (docs/protocol.md), as plain types with no runtime dependencies.

/** A status a client may set. */
export type ConnectionStatus = 'online' | 'away' | 'busy' | 'invisible';

/** A status a user can have as others see it (`invisible` only in the user's own view). */
export type PresenceStatus = ConnectionStatus | 'offline';

/** A shared page; empty strings when the page is not shared. */
export interface Page {
  readonly url: string;
  readonly title: string;
  readonly domain: string;
}

/** Application-defined activity: a flat object of strings, finite numbers and booleans. */
export type Activity = Readonly<Record<string, string | number | boolean>>;

/** What the client reports: any subset of page, status, custom message and activity. */
export interface PresenceUpdate {
  readonly url?: string;
  readonly title?: string;
  readonly status?: ConnectionStatus;
  readonly message?: string | null;
  readonly activity?: Activity | null;
}

/** Server message: a friend's (or the user's own, from another connection) presence changed. */
export interface PresenceUpdateMessage {
  readonly type: 'update-presence';
  readonly userId: string;
  readonly status: PresenceStatus;
  readonly url: string;
  readonly title: string;
  readonly domain: string;
  readonly latestUrl: string;
  readonly latestTitle: string;
  readonly latestDomain: string;
  readonly message: string | null;
  readonly activity?: Activity | null;
  readonly lastSeen: number | null;
  /** Version of the change (version 2 servers): apply only if greater than the one held for the user. */
  readonly v?: number;
}

/** Server message: a friend went offline (after the grace window). */
export interface PresenceTimeoutMessage {
  readonly type: 'presence-timeout';
  readonly userId: string;
  readonly lastSeen: number | null;
  readonly v?: number;
}

/** Server message: several changes at once (connections that opted in to batches). */
export interface PresenceBatchMessage {
  readonly type: 'presence-batch';
  readonly changes: readonly (PresenceUpdateMessage | PresenceTimeoutMessage)[];
}

/** Server message: the reply to `subscribe`. */
export interface SubscribedMessage {
  readonly type: 'subscribed';
  readonly detail: 'full' | 'status';
  readonly groups: readonly string[];
}

/** Server message: what was wrong with the last client message. */
export interface ErrorMessage {
  readonly type: 'error';
  readonly code: string;
  readonly message?: string;
}

/** Any message the server sends. */
export type ServerMessage =
  PresenceUpdateMessage | PresenceTimeoutMessage | PresenceBatchMessage | SubscribedMessage | ErrorMessage;

/** A user's presence as `GET /presence` returns it. */
export interface Presence {
  readonly userId: string;
  readonly status: PresenceStatus;
  readonly page: Page | null;
  readonly latestPage: Page | null;
  readonly message: string | null;
  readonly lastSeen: number | null;
  /** Application-defined activity (version 2 servers; null for group members who are not friends). */
  readonly activity?: Activity | null;
  /** Version (version 2 servers). */
  readonly v?: number | null;
}

/** The body of `GET /groups/{groupId}/presence`: every member, friends in full and others at status level. */
export interface GroupPresence {
  readonly groupId: string;
  readonly name: string;
  /** Members whose status, as the caller sees it, is not offline. */
  readonly online: number;
  readonly members: Presence[];
  readonly userInfoMap: Record<string, UserInfo>;
}

/** The body of `GET /presence/{userId}`: a Presence plus PageNow's top-level `url` and `title` (empty when not shared). */
export interface UserPresence extends Presence {
  readonly url: string;
  readonly title: string;
}

/** Profile fields of a user, from `userInfoMap`. */
export interface UserInfo {
  readonly user_id: string;
  readonly first_name: string | null;
  readonly last_name: string | null;
  readonly profile_image_extension: string | null;
}

/** The body of `GET /presence`. */
export interface PresenceOverview {
  readonly userPresence: Presence;
  readonly presenceArr: Presence[];
  readonly userInfoMap: Record<string, UserInfo>;
}

/**
 * The entry of `userId` in a map keyed by user ids (`userInfoMap`, or a record the application keeps): own entries
 * only, so ids such as `constructor` or `toString` never find something inherited from `Object.prototype`.
 */
export function entryFor<T>(map: Readonly<Record<string, T>>, userId: string): T | undefined {
  return Object.prototype.hasOwnProperty.call(map, userId) ? map[userId] : undefined;
}

/**
 * A record keyed by user ids built from entries: every id, `__proto__` included, becomes an own key (assigning
 * `record['__proto__'] = x` would replace the prototype instead). JSON-serializable, unlike a `Map`.
 */
export function recordByUserId<T>(entries: Iterable<readonly [string, T]>): Record<string, T> {
  return Object.fromEntries(entries) as Record<string, T>;
}

/** Parses a server frame; undefined when it is not a message this client knows. */
export function parseServerMessage(data: unknown): ServerMessage | undefined {
  if (typeof data !== 'string') return undefined;
  try {
    const json = JSON.parse(data) as { type?: unknown; userId?: unknown };
    if (json.type === 'update-presence' || json.type === 'presence-timeout') {
      return typeof json.userId === 'string' ? (json as ServerMessage) : undefined;
    }
    if (json.type === 'error') return json as ErrorMessage;
    if (json.type === 'subscribed') return json as unknown as SubscribedMessage;
    if (json.type === 'presence-batch') {
      const changes = (json as { changes?: unknown }).changes;
      return Array.isArray(changes) ? (json as unknown as PresenceBatchMessage) : undefined;
    }
  } catch {
    // not JSON
  }
  return undefined;
}

/** Applies a pushed message to a presence (for lists kept up to date from pushes). */
export function applyMessage(
  previous: Presence | undefined,
  message: PresenceUpdateMessage | PresenceTimeoutMessage,
): Presence {
  if (message.type === 'presence-timeout') {
    return {
      userId: message.userId,
      status: 'offline',
      page: null,
      latestPage: previous?.latestPage ?? previous?.page ?? null,
      message: null,
      lastSeen: message.lastSeen ?? previous?.lastSeen ?? null,
    };
  }
  const page = message.status === 'offline' ? null : { url: message.url, title: message.title, domain: message.domain };
  const latestPage = message.latestUrl
    ? { url: message.latestUrl, title: message.latestTitle, domain: message.latestDomain }
    : (previous?.latestPage ?? null);
  return {
    userId: message.userId,
    status: message.status,
    page,
    latestPage,
    message: message.message,
    lastSeen: message.lastSeen,
  };
}
