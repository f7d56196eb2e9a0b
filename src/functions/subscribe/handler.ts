// subscribe: the connection chooses what it receives (detail full/status); the reply is a `subscribed` message.
import type { APIGatewayProxyResult, APIGatewayProxyWebsocketEventV2 } from 'aws-lambda';
import { ValidationError, handleMessage, subscribe } from '@presence/layer';

export const handler = (event: APIGatewayProxyWebsocketEventV2): Promise<APIGatewayProxyResult> =>
  handleMessage(event, async ({ deps, config, caller, message, authorizedUntil }) => {
    if (message.action !== 'subscribe') throw new ValidationError('expected a subscribe message');
    await subscribe(deps, {
      ...caller,
      maxGroups: config.groupsPerConnection,
      ...(message.detail ? { detail: message.detail } : {}),
      ...(message.groups ? { groups: message.groups } : {}),
      ...(authorizedUntil ? { authorizedUntil } : {}),
    });
  });
