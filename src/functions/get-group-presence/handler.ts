// GET /groups/{groupId}/presence: the members of a group and how many are online, for members only; 403 otherwise.
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { MAX_GROUP_ID_LENGTH, ValidationError, getGroupPresence, handleRest } from '@presence/layer';

export const handler = (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> =>
  handleRest(event, (deps, callerId) => {
    const groupId = event.pathParameters?.groupId;
    if (!groupId || groupId.length > MAX_GROUP_ID_LENGTH)
      throw new ValidationError(`groupId must be 1 to ${MAX_GROUP_ID_LENGTH} characters`);
    return getGroupPresence(deps, callerId, groupId);
  });
