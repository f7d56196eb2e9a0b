// $connect: checks the origin, registers the connection, echoes the presence.v1 subprotocol when offered.
import type { APIGatewayProxyResult, APIGatewayProxyWebsocketEventV2 } from 'aws-lambda';
import type { ConnectionStatus } from '@presence/layer';
import {
  AppError, CONNECTION_STATUSES, SUBPROTOCOL, connectUser, getRuntime, headerOf, isOriginAllowed, logger,
  offersSubprotocol, webSocketCaller, wsResult,
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
    const status = event.queryStringParameters?.status as ConnectionStatus | undefined;
    if (status !== undefined && !CONNECTION_STATUSES.includes(status)) return wsResult(400);
    await connectUser(deps, { ...caller, ...(status ? { status } : {}) });
    const headers = offersSubprotocol(event.headers) ? { 'Sec-WebSocket-Protocol': SUBPROTOCOL } : undefined;
    return { statusCode: 200, body: '', ...(headers ? { headers } : {}) };
  } catch (error) {
    logger.error('connect failed', { connectionId: event.requestContext.connectionId, error: error as Error });
    return wsResult(error instanceof AppError ? error.statusCode : 500);
  }
};
