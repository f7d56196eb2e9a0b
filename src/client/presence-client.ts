// The presence WebSocket client: token auth, heartbeats, jittered reconnect, presence resent after reconnect, typed events.
import type { BackoffOptions } from './backoff';
import { backoffDelay } from './backoff';
import type {
  ConnectionStatus,
  ErrorMessage,
  PresenceBatchMessage,
  PresenceTimeoutMessage,
  PresenceUpdate,
  PresenceUpdateMessage,
  SubscribedMessage,
} from './messages';
import { parseServerMessage } from './messages';
import { isTokenExpired } from './token';
import { TypedEmitter } from './typed-emitter';

/** The subprotocol of the Presence API; the token travels as the second protocol value. */
export const PRESENCE_SUBPROTOCOL = 'presence.v1';

/** The version 2 subprotocol: the connection also accepts `presence-batch` messages. */
export const PRESENCE_SUBPROTOCOL_V2 = 'presence.v2';

/** Heartbeat period: under the 30 s after which Chrome stops an idle MV3 service worker, and under the server timeout. */
export const DEFAULT_HEARTBEAT_MS = 20_000;

/** The part of the WebSocket interface the client uses (browsers, service workers, the `ws` package). */
export interface WebSocketLike {
  readonly readyState: number;
  readonly protocol: string;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

/** A WebSocket constructor: `globalThis.WebSocket`, or `WebSocket` from the `ws` package in Node. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

/** Why the client gave up on a token. */
export type AuthFailure = 'missing' | 'expired' | 'rejected';

/** Where the client is. `stopped` after `close()` or an auth failure: call `connect()` (with a new token) to go on. */
export type ClientState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'stopped';

/** The events of {@link PresenceClient}. */
export interface PresenceClientEvents {
  'update-presence': PresenceUpdateMessage;
  'presence-timeout': PresenceTimeoutMessage;
  /**
   * A `presence-batch` arrived (connections made with `batch: true`). Emitted before its elements, which then arrive
   * one by one as `update-presence` / `presence-timeout` (those not newer than what was applied are dropped).
   */
  'presence-batch': PresenceBatchMessage;
  /** The server answered a message with an error (`invalid_message`, `unknown_action`, `rate_limited`, ...). */
  'server-error': ErrorMessage;
  /** The server confirmed what this connection receives. */
  subscribed: SubscribedMessage;
  /** A `subscribe` named a group the user is not a member of: nothing was subscribed. */
  'group-forbidden': ErrorMessage;
  /** The server lost this user's state and asked for it again: the client has resent its presence. */
  resync: Record<string, never>;
  open: { readonly protocol: string };
  close: { readonly code: number; readonly reason: string; readonly willReconnect: boolean };
  state: ClientState;
  'auth-failed': { readonly reason: AuthFailure };
}

/** Options of {@link PresenceClient}. */
export interface PresenceClientOptions {
  /** `ws://127.0.0.1:3000/ws` locally, `wss://{api}.execute-api.{region}.amazonaws.com/{stage}` in AWS. */
  readonly url: string;
  /** The JWT, or a function returning the current one (called before every connect, so it may refresh). */
  readonly token: string | (() => string | undefined | Promise<string | undefined>);
  /** `subprotocol` (default: `presence.v1, <jwt>`) or `query` (`?Authorization=<jwt>`, as PageNow clients do). */
  readonly tokenTransport?: 'subprotocol' | 'query';
  /** Defaults to `globalThis.WebSocket`; Node 20 has none: pass `WebSocket` from the `ws` package. */
  readonly WebSocket?: WebSocketConstructor;
  readonly heartbeatIntervalMs?: number;
  /** Accept `presence-batch` messages (several changes in one frame): cheaper for busy friend lists. */
  readonly batch?: boolean;
  /** Reconnect backoff, or `false` to never reconnect. */
  readonly reconnect?: BackoffOptions | false;
  /**
   * Asked after a failed handshake whose status is unknown (browsers do not expose it): resolve `false` when the
   * token is rejected, to stop reconnecting. {@link restAuthCheck} asks the REST API.
   */
  readonly authCheck?: (token: string) => Promise<boolean>;
  /** For tests: the clock and the random source of the jitter. */
  readonly now?: () => number;
  readonly random?: () => number;
}

const OPEN = 1;

/** An `authCheck` that asks `GET {restUrl}/presence`: a 401 means the token is rejected. */
export function restAuthCheck(restUrl: string): (token: string) => Promise<boolean> {
  return async (token) => {
    try {
      const response = await fetch(`${restUrl.replace(/\/+$/, '')}/presence`, {
        headers: { Authorization: `Bearer ${token}` },
      });
      return response.status !== 401 && response.status !== 403;
    } catch {
      return true; // unreachable: not a token problem
    }
  };
}

/** The status in a failed handshake's error, when the WebSocket implementation exposes it (the `ws` package does). */
function handshakeStatus(event: unknown): number | undefined {
  const e = event as { message?: unknown; error?: { message?: unknown } } | undefined;
  const text = String(e?.message ?? e?.error?.message ?? '');
  const match = /Unexpected server response: (\d{3})/.exec(text);
  return match ? Number(match[1]) : undefined;
}

/**
 * A presence connection that stays up: connects with the token, sends a heartbeat after 20 s without a message, reconnects with
 * jittered backoff (stopping for good on an expired or rejected token), and resends the current presence after
 * every reconnect so friends see it again.
 */
export class PresenceClient extends TypedEmitter<PresenceClientEvents> {
  private socket: WebSocketLike | undefined;
  private heartbeatTimer: ReturnType<typeof setTimeout> | undefined;
  /** When the last heartbeat went out (or the connection opened). */
  private lastHeartbeatAt = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private attempt = 0;
  private current: PresenceUpdate = {};
  private currentState: ClientState = 'idle';
  private generation = 0;
  /** The newest version applied per user: older or duplicate messages are dropped. */
  private readonly versions = new Map<string, number>();
  /** Increases with every update sent, so the server ignores updates it processes out of order. */
  private seq = 0;
  private interest: { detail?: 'full' | 'status'; groups?: readonly string[] } = {};

