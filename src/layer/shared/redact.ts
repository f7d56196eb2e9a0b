// Redaction for every log line: tokens, secret query parameters and secret-named fields never reach a log.
import { types } from 'node:util';

/** What a redacted value is replaced with. */
export const REDACTED = '***';

/** Query parameters and fields whose values are secrets (compared case-insensitively). */
const SECRET_NAMES = [
  'authorization',
  'token',
  'access_token',
  'id_token',
  'refresh_token',
  'jwt',
  'password',
  'secret',
  'api_key',
  'apikey',
  'cookie',
  'set-cookie',
  'x-amz-security-token',
  'x-amz-signature',
  'x-amz-credential',
];
const SECRET_NAME_SET = new Set(SECRET_NAMES);

/** A JWT (its header always starts with `eyJ`, base64url of `{"`), signed or not. */
const JWT = /eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*/g;
/** `name=value` of a secret parameter in a query string, a form body or free text. */
const SECRET_PARAM = new RegExp(`(^|[?&;\\s"'])(${SECRET_NAMES.join('|')})=[^&#\\s"']*`, 'gi');
/** An HTTP `Authorization` scheme with its credentials. */
const AUTH_SCHEME = /\b(Bearer|Basic)\s+[^\s,;"']+/gi;

/** Whether a field or parameter of this name holds a secret. */
export function isSecretName(name: string): boolean {
  return SECRET_NAME_SET.has(name.toLowerCase());
}

/** `text` with every token-looking string, secret query parameter value and `Bearer` credential masked. */
export function redactSecrets(text: string): string {
  return text
    .replace(JWT, REDACTED)
    .replace(SECRET_PARAM, (_match, lead: string, name: string) => `${lead}${name}=${REDACTED}`)
    .replace(AUTH_SCHEME, (_match, scheme: string) => `${scheme} ${REDACTED}`);
}

/** Whether `value` is an error, also one created in another realm (Node's own errors seen from a VM context). */
function isError(value: unknown): value is Error {
  return value instanceof Error || types.isNativeError(value);
}

/** An error reduced to what may be logged: name, code, status, redacted message and stack, and its cause likewise. */
export function loggableError(error: Error, depth = 0): Record<string, unknown> {
  const { code, statusCode } = error as Error & { code?: unknown; statusCode?: unknown };
  const httpStatus = (error as Error & { $metadata?: { httpStatusCode?: unknown } }).$metadata?.httpStatusCode;
  const cause = (error as Error & { cause?: unknown }).cause;
  return {
    name: error.name,
    message: redactSecrets(error.message),
    ...(typeof code === 'string' || typeof code === 'number' ? { code } : {}),
    ...(typeof statusCode === 'number' ? { statusCode } : {}),
    ...(typeof httpStatus === 'number' ? { httpStatusCode: httpStatus } : {}),
    ...(typeof error.stack === 'string' ? { stack: redactSecrets(error.stack) } : {}),
    ...(isError(cause) && depth < 3 ? { cause: loggableError(cause, depth + 1) } : {}),
  };
}

/**
 * A `JSON.stringify` replacer for log records: secret-named fields are masked, strings are redacted, and errors are
 * reduced to {@link loggableError} (never their other attributes, which may hold requests, URLs or headers).
 */
export function redactingReplacer(key: string, value: unknown): unknown {
  if (key !== '' && isSecretName(key) && value !== undefined && value !== null) return REDACTED;
  if (typeof value === 'string') return redactSecrets(value);
  if (isError(value)) return loggableError(value);
  return value;
}
