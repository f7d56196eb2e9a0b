// GET /presence: the caller's own presence and their accepted friends'.
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { UnauthorizedError, errorBody, getPresenceOverview, getRuntime, jsonResponse, logger } from '@presence/layer';

export const handler = async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
  let origins: readonly string[] = [];
  try {
    const { config, deps } = await getRuntime();
    origins = config.allowedOrigins;
    const userId = event.requestContext.authorizer?.userId as unknown;
    if (typeof userId !== 'string' || userId === '') throw new UnauthorizedError();
    return jsonResponse(200, await getPresenceOverview(deps, userId), event, origins);
  } catch (error) {
    const { statusCode, body } = errorBody(error);
    if (statusCode >= 500) logger.error('get-presence failed', { error: error as Error });
    return jsonResponse(statusCode, body, event, origins);
  }
};
