// $connect: checks the origin and the handshake, registers the connection, echoes the chosen subprotocol.
import type { APIGatewayProxyResult, APIGatewayProxyWebsocketEventV2 } from 'aws-lambda';
import type { ConnectionStatus } from '@presence/layer';
import {
  AppError,
  CONNECTION_STATUSES,
  chosenSubprotocol,
  connectUser,
  getRuntime,
  headerOf,
  isOriginAllowed,
  logger,
  webSocketCaller,
  wsResult,
} from '@presence/layer';

/** The $connect event: the WebSocket event plus the upgrade request's headers and query string. */
type ConnectEvent = APIGatewayProxyWebsocketEventV2 & {
  headers?: Record<string, string | undefined>;
  queryStringParameters?: Record<string, string | undefined> | null;
};

export const handler = async (event: ConnectEvent): Promise<APIGatewayProxyResult> => {
  try {
    const { config, deps } = await getRuntime();
    if (!isOriginAllowed(config.allowedOrigins, headerOf(event.headers, 'Origin'))) return wsResult(403);
    const caller = webSocketCaller(config, event.requestContext);
    const query = event.queryStringParameters ?? {};
    const status = query.status as ConnectionStatus | undefined;
    if (status !== undefined && !CONNECTION_STATUSES.includes(status)) return wsResult(400);
    if (query.detail !== undefined && query.detail !== 'full' && query.detail !== 'status') return wsResult(400);
    const protocol = chosenSubprotocol(event.headers);
    const authorizer = (event.requestContext as { authorizer?: { exp?: unknown } }).authorizer;
    const exp = Number(authorizer?.exp ?? 0);
    await connectUser(deps, {
      ...caller,
      ...(status ? { status } : {}),
      detail: query.detail === 'status' ? 'status' : 'full',
      batch: protocol === 'presence.v2' || query.batch === '1',
      authorizedUntil: Number.isFinite(exp) ? exp : 0,
    });
    return { statusCode: 200, body: '', ...(protocol ? { headers: { 'Sec-WebSocket-Protocol': protocol } } : {}) };
  } catch (error) {
    logger.error('connect failed', { connectionId: event.requestContext.connectionId, error: error as Error });
    return wsResult(error instanceof AppError ? error.statusCode : 500);
  }
};
