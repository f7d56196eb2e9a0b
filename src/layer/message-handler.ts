// What every WebSocket message handler does around its use case: parse and validate the body, charge rejected
// messages to the rate limit, apply a renewed token, and answer errors to the sender through the delivery module.
import type { APIGatewayProxyResult, APIGatewayProxyWebsocketEventV2 } from 'aws-lambda';
import type { ClientMessage } from './presence/messages';
import { parseClientMessage } from './presence/messages';
import { chargeRejectedMessage } from './presence/heartbeat';
import type { PresenceDeps } from './presence/ports';
import type { CoreConfig } from './shared/config';
import { ValidationError } from './shared/errors';
import { renewedUntil } from './shared/renewal';
import type { WebSocketCaller } from './shared/websocket';
import { replyWithError, webSocketCaller, wsResult } from './shared/websocket';
import { getRuntime, getVerifier } from './runtime';

/** What a message handler's use case gets. */
export interface MessageContext {
  readonly deps: PresenceDeps;
  readonly config: CoreConfig;
  readonly caller: WebSocketCaller;
  readonly message: ClientMessage;
  /** The expiry of a fresh token the message carried (epoch ms), to extend the connection's authorization. */
  readonly authorizedUntil: number | undefined;
}

/**
 * Runs `useCase` for a WebSocket message event. A message that does not parse, or that the use case rejects as
 * invalid, changes nothing but the connection's rate limit and gets an error reply; other errors are answered too.
 */
export async function handleMessage(
  event: APIGatewayProxyWebsocketEventV2,
  useCase: (context: MessageContext) => Promise<void>,
): Promise<APIGatewayProxyResult> {
  const { config, deps } = await getRuntime();
  const caller = webSocketCaller(config, event.requestContext);
  try {
    let message: ClientMessage;
    try {
      message = parseClientMessage(event.body);
    } catch (rejection) {
      await chargeRejectedMessage(deps, caller);
      throw rejection;
    }
    const authorizedUntil = await renewedUntil(getVerifier, caller.userId, message.jwt);
    try {
      await useCase({ deps, config, caller, message, authorizedUntil });
    } catch (error) {
      if (error instanceof ValidationError) await chargeRejectedMessage(deps, caller).catch(() => undefined);
      throw error;
    }
    return wsResult(200);
  } catch (error) {
    return replyWithError(deps.deliverer, caller, error);
  }
}