  constructor(private readonly options: PresenceClientOptions) {
    super();
  }

  /** The connection state. */
  get state(): ClientState {
    return this.currentState;
  }

  /** The presence this client reports (sent again after every reconnect). */
  get presence(): PresenceUpdate {
    return this.current;
  }

  /** Opens the connection (no-op while connecting or open). */
  connect(): void {
    if (this.currentState === 'connecting' || this.currentState === 'open') return;
    this.attempt = 0;
    void this.open();
  }

  /** Updates the reported presence: sent now when open, else on the next open. */
  updatePresence(update: PresenceUpdate): void {
    this.current = { ...this.current, ...update };
    this.sendUpdate(update);
  }

  /** What this connection receives: every change (`full`) or status changes only; the groups to follow. */
  subscribe(interest: { detail?: 'full' | 'status'; groups?: readonly string[] }): void {
    this.interest = { ...this.interest, ...interest };
    this.send({ action: 'subscribe', ...interest });
  }

  /**
   * Follows these groups (replacing the previous list; `[]` stops): their members' changes arrive as
   * `update-presence` / `presence-timeout`, at status level for members who are not friends. Confirmed by
   * `subscribed`; a group the user is not in gives `group-forbidden`. Kept across reconnects.
   */
  followGroups(groupIds: readonly string[]): void {
    this.subscribe({ groups: [...groupIds] });
  }

  /**
   * Whether a snapshot entry (REST) or message for `userId` with version `v` is newer than what this client applied;
   * records it when it is. Entries without a version (version 1 servers) are always newer.
   */
  accept(userId: string, v: number | null | undefined): boolean {
    if (typeof v !== 'number') return true;
    const held = this.versions.get(userId);
    if (held !== undefined && v <= held) return false;
    this.versions.set(userId, v);
    return true;
  }

  private sendUpdate(update: PresenceUpdate): void {
    this.seq += 1;
    // An update keeps the connection alive as a heartbeat does: the next heartbeat is due a full interval after it.
    if (this.send({ action: 'update-presence', ...update, seq: this.seq }) && this.heartbeatTimer) this.armHeartbeat();
  }

  /**
   * Sends a heartbeat once the connection has been silent for the interval, and never later than two intervals after
   * the previous heartbeat. A page switch replaces the heartbeat it precedes instead of adding to it (one paid message
   * and one Lambda invocation less; the contract counts both as liveness) with no longer silence than the interval
   * (Chrome keeps an MV3 service worker with such a socket alive). The bound keeps the interval the server learns
   * from the gaps between heartbeats, and so the time a dead connection stays online, within 2.5 x 2 intervals.
   */
  private armHeartbeat(): void {
    const interval = this.options.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_MS;
    const now = Date.now();
    if (this.heartbeatTimer) clearTimeout(this.heartbeatTimer);
    else this.lastHeartbeatAt = now;
    this.heartbeatTimer = setTimeout(
      () => {
        if (!this.send({ action: 'heartbeat' })) return;
        this.lastHeartbeatAt = Date.now();
        this.armHeartbeat();
      },
      Math.max(0, Math.min(interval, this.lastHeartbeatAt + 2 * interval - now)),
    );
  }

  private deliver(message: PresenceUpdateMessage | PresenceTimeoutMessage): void {
    if (this.accept(message.userId, message.v)) this.emit(message.type, message as never);
  }

  /** Sets the status (`online`, `away`, `busy`, `invisible`). */
  setStatus(status: ConnectionStatus): void {
    this.updatePresence({ status });
  }

  /** Closes the connection for good (until `connect()`). */
  close(): void {
    this.generation += 1;
    this.clearTimers();
    const socket = this.socket;
    this.socket = undefined;
    if (socket) {
      socket.onclose = null;
      socket.onmessage = null;
      socket.onerror = null;
      socket.onopen = null;
      try {
        socket.close(1000, 'client closed');
      } catch {
        // already closed
      }
    }
    this.setState('stopped');
  }

