// GET /presence: the caller's own presence and their accepted friends'.
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { getPresenceOverview, handleRest } from '@presence/layer';

export const handler = (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> =>
  handleRest(event, (deps, callerId) => getPresenceOverview(deps, callerId));
