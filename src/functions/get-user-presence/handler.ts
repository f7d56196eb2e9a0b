// GET /presence/{userId}: one user's presence, for the user themself or an accepted friend; 403 for anyone else.
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import {
  MAX_USER_ID_LENGTH, UnauthorizedError, ValidationError, errorBody, getRuntime, getUserPresence, jsonResponse, logger,
} from '@presence/layer';

export const handler = async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
  let origins: readonly string[] = [];
  try {
    const { config, deps } = await getRuntime();
    origins = config.allowedOrigins;
    const callerId = event.requestContext.authorizer?.userId as unknown;
    if (typeof callerId !== 'string' || callerId === '') throw new UnauthorizedError();
    const targetId = event.pathParameters?.userId;
    if (!targetId || targetId.length > MAX_USER_ID_LENGTH) throw new ValidationError('userId must be 1 to 128 characters');
    return jsonResponse(200, await getUserPresence(deps, callerId, targetId), event, origins);
  } catch (error) {
    const { statusCode, body } = errorBody(error);
    if (statusCode >= 500) logger.error('get-user-presence failed', { error: error as Error });
    return jsonResponse(statusCode, body, event, origins);
  }
};
