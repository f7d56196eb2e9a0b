// update-presence: validates the message, applies page/status/message/activity, notifies friends and own connections.
import type { APIGatewayProxyResult, APIGatewayProxyWebsocketEventV2 } from 'aws-lambda';
import { handleMessage, updatePresence } from '@presence/layer';

export const handler = (event: APIGatewayProxyWebsocketEventV2): Promise<APIGatewayProxyResult> =>
  handleMessage(event, async ({ deps, caller, message, authorizedUntil }) => {
    if (message.action !== 'update-presence') return;
    const { action: _action, jwt: _jwt, ...update } = message;
    await updatePresence(deps, { ...caller, ...update, ...(authorizedUntil ? { authorizedUntil } : {}) });
  });
