// Loads the real-shaped sample events of this folder and adapts them to a caller (tests, bench, `npm run invoke`).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

type Json = Record<string, unknown>;

/** Fills `{{token:user}}` / `{{token:user:expired}}` placeholders with `token(user, expired)` (or `no-token`). */
export function fillTokens(text: string, token?: (userId: string, expired: boolean) => string): string {
  return text.replace(/\{\{token:([^}:]+)(:expired)?\}\}/g, (_, user: string, expired?: string) =>
    token ? token(user, Boolean(expired)) : 'no-token',
  );
}

/** The event `events/<name>.json`, with its token placeholders filled by `token`. */
export function loadEvent<T = Json>(name: string, token?: (userId: string, expired: boolean) => string): T {
  return JSON.parse(fillTokens(readFileSync(join(__dirname, `${name}.json`), 'utf8'), token)) as T;
}

/** A WebSocket event (connect, message, disconnect) for `userId` on `connectionId`, as API Gateway sends it. */
export function wsEvent<T = Json>(name: string, userId: string, connectionId: string, body?: unknown): T {
  const event = loadEvent<Json & { requestContext: Json; body?: string }>(name);
  event.requestContext.connectionId = connectionId;
  event.requestContext.authorizer = { userId, principalId: userId, integrationLatency: 10 };
  if (body !== undefined) event.body = typeof body === 'string' ? body : JSON.stringify(body);
  return event as T;
}

/** A REST event for `userId` (and the path user id of GET /presence/{userId}). */
export function restEvent<T = Json>(name: string, userId: string, pathUserId?: string): T {
  const event = loadEvent<Json & { requestContext: Json; pathParameters?: Json | null }>(name);
  event.requestContext.authorizer = { userId, principalId: userId, integrationLatency: 10 };
  if (pathUserId !== undefined) event.pathParameters = { userId: pathUserId };
  return event as T;
}
