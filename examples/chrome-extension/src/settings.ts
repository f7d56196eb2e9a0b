// The extension's settings (server URL, token) in chrome.storage.local, and the shared state the worker keeps for the popup.
import type { Presence, UserInfo } from '../../../src/client';
import { chromeApi } from './chrome-api';

/** Where the local stack listens by default. */
export const DEFAULT_SERVER_URL = 'http://127.0.0.1:3000';

/** What the options page saves. */
export interface Settings {
  /** The REST base URL; the WebSocket URL is derived from it (`/ws` locally). */
  readonly serverUrl: string;
  readonly token: string;
}

/** What the background worker shares with the popup (chrome.storage.session, key `presence`). */
export interface SharedState {
  readonly connection: string;
  readonly userId: string | null;
  readonly self: Presence | null;
  readonly friends: Record<string, Presence>;
  readonly info: Record<string, UserInfo>;
  readonly problem: string | null;
  /** What the server confirmed this connection receives (`subscribed`): `full` while the popup is open. */
  readonly detail: 'full' | 'status' | null;
  /**
   * Whether friends' pages are current: true only after a snapshot taken at `full` detail (pushes keep them current
   * from then on). At `status` detail page switches are not pushed, so the pages held may be stale.
   */
  readonly pagesCurrent: boolean;
  /** The subprotocol the server accepted: `presence.v2` means batches are on. */
  readonly protocol: string | null;
  /** `presence-batch` messages received since the worker started. */
  readonly batches: number;
}

/** The initial shared state. */
export const EMPTY_STATE: SharedState = {
  connection: 'idle',
  userId: null,
  self: null,
  friends: {},
  info: {},
  problem: null,
  detail: null,
  pagesCurrent: false,
  protocol: null,
  batches: 0,
};

/** Loads the settings. */
export async function loadSettings(): Promise<Settings> {
  const stored = await chromeApi.storage.local.get(['serverUrl', 'token']);
  return {
    serverUrl: typeof stored.serverUrl === 'string' && stored.serverUrl ? stored.serverUrl : DEFAULT_SERVER_URL,
    token: typeof stored.token === 'string' ? stored.token : '',
  };
}

/** The WebSocket URL of a server: the local stack serves it at `/ws`; an `execute-api` REST URL has no WebSocket path. */
export function webSocketUrl(serverUrl: string): string {
  const url = new URL(serverUrl);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/ws`;
  return url.toString();
}

export { ago } from '../../../src/client';
