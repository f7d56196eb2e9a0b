// subscribe: the connection chooses what it receives (detail full/status); the reply is a `subscribed` message.
import type { APIGatewayProxyResult, APIGatewayProxyWebsocketEventV2 } from 'aws-lambda';
import {
  ValidationError,
  chargeRejectedMessage,
  getRuntime,
  getVerifier,
  parseClientMessage,
  renewedUntil,
  replyWithError,
  subscribe,
  webSocketCaller,
  wsResult,
} from '@presence/layer';

export const handler = async (event: APIGatewayProxyWebsocketEventV2): Promise<APIGatewayProxyResult> => {
  const { config, deps } = await getRuntime();
  const caller = webSocketCaller(config, event.requestContext);
  try {
    const message = parseClientMessage(event.body);
    if (message.action !== 'subscribe') throw new ValidationError('expected a subscribe message');
    if (message.groups && message.groups.length > config.groupsPerConnection) {
      throw new ValidationError(`groups must list at most ${config.groupsPerConnection} groups`);
    }
    await renewedUntil(getVerifier, caller.userId, message.jwt);
    const reply = await subscribe(deps, {
      userId: caller.userId,
      connectionId: caller.connectionId,
      ...(message.detail ? { detail: message.detail } : {}),
      ...(message.groups ? { groups: message.groups } : {}),
    });
    await deps.gateway.post(caller.endpoint, caller.connectionId, JSON.stringify(reply));
    return wsResult(200);
  } catch (error) {
    if (error instanceof ValidationError) await chargeRejectedMessage(deps, caller).catch(() => undefined);
    return replyWithError(deps.gateway, caller, error);
  }
};