  private send(message: Record<string, unknown>): boolean {
    if (this.socket?.readyState !== OPEN) return false;
    this.socket.send(JSON.stringify(message));
    return true;
  }

  private setState(state: ClientState): void {
    if (state === this.currentState) return;
    this.currentState = state;
    this.emit('state', state);
  }

  private clearTimers(): void {
    if (this.heartbeatTimer) clearTimeout(this.heartbeatTimer);
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.heartbeatTimer = undefined;
    this.reconnectTimer = undefined;
  }

  private fail(reason: AuthFailure): void {
    this.clearTimers();
    this.setState('stopped');
    this.emit('auth-failed', { reason });
  }

  private async open(): Promise<void> {
    const generation = ++this.generation;
    this.clearTimers();
    this.setState(this.attempt === 0 ? 'connecting' : 'reconnecting');
    const token = typeof this.options.token === 'function' ? await this.options.token() : this.options.token;
    if (generation !== this.generation) return;
    if (!token) return this.fail('missing');
    if (isTokenExpired(token, (this.options.now ?? Date.now)())) return this.fail('expired');
    const Ctor = this.options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!Ctor) throw new Error('No WebSocket implementation: pass options.WebSocket (e.g. from the ws package)');
    const byQuery = this.options.tokenTransport === 'query';
    const separator = this.options.url.includes('?') ? '&' : '?';
    const url = byQuery
      ? `${this.options.url}${separator}Authorization=${encodeURIComponent(token)}${this.options.batch ? '&batch=1' : ''}`
      : this.options.url;
    const protocol = this.options.batch ? PRESENCE_SUBPROTOCOL_V2 : PRESENCE_SUBPROTOCOL;
    let socket: WebSocketLike;
    try {
      socket = byQuery ? new Ctor(url) : new Ctor(url, [protocol, token]);
    } catch {
      return this.scheduleReconnect(generation, token, false, undefined);
    }
    this.socket = socket;
    let opened = false;
    let status: number | undefined;
    socket.onopen = () => {
      if (generation !== this.generation) return;
      opened = true;
      this.attempt = 0;
      this.setState('open');
      this.emit('open', { protocol: socket.protocol });
      // Friends see the page again after a reconnect; within the grace window nothing flaps.
      if (Object.keys(this.current).length > 0) this.sendUpdate(this.current);
      if (Object.keys(this.interest).length > 0) this.send({ action: 'subscribe', ...this.interest });
      this.armHeartbeat();
    };
    socket.onmessage = (event) => {
      if (generation !== this.generation) return;
      const message = parseServerMessage(event.data);
      if (!message) return;
      if (message.type === 'error') {
        if (message.code === 'resync') {
          // The server lost this user's state: tell it again (status included, so a hidden user stays hidden).
          this.sendUpdate({ status: 'online', ...this.current });
          this.emit('resync', {});
        } else {
          if (message.code === 'forbidden') this.emit('group-forbidden', message);
          this.emit('server-error', message);
        }
      } else if (message.type === 'presence-batch') {
        this.emit('presence-batch', message);
        for (const change of message.changes) this.deliver(change);
      } else if (message.type === 'subscribed') this.emit('subscribed', message);
      else this.deliver(message);
    };
    socket.onerror = (event) => {
      status ??= handshakeStatus(event);
    };
    socket.onclose = (event) => {
      if (generation !== this.generation) return;
      this.socket = undefined;
      if (this.heartbeatTimer) clearTimeout(this.heartbeatTimer);
      this.heartbeatTimer = undefined;
      void this.scheduleReconnect(generation, token, opened, status, event);
    };
  }

  private async scheduleReconnect(
    generation: number,
    token: string,
    opened: boolean,
    status: number | undefined,
    event?: { code: number; reason: string },
  ): Promise<void> {
    const code = event?.code ?? 1006;
    const reason = event?.reason ?? '';
    if (!opened) {
      // A refused handshake: find out whether the token is the reason, and if so, stop.
      let rejected = status === 401 || status === 403;
      if (!rejected && status === undefined && this.options.authCheck)
        rejected = !(await this.options.authCheck(token));
      if (generation !== this.generation) return;
      if (rejected) {
        this.emit('close', { code, reason, willReconnect: false });
        return this.fail(isTokenExpired(token, (this.options.now ?? Date.now)()) ? 'expired' : 'rejected');
      }
    }
    const willReconnect = this.options.reconnect !== false;
    this.emit('close', { code, reason, willReconnect });
    if (!willReconnect) return this.setState('stopped');
    const delay = backoffDelay(this.attempt, this.options.reconnect || {}, this.options.random);
    this.attempt += 1;
    this.setState('reconnecting');
    this.reconnectTimer = setTimeout(() => {
      if (generation === this.generation) void this.open();
    }, delay);
  }
}
