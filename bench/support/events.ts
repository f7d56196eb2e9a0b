// Loads the sample events in events/ and adapts them to a bench case (user, connection, body, token).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

type Json = Record<string, unknown>;

/** The event `events/<name>.json`, with `{{token:user[:expired]}}` placeholders filled by `token`. */
export function loadEvent<T = Json>(name: string, token?: (userId: string) => string): T {
  let text = readFileSync(join(__dirname, '..', '..', 'events', `${name}.json`), 'utf8');
  text = text.replace(/\{\{token:([^}:]+)(:expired)?\}\}/g, (_, user: string) => (token ? token(user) : 'no-token'));
  return JSON.parse(text) as T;
}

/** A WebSocket event (connect, message, disconnect) for `userId` on `connectionId`, as API Gateway sends it. */
export function wsEvent<T = Json>(name: string, userId: string, connectionId: string, body?: unknown): T {
  const event = loadEvent<Json & { requestContext: Json; body?: string }>(name);
  event.requestContext.connectionId = connectionId;
  event.requestContext.authorizer = { userId, principalId: userId, integrationLatency: 10 };
  if (body !== undefined) event.body = typeof body === 'string' ? body : JSON.stringify(body);
  return event as T;
}

/** A REST event for `userId` (and a path user id for GET /presence/{userId}). */
export function restEvent<T = Json>(name: string, userId: string, pathUserId?: string): T {
  const event = loadEvent<Json & { requestContext: Json; pathParameters?: Json | null }>(name);
  event.requestContext.authorizer = { userId, principalId: userId, integrationLatency: 10 };
  if (pathUserId !== undefined) event.pathParameters = { userId: pathUserId };
  return event as T;
}
