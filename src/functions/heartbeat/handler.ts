// heartbeat and $default: keeps the connection alive; a bad or unknown message gets an error reply and changes nothing.
import type { APIGatewayProxyResult, APIGatewayProxyWebsocketEventV2 } from 'aws-lambda';
import {
  chargeRejectedMessage, getRuntime, heartbeat, parseClientMessage, replyWithError, webSocketCaller, wsResult,
} from '@presence/layer';

export const handler = async (event: APIGatewayProxyWebsocketEventV2): Promise<APIGatewayProxyResult> => {
  const { config, deps } = await getRuntime();
  const caller = webSocketCaller(config, event.requestContext);
  let rejection: unknown;
  try {
    parseClientMessage(event.body);
  } catch (error) {
    rejection = error;
  }
  try {
    if (rejection) {
      await chargeRejectedMessage(deps, caller);
      return await replyWithError(deps.gateway, caller, rejection);
    }
    await heartbeat(deps, caller);
    return wsResult(200);
  } catch (error) {
    return replyWithError(deps.gateway, caller, error);
  }
};
