// heartbeat and $default: keeps the connection alive; a bad or unknown message gets an error reply and changes nothing.
import type { APIGatewayProxyResult, APIGatewayProxyWebsocketEventV2 } from 'aws-lambda';
import { handleMessage, heartbeat } from '@presence/layer';

export const handler = (event: APIGatewayProxyWebsocketEventV2): Promise<APIGatewayProxyResult> =>
  handleMessage(event, ({ deps, caller, authorizedUntil }) =>
    heartbeat(deps, { ...caller, ...(authorizedUntil ? { authorizedUntil } : {}) }),
  );
