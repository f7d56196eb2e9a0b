// The local WebSocket API: holds the upgrade until the authorizer and $connect answer, routes messages, enforces limits.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { STATUS_CODES } from 'node:http';
import { WebSocketServer } from 'ws';
import type { RawData, WebSocket } from 'ws';
import { AUTHORIZER_FUNCTION, WEBSOCKET_ROUTES } from '../routes';
import type { WebSocketRoute } from '../routes';
import type { ConnectionEventBase } from './api-events';
import { connectEvent, disconnectEvent, messageEvent, webSocketAuthorizerEvent } from './api-events';
import type { ConnectionRegistry, LocalConnection } from './connection-registry';
import type { GatewayIdentity } from './gateway-identity';
import { newConnectionId } from './gateway-identity';
import type { HandlerRegistry } from './handler-registry';
import { lambdaContext } from './handler-registry';
import { invokeAuthorizer } from './invoke-authorizer';
import { MAX_FRAME_BYTES } from './local-config';
import type { LocalConfig } from './local-config';
import { logRequest, since } from './request-log';
import { identityOf } from './request-parts';

/** The path clients connect to. */
export const WEBSOCKET_PATH = '/ws';

/** Whether `pathname` is the WebSocket endpoint: `/ws`, or `/ws/` as PageNow's extension writes it. */
export function isWebSocketPath(pathname: string): boolean {
  return pathname === WEBSOCKET_PATH || pathname === `${WEBSOCKET_PATH}/`;
}

/** Lambda timeout the gateway gives WebSocket integrations (API Gateway's integration timeout is 29 s). */
const INTEGRATION_TIMEOUT_MS = 29_000;

const routeFor = (key: string): WebSocketRoute | undefined => WEBSOCKET_ROUTES.find((r) => r.routeKey === key);

/** The route key for a message body under `$request.body.action`; `$default` when it does not select a route. */
export function selectRoute(body: string): string {
  try {
    const json = JSON.parse(body) as unknown;
    const action = typeof json === 'object' && json !== null ? (json as { action?: unknown }).action : undefined;
    if (typeof action === 'string' && !action.startsWith('$') && routeFor(action)) return action;
  } catch {
    // not JSON: $default
  }
  return '$default';
}

function refuse(socket: Duplex, statusCode: number, extraHeaders: Record<string, string> = {}): void {
  if (socket.destroyed) return;
  const body = JSON.stringify({ message: STATUS_CODES[statusCode] ?? 'Error' });
  const headers = {
    'Content-Type': 'application/json',
    'Content-Length': String(Buffer.byteLength(body)),
    Connection: 'close',
    ...extraHeaders,
  };
  socket.end(
    `HTTP/1.1 ${statusCode} ${STATUS_CODES[statusCode] ?? 'Error'}\r\n${Object.entries(headers)
      .map(([k, v]) => `${k}: ${v}`)
      .join('\r\n')}\r\n\r\n${body}`,
  );
}

function statusOf(result: unknown): number {
  const status = (result as { statusCode?: unknown } | undefined)?.statusCode;
  return typeof status === 'number' ? status : 200;
}

function headerOfResult(result: unknown, name: string): string | undefined {
  const headers = (result as { headers?: Record<string, unknown> } | undefined)?.headers ?? {};
  const entry = Object.entries(headers).find(([k]) => k.toLowerCase() === name.toLowerCase());
  return typeof entry?.[1] === 'string' ? entry[1] : undefined;
}

/**
 * Why an upgrade request is not a valid WebSocket handshake (RFC 6455 section 4.2.1), or undefined when it is. API
 * Gateway refuses these before any integration runs, so neither the authorizer nor `$connect` sees them.
 */
export function handshakeProblem(req: IncomingMessage): string | undefined {
  if (req.method !== 'GET') return 'the upgrade must be a GET request';
  if ((req.headers.upgrade ?? '').toLowerCase() !== 'websocket') return 'Upgrade must be websocket';
  const key = req.headers['sec-websocket-key'];
  if (typeof key !== 'string' || !/^[+/0-9A-Za-z]{22}==$/.test(key))
    return 'Sec-WebSocket-Key must be 16 bytes in base64';
  if (req.headers['sec-websocket-version'] !== '13') return 'Sec-WebSocket-Version must be 13';
  return undefined;
}

