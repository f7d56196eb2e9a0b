// Client message validation and server message builders: the WebSocket half of the wire contract.
import * as z from 'zod/mini';
import { ValidationError } from '../shared/errors';
import type { ConnectionStatus, PresenceSnapshot, View } from './model';
import { CONNECTION_STATUSES } from './model';

/** Largest accepted WebSocket message, in bytes. */
export const MAX_MESSAGE_BYTES = 8 * 1024;

const updateSchema = z.object({
  action: z.literal('update-presence'),
  url: z.optional(z.string().check(z.maxLength(2048, 'url must be at most 2048 characters'))),
  title: z.optional(z.string().check(z.maxLength(512, 'title must be at most 512 characters'))),
  status: z.optional(
    z.enum(CONNECTION_STATUSES as [ConnectionStatus, ...ConnectionStatus[]], {
      error: `status must be one of ${CONNECTION_STATUSES.join(', ')}`,
    }),
  ),
  message: z.optional(z.nullable(z.string().check(z.maxLength(140, 'message must be at most 140 characters')))),
});

/** A validated client message. */
export type ClientMessage =
  | { readonly action: 'heartbeat' }
  | {
      readonly action: 'update-presence';
      readonly url?: string;
      readonly title?: string;
      readonly status?: ConnectionStatus;
      readonly message?: string | null;
    };

/**
 * Parses a WebSocket message body. Throws {@link ValidationError} with code `invalid_message` (not JSON, too large,
 * bad field: the message names the field) or `unknown_action`.
 */
export function parseClientMessage(body: string | null | undefined): ClientMessage {
  const text = body ?? '';
  if (Buffer.byteLength(text, 'utf8') > MAX_MESSAGE_BYTES) {
    throw new ValidationError(`message must be at most ${MAX_MESSAGE_BYTES} bytes`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ValidationError('message must be a JSON object');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new ValidationError('message must be a JSON object');
  }
  const action = (json as { action?: unknown }).action;
  if (action === 'heartbeat') return { action: 'heartbeat' };
  if (action === 'update-presence') {
    const result = updateSchema.safeParse(json);
    if (!result.success) {
      const issue = result.error.issues[0];
      const field = issue?.path.join('.') || 'message';
      throw new ValidationError(issue?.message.startsWith(field) ? issue.message : `${field}: ${issue?.message ?? 'invalid'}`);
    }
    const { url, title, status, message } = result.data;
    return {
      action,
      ...(url !== undefined ? { url } : {}),
      ...(title !== undefined ? { title } : {}),
      ...(status !== undefined ? { status } : {}),
      ...(message !== undefined ? { message: message === '' ? null : message } : {}),
    };
  }
  throw new ValidationError(
    typeof action === 'string' ? `unknown action "${action.slice(0, 64)}"` : 'message has no action',
    'unknown_action',
  );
}

/** Server message: a user's presence changed. */
export function updatePresenceMessage(userId: string, view: View, snapshot: PresenceSnapshot, lastSeen: number | null) {
  return {
    type: 'update-presence' as const,
    userId,
    status: view.status,
    url: view.page.url,
    title: view.page.title,
    domain: view.page.domain,
    latestUrl: snapshot.latestPage?.url ?? '',
    latestTitle: snapshot.latestPage?.title ?? '',
    latestDomain: snapshot.latestPage?.domain ?? '',
    message: view.message === '' ? null : view.message,
    lastSeen,
  };
}

/** Server message: a user went offline. */
export function presenceTimeoutMessage(userId: string, lastSeen: number | null) {
  return { type: 'presence-timeout' as const, userId, lastSeen };
}

/** Server message: an error. */
export function errorMessage(code: string, message: string) {
  return { type: 'error' as const, code, message };
}
