// $disconnect (best effort): removes exactly this connection; the last one starts the grace window.
import type { APIGatewayProxyResult, APIGatewayProxyWebsocketEventV2 } from 'aws-lambda';
import { AppError, disconnect, getRuntime, logger, webSocketCaller, wsResult } from '@presence/layer';

export const handler = async (event: APIGatewayProxyWebsocketEventV2): Promise<APIGatewayProxyResult> => {
  try {
    const { config, deps } = await getRuntime();
    await disconnect(deps, webSocketCaller(config, event.requestContext));
    return wsResult(200);
  } catch (error) {
    // The sweep reaps the connection anyway; log and move on.
    logger.warn('disconnect failed', { connectionId: event.requestContext.connectionId, error: error as Error });
    return wsResult(error instanceof AppError ? error.statusCode : 500);
  }
};
