// The local @connections management API: POST (send), GET (connection info), DELETE (close, fires $disconnect); 410 for unknown ids.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ConnectionRegistry } from './connection-registry';
import { readBody, sendJson } from './http-io';
import { MAX_POST_BYTES } from './local-config';
import { logRequest } from './request-log';
import { MALFORMED_PATH, decodePathSegment } from './request-parts';
import type { WebSocketGateway } from './websocket-gateway';

/** `/{stage}/@connections/{id}`, also without the stage. */
const CONNECTIONS_PATH = /^(?:\/[^/]+)?\/@connections\/([^/]+)\/?$/;

/** Whether `pathname` is a `@connections` path. */
export function isConnectionsPath(pathname: string): boolean {
  return CONNECTIONS_PATH.test(pathname);
}

function gone(res: ServerResponse): void {
  sendJson(res, 410, { message: null }, { 'x-amzn-errortype': 'GoneException' });
}

/** Serves one `@connections` request. */
export async function handleConnectionsRequest(
  req: IncomingMessage,
  res: ServerResponse,
  pathname: string,
  registry: ConnectionRegistry,
  gateway: WebSocketGateway,
): Promise<void> {
  const method = req.method ?? 'GET';
  const connectionId = decodePathSegment(CONNECTIONS_PATH.exec(pathname)?.[1] ?? '');
  if (connectionId === null) {
    sendJson(res, 400, MALFORMED_PATH, { 'x-amzn-errortype': 'BadRequestException' });
    return logRequest({ kind: 'CONN', what: `${method} @connections`, status: 400, note: 'malformed path' });
  }
  // API Gateway answers 410 for a connection until its $connect integration has returned: so does this one.
  const found = registry.get(connectionId);
  const connection = found?.socket ? found : undefined;
  const log = (status: number, note?: string) =>
    logRequest({
      kind: 'CONN',
      what: `${method} @connections`,
      status,
      userId: connection?.userId,
      connectionId,
      note,
    });
  if (method === 'POST') {
    const body = await readBody(req, MAX_POST_BYTES + 1);
    if (!connection) return void (gone(res), log(410));
    if (body.length > MAX_POST_BYTES) {
      sendJson(res, 413, { message: 'Request entity too large' }, { 'x-amzn-errortype': 'PayloadTooLargeException' });
      return log(413);
    }
    const data = body.toString('utf8');
    connection.socket?.send(data);
    res.writeHead(200, { 'Content-Length': '0' }).end();
    return log(200, messageType(data));
  }
  if (method === 'GET') {
    if (!connection) return void (gone(res), log(410));
    sendJson(res, 200, {
      connectedAt: new Date(connection.connectedAt).toISOString(),
      identity: connection.identity,
      lastActiveAt: new Date(connection.lastActiveAt).toISOString(),
    });
    return log(200);
  }
  if (method === 'DELETE') {
    if (!connection) return void (gone(res), log(410));
    registry.remove(connectionId);
    if (connection.socket) gateway.closeSocket(connection.socket, 1000, 'Connection deleted');
    res.writeHead(204).end();
    return log(204);
  }
  sendJson(res, 405, { message: 'Method not allowed' });
  log(405);
}

function messageType(data: string): string | undefined {
  try {
    const type = (JSON.parse(data) as { type?: unknown }).type;
    return typeof type === 'string' ? type : undefined;
  } catch {
    return undefined;
  }
}
