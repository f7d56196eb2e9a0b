// GET /presence/{userId}: one user's presence, for the user themself or an accepted friend; 403 for anyone else.
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { MAX_USER_ID_LENGTH, ValidationError, getUserPresence, handleRest } from '@presence/layer';

export const handler = (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> =>
  handleRest(event, (deps, callerId) => {
    const targetId = event.pathParameters?.userId;
    if (!targetId || targetId.length > MAX_USER_ID_LENGTH)
      throw new ValidationError('userId must be 1 to 128 characters');
    return getUserPresence(deps, callerId, targetId);
  });