/** The WebSocket half of the local API Gateway. */
export class WebSocketGateway {
  private readonly server: WebSocketServer;
  /** The subprotocol `$connect` chose, per upgrade request. */
  private readonly chosenProtocol = new WeakMap<IncomingMessage, string>();
  /** Per-connection chains, so one connection's events reach the handlers in order. */
  private readonly chains = new Map<string, Promise<void>>();
  private readonly timers = new Map<string, NodeJS.Timeout[]>();
  private readonly pendingWork = new Set<Promise<void>>();

  constructor(
    private readonly gw: GatewayIdentity,
    private readonly handlers: HandlerRegistry,
    private readonly registry: ConnectionRegistry,
    private readonly config: LocalConfig,
  ) {
    this.server = new WebSocketServer({
      noServer: true,
      maxPayload: MAX_FRAME_BYTES,
      handleProtocols: (_protocols, req) => this.chosenProtocol.get(req) ?? false,
    });
  }

  /** Handles an HTTP upgrade on {@link WEBSOCKET_PATH} (or `/ws/`): authorizer, `$connect`, then the 101 (or the refusal). */
  async handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): Promise<void> {
    const started = performance.now();
    socket.on('error', () => undefined);
    const problem = handshakeProblem(req);
    if (problem) {
      logRequest({ kind: 'WS', what: '$connect (handshake)', status: 400, ms: since(started), note: problem });
      refuse(socket, 400, { 'Sec-WebSocket-Version': '13' });
      return;
    }
    const base: ConnectionEventBase & { authorizer: ConnectionEventBase['authorizer'] } = {
      connectionId: newConnectionId(),
      connectedAt: Date.now(),
      identity: identityOf(req),
      authorizer: undefined,
    };
    const connectRoute = routeFor('$connect');
    let userId: string | undefined;
    if (connectRoute?.authorized) {
      const outcome = await invokeAuthorizer(
        this.handlers[AUTHORIZER_FUNCTION],
        webSocketAuthorizerEvent(this.gw, base, req, url),
      );
      if (!outcome.allowed) {
        logRequest({
          kind: 'WS',
          what: '$connect (authorizer)',
          status: outcome.statusCode,
          ms: since(started),
          note: outcome.message,
        });
        refuse(socket, outcome.statusCode);
        return;
      }
      base.authorizer = outcome.context;
      userId = outcome.userId;
    }
    const connection = this.registry.addPending(base, userId ?? '');
    let result: unknown = { statusCode: 200 };
    if (connectRoute) {
      try {
        result = await this.handlers[connectRoute.functionName](
          connectEvent(this.gw, base, req, url),
          lambdaContext(connectRoute.functionName, base.connectionId, INTEGRATION_TIMEOUT_MS),
        );
      } catch {
        result = { statusCode: 500 };
      }
    }
    const status = statusOf(result);
    if (status < 200 || status > 299) {
      this.registry.remove(base.connectionId);
      logRequest({ kind: 'WS', what: '$connect', status, userId, connectionId: base.connectionId, ms: since(started) });
      refuse(socket, status);
      return;
    }
    if (socket.destroyed) {
      // The client gave up while $connect ran: API Gateway still sends $disconnect.
      this.registry.remove(base.connectionId);
      this.fireDisconnect(connection, 1006, 'Client went away during $connect');
      return;
    }
    const protocol = headerOfResult(result, 'Sec-WebSocket-Protocol');
    if (protocol) this.chosenProtocol.set(req, protocol);
    this.server.handleUpgrade(req, socket, head, (ws) => this.onOpen(ws, connection, started));
  }

  private onOpen(ws: WebSocket, connection: LocalConnection, started: number): void {
    const { connectionId } = connection;
    if (!this.registry.open(connectionId, ws)) {
      // Deleted through @connections while $connect ran.
      ws.close(1000, 'Connection deleted');
      return;
    }
    logRequest({
      kind: 'WS',
      what: '$connect',
      status: 101,
      userId: connection.userId,
      connectionId,
      ms: since(started),
    });
    const idle = (): NodeJS.Timeout =>
      setTimeout(() => this.closeSocket(ws, 1001, 'Going away (idle timeout)'), this.config.idleTimeoutMs);
    let idleTimer = idle();
    const maxTimer = setTimeout(
      () => this.closeSocket(ws, 1001, 'Going away (maximum connection duration)'),
      this.config.maxConnectionMs,
    );
    this.timers.set(connectionId, [idleTimer, maxTimer]);
    const touch = () => {
      connection.lastActiveAt = Date.now();
      clearTimeout(idleTimer);
      idleTimer = idle();
      this.timers.set(connectionId, [idleTimer, maxTimer]);
    };
    ws.on('ping', touch);
    ws.on('message', (data: RawData, isBinary: boolean) => {
      touch();
      const buffer = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      const body = isBinary ? buffer.toString('base64') : buffer.toString('utf8');
      this.enqueue(connectionId, () => this.dispatch(connection, body, isBinary));
    });
    ws.on('error', () => undefined);
    ws.on('close', (code: number, reason: Buffer) => {
      for (const timer of this.timers.get(connectionId) ?? []) clearTimeout(timer);
      this.timers.delete(connectionId);
      // Only the socket that is still registered fires $disconnect (a @connections DELETE already removed it).
      const current = this.registry.get(connectionId);
      if (current?.socket === ws) this.registry.remove(connectionId);
      this.fireDisconnect(connection, code, reason.toString('utf8') || (code === 1005 ? 'No status received' : ''));
    });
  }

  /** Closes a socket from the server side, and drops it if the peer does not answer the close handshake. */
  closeSocket(ws: WebSocket, code: number, reason: string): void {
    ws.close(code, reason);
    setTimeout(() => ws.terminate(), 2000).unref();
  }

  private fireDisconnect(connection: LocalConnection, code: number, reason: string): void {
    const route = routeFor('$disconnect');
    if (this.config.dropDisconnect) {
      logRequest({
        kind: 'WS',
        what: '$disconnect',
        status: 'dropped',
        userId: connection.userId,
        connectionId: connection.connectionId,
        note: `(${code}) LOCAL_DROP_DISCONNECT`,
      });
      this.chains.delete(connection.connectionId);
      return;
    }
    if (!route) return;
    this.enqueue(connection.connectionId, async () => {
      const started = performance.now();
      const result = await this.handlers[route.functionName](
        disconnectEvent(this.gw, connection, code, reason),
        lambdaContext(route.functionName, connection.connectionId, INTEGRATION_TIMEOUT_MS),
      ).catch(() => ({ statusCode: 500 }));
      logRequest({
        kind: 'WS',
        what: '$disconnect',
        status: statusOf(result),
        userId: connection.userId,
        connectionId: connection.connectionId,
        ms: since(started),
        note: `close ${code}`,
      });
    }).finally(() => this.chains.delete(connection.connectionId));
  }

  private async dispatch(connection: LocalConnection, body: string, isBase64Encoded: boolean): Promise<void> {
    const started = performance.now();
    const routeKey = isBase64Encoded ? '$default' : selectRoute(body);
    const route = routeFor(routeKey);
    if (!route) {
      // API Gateway's answer when nothing matches and there is no $default route.
      connection.socket?.send(
        JSON.stringify({ message: 'Forbidden', connectionId: connection.connectionId, requestId: 'local' }),
      );
      logRequest({
        kind: 'WS',
        what: routeKey,
        status: 403,
        userId: connection.userId,
        connectionId: connection.connectionId,
      });
      return;
    }
    const result = await this.handlers[route.functionName](
      messageEvent(this.gw, connection, routeKey, body, isBase64Encoded),
      lambdaContext(route.functionName, connection.connectionId, INTEGRATION_TIMEOUT_MS),
    ).catch(() => ({ statusCode: 500 }));
    logRequest({
      kind: 'WS',
      what: routeKey === route.functionName ? routeKey : `${routeKey} -> ${route.functionName}`,
      status: statusOf(result),
      userId: connection.userId,
      connectionId: connection.connectionId,
      ms: since(started),
    });
  }

  private enqueue(connectionId: string, work: () => Promise<void>): Promise<void> {
    const next = (this.chains.get(connectionId) ?? Promise.resolve()).then(work).catch(() => undefined);
    this.chains.set(connectionId, next);
    this.pendingWork.add(next);
    void next.finally(() => this.pendingWork.delete(next));
    return next;
  }

  /** Closes every socket (1001) and waits for the `$disconnect` invocations that follow. */
  async shutdown(): Promise<void> {
    for (const connection of this.registry.all())
      if (connection.socket) connection.socket.close(1001, 'Going away (server shutdown)');
    const deadline = Date.now() + 3000;
    while (this.registry.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const connection of this.registry.all()) connection.socket?.terminate();
    await Promise.allSettled([...this.pendingWork]);
    this.server.close();
  }
}
