// The client library's public surface: the WebSocket client, REST helpers and wire types (no dependencies).
export {
  PresenceClient,
  PRESENCE_SUBPROTOCOL,
  PRESENCE_SUBPROTOCOL_V2,
  DEFAULT_HEARTBEAT_MS,
  restAuthCheck,
} from './presence-client';
export type {
  AuthFailure,
  ClientState,
  PresenceClientEvents,
  PresenceClientOptions,
  WebSocketConstructor,
  WebSocketLike,
} from './presence-client';
export { fetchGroupPresence, fetchPresenceOverview, fetchUserPresence, PresenceApiError } from './rest';
export { parseServerMessage, applyMessage, entryFor, recordByUserId } from './messages';
export { ago } from './format';
export type {
  ConnectionStatus,
  ErrorMessage,
  GroupPresence,
  Page,
  Presence,
  PresenceOverview,
  PresenceBatchMessage,
  PresenceStatus,
  PresenceTimeoutMessage,
  PresenceUpdate,
  PresenceUpdateMessage,
  ServerMessage,
  SubscribedMessage,
  UserInfo,
  UserPresence,
} from './messages';
export { backoffDelay } from './backoff';
export type { BackoffOptions } from './backoff';
export { tokenExpiresAt, isTokenExpired } from './token';
