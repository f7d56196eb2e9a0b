// WebSocket handler helpers: the caller from the authorizer context, the @connections endpoint, error replies.
import type { APIGatewayProxyResult } from 'aws-lambda';
import { errorMessage } from '../presence/messages';
import type { Delivery } from '../delivery/ports';
import { directMessage } from '../delivery/ports';
import type { Deliverer } from '../presence/ports';
import type { CoreConfig } from './config';
import { AppError, RateLimitedError, TokenExpiredError, UnauthorizedError, UnavailableError } from './errors';
import { logger } from './logger';

/** The parts of a WebSocket event's requestContext the handlers read. */
export interface WebSocketRequestContext {
  readonly connectionId?: string;
  readonly domainName?: string;
  readonly stage?: string;
  readonly routeKey?: string;
  readonly authorizer?: { readonly userId?: unknown } | null;
}

/** Who sent a WebSocket message, on which connection, and where to answer. */
export interface WebSocketCaller {
  readonly userId: string;
  readonly connectionId: string;
  readonly endpoint: string;
}

/** The `@connections` base URL: CONNECTIONS_ENDPOINT when set, else derived from the event. */
export function connectionsEndpoint(config: CoreConfig, context: WebSocketRequestContext): string {
  if (config.connectionsEndpoint) return config.connectionsEndpoint;
  return `https://${context.domainName}/${context.stage}`;
}

/** The caller of a WebSocket event (the authorizer context API Gateway passes to every message). */
export function webSocketCaller(config: CoreConfig, context: WebSocketRequestContext): WebSocketCaller {
  const userId = context.authorizer?.userId;
  if (typeof userId !== 'string' || userId === '' || !context.connectionId) {
    throw new UnauthorizedError('no authorized user on this connection');
  }
  return { userId, connectionId: context.connectionId, endpoint: connectionsEndpoint(config, context) };
}

/** A message for the sender's own connection (errors, replies): about nobody, so it carries no version. */
export function replyTo(caller: WebSocketCaller, message: Readonly<Record<string, unknown>>): Delivery {
  return directMessage(caller.userId, caller.connectionId, message);
}

/** A WebSocket integration response. */
export function wsResult(statusCode: number): APIGatewayProxyResult {
  return { statusCode, body: '' };
}

/**
 * Tells the sender what went wrong (`invalid_message`, `unknown_action`, `rate_limited` at most once a second,
 * `unavailable`, `internal`) and returns the matching status. Never sends driver errors or stacks.
 */
export async function replyWithError(
  deliverer: Deliverer,
  caller: WebSocketCaller,
  error: unknown,
): Promise<APIGatewayProxyResult> {
  const known = error instanceof AppError;
  if (!known || error instanceof UnavailableError) {
    logger.error('message failed', { connectionId: caller.connectionId, userId: caller.userId, error: error as Error });
  }
  if (error instanceof RateLimitedError && !error.notify) {
    return wsResult(429);
  }
  // The connection was already told `token_expired` and closed.
  if (error instanceof TokenExpiredError) return wsResult(401);
  const message =
    known && error.expose ? errorMessage(error.code, error.message) : errorMessage('internal', 'Internal error');
  // Through the delivery module: under the deployment-wide rate cap, retried if API Gateway fails for a while.
  await deliverer
    .sendTo(caller.endpoint, replyTo(caller, message))
    .catch((postError: unknown) =>
      logger.warn('could not send error to sender', { connectionId: caller.connectionId, error: String(postError) }),
    );
  return wsResult(known ? error.statusCode : 500);
}
