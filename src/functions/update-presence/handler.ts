// update-presence: validates the message, applies page/status/message/activity, notifies friends and own connections.
import type { APIGatewayProxyResult, APIGatewayProxyWebsocketEventV2 } from 'aws-lambda';
import {
  chargeRejectedMessage,
  getRuntime,
  getVerifier,
  parseClientMessage,
  renewedUntil,
  replyWithError,
  updatePresence,
  webSocketCaller,
  wsResult,
} from '@presence/layer';

export const handler = async (event: APIGatewayProxyWebsocketEventV2): Promise<APIGatewayProxyResult> => {
  const { config, deps } = await getRuntime();
  const caller = webSocketCaller(config, event.requestContext);
  let message: ReturnType<typeof parseClientMessage>;
  try {
    message = parseClientMessage(event.body);
  } catch (rejection) {
    try {
      await chargeRejectedMessage(deps, caller);
      return await replyWithError(deps.gateway, caller, rejection);
    } catch (error) {
      return replyWithError(deps.gateway, caller, error);
    }
  }
  try {
    const authorizedUntil = await renewedUntil(getVerifier, caller.userId, message.jwt);
    if (message.action === 'update-presence') {
      const { action: _action, jwt: _jwt, ...update } = message;
      await updatePresence(deps, { ...caller, ...update, ...(authorizedUntil ? { authorizedUntil } : {}) });
    }
    return wsResult(200);
  } catch (error) {
    return replyWithError(deps.gateway, caller, error);
  }
};
