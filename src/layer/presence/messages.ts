// Client message validation and server message builders: the WebSocket half of the wire contract.
import * as z from 'zod/mini';
import { ValidationError } from '../shared/errors';
import type { Activity, ConnectionStatus, Detail, View } from './model';
import { CONNECTION_STATUSES } from './model';

/** Largest accepted WebSocket message, in bytes. */
export const MAX_MESSAGE_BYTES = 8 * 1024;

/** Activity limits (contract, "Activity"). */
export const ACTIVITY_LIMITS = Object.freeze({ keys: 16, valueLength: 256, bytes: 1024 });
const ACTIVITY_KEY = /^[A-Za-z0-9_.-]{1,32}$/;

const statusSchema = z.enum(CONNECTION_STATUSES as [ConnectionStatus, ...ConnectionStatus[]], {
  error: `status must be one of ${CONNECTION_STATUSES.join(', ')}`,
});
const jwtSchema = z.optional(z.string({ error: 'jwt must be a string' }));

const updateSchema = z.object({
  action: z.literal('update-presence'),
  url: z.optional(
    z.string({ error: 'url must be a string' }).check(z.maxLength(2048, 'url must be at most 2048 characters')),
  ),
  title: z.optional(
    z.string({ error: 'title must be a string' }).check(z.maxLength(512, 'title must be at most 512 characters')),
  ),
  status: z.optional(statusSchema),
  message: z.optional(
    z.nullable(
      z
        .string({ error: 'message must be a string or null' })
        .check(z.maxLength(140, 'message must be at most 140 characters')),
    ),
  ),
  seq: z.optional(
    z
      .number({ error: 'seq must be an integer' })
      .check(z.int('seq must be an integer'), z.minimum(0, 'seq must be at least 0')),
  ),
  jwt: jwtSchema,
});

const subscribeSchema = z.object({
  action: z.literal('subscribe'),
  detail: z.optional(z.enum(['full', 'status'], { error: 'detail must be full or status' })),
  groups: z.optional(
    z.array(z.string({ error: 'groups must be a list of group ids' }).check(z.minLength(1), z.maxLength(128)), {
      error: 'groups must be a list of group ids',
    }),
  ),
  jwt: jwtSchema,
});

/** A validated client message. */
export type ClientMessage =
  | { readonly action: 'heartbeat'; readonly jwt?: string }
  | {
      readonly action: 'update-presence';
      readonly url?: string;
      readonly title?: string;
      readonly status?: ConnectionStatus;
      readonly message?: string | null;
      /** `null` clears the activity. */
      readonly activity?: Activity | null;
      readonly seq?: number;
      readonly jwt?: string;
    }
  | {
      readonly action: 'subscribe';
      readonly detail?: Detail;
      readonly groups?: readonly string[];
      readonly jwt?: string;
    };

function fail(result: { error: { issues: readonly { path: PropertyKey[]; message: string }[] } }): never {
  const issue = result.error.issues[0];
  const field = issue?.path.map(String).join('.') || 'message';
  throw new ValidationError(
    issue?.message.startsWith(field) ? issue.message : `${field}: ${issue?.message ?? 'invalid'}`,
  );
}

/** Validates an activity object exactly as the contract says; the error names the field. */
export function parseActivity(value: unknown): Activity | null {
  if (value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value))
    throw new ValidationError('activity must be an object or null');
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > ACTIVITY_LIMITS.keys)
    throw new ValidationError(`activity must have at most ${ACTIVITY_LIMITS.keys} keys`);
  const out = new Map<string, string | number | boolean>();
  for (const [key, item] of entries) {
    if (!ACTIVITY_KEY.test(key))
      throw new ValidationError(`activity key "${key.slice(0, 40)}" must match [A-Za-z0-9_.-]{1,32}`);
    if (typeof item === 'string') {
      if (item.length > ACTIVITY_LIMITS.valueLength) {
        throw new ValidationError(`activity.${key} must be at most ${ACTIVITY_LIMITS.valueLength} characters`);
      }
    } else if (typeof item === 'number') {
      if (!Number.isFinite(item)) throw new ValidationError(`activity.${key} must be a finite number`);
    } else if (typeof item !== 'boolean') {
      throw new ValidationError(`activity.${key} must be a string, a finite number or a boolean`);
    }
    out.set(key, item);
  }
  const activity = Object.fromEntries(out) as Activity;
  if (Buffer.byteLength(JSON.stringify(activity), 'utf8') > ACTIVITY_LIMITS.bytes) {
    throw new ValidationError(`activity must be at most ${ACTIVITY_LIMITS.bytes} bytes serialized`);
  }
  return activity;
}

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
  const raw = json as Record<string, unknown>;
  const action = raw.action;
  const jwt = typeof raw.jwt === 'string' && raw.jwt !== '' ? raw.jwt : undefined;
  if (action === 'heartbeat') return { action: 'heartbeat', ...(jwt ? { jwt } : {}) };
  if (action === 'update-presence') {
    const result = updateSchema.safeParse(json);
    if (!result.success) fail(result);
    const { url, title, status, message, seq } = result.data;
    const activity = Object.prototype.hasOwnProperty.call(raw, 'activity') ? parseActivity(raw.activity) : undefined;
    return {
      action,
      ...(url !== undefined ? { url } : {}),
      ...(title !== undefined ? { title } : {}),
      ...(status !== undefined ? { status } : {}),
      ...(message !== undefined ? { message: message === '' ? null : message } : {}),
      ...(activity !== undefined ? { activity } : {}),
      ...(seq !== undefined ? { seq } : {}),
      ...(jwt ? { jwt } : {}),
    };
  }
  if (action === 'subscribe') {
    const result = subscribeSchema.safeParse(json);
    if (!result.success) fail(result);
    const { detail, groups } = result.data;
    return {
      action,
      ...(detail !== undefined ? { detail } : {}),
      ...(groups !== undefined ? { groups: [...new Set(groups)] } : {}),
      ...(jwt ? { jwt } : {}),
    };
  }
  throw new ValidationError(
    typeof action === 'string' ? `unknown action "${action.slice(0, 64)}"` : 'message has no action',
    'unknown_action',
  );
}

/** Server message: a user's presence changed. */
export function updatePresenceMessage(
  userId: string,
  view: View,
  latest: { url: string; title: string; domain: string } | null,
  lastSeen: number | null,
  v: number,
) {
  return {
    type: 'update-presence' as const,
    userId,
    status: view.status,
    url: view.page.url,
    title: view.page.title,
    domain: view.page.domain,
    latestUrl: latest?.url ?? '',
    latestTitle: latest?.title ?? '',
    latestDomain: latest?.domain ?? '',
    message: view.message === '' ? null : view.message,
    activity: view.activity,
    lastSeen,
    v,
  };
}

/** Server message: a user went offline. */
export function presenceTimeoutMessage(userId: string, lastSeen: number | null, v: number) {
  return { type: 'presence-timeout' as const, userId, lastSeen, v };
}

/** Server message: an error. */
export function errorMessage(code: string, message: string) {
  return { type: 'error' as const, code, message };
}

/** Server message: the server cannot know the user's choice; the client should resend its status and page. */
export const RESYNC_MESSAGE = Object.freeze(
  errorMessage('resync', 'Presence state was lost: resend your status and page'),
);

/** Server message: the connection's token expired; it is closed. */
export const TOKEN_EXPIRED_MESSAGE = Object.freeze(
  errorMessage('token_expired', 'The token of this connection expired: reconnect with a fresh token'),
);
