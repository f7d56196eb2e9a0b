// heartbeat and $default: keeps the connection alive; a bad or unknown message gets an error reply and changes nothing.
import type { APIGatewayProxyResult, APIGatewayProxyWebsocketEventV2 } from 'aws-lambda';
import {
  chargeRejectedMessage,
  getRuntime,
  getVerifier,
  heartbeat,
  parseClientMessage,
  renewedUntil,
  replyWithError,
  webSocketCaller,
  wsResult,
} from '@presence/layer';

export const handler = async (event: APIGatewayProxyWebsocketEventV2): Promise<APIGatewayProxyResult> => {
  const { config, deps } = await getRuntime();
  const caller = webSocketCaller(config, event.requestContext);
  let rejection: unknown;
  let jwt: string | undefined;
  try {
    const message = parseClientMessage(event.body);
    jwt = message.jwt;
  } catch (error) {
    rejection = error;
  }
  try {
    if (rejection) {
      await chargeRejectedMessage(deps, caller);
      return await replyWithError(deps.gateway, caller, rejection);
    }
    const authorizedUntil = await renewedUntil(getVerifier, caller.userId, jwt);
    await heartbeat(deps, { ...caller, ...(authorizedUntil ? { authorizedUntil } : {}) });
    return wsResult(200);
  } catch (error) {
    return replyWithError(deps.gateway, caller, error);
  }
};
