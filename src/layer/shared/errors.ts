// Domain and infrastructure errors: each carries a code, an HTTP status and whether its message is safe to show.

/** Base class of every error this service raises on purpose. */
export class AppError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly statusCode: number,
    /** Whether `message` may be shown to the client. */
    readonly expose: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad input: 400 / WebSocket `invalid_message`. Changes nothing. */
export class ValidationError extends AppError {
  constructor(message: string, code = 'invalid_message') {
    super(message, code, 400, true);
  }
}

/** Missing, malformed, expired or foreign token. */
export class UnauthorizedError extends AppError {
  constructor(message = 'Unauthorized') {
    super(message, 'unauthorized', 401, true);
  }
}

/** The caller may not see this resource. */
export class ForbiddenError extends AppError {
  constructor(message = 'Forbidden') {
    super(message, 'forbidden', 403, true);
  }
}

/** The connection sent more than its rate allows; the message was dropped. */
export class RateLimitedError extends AppError {
  constructor(
    /** Whether to tell the client (at most once a second; the rest are dropped silently). */
    readonly notify = true,
  ) {
    super('Too many messages: slow down', 'rate_limited', 429, true);
  }
}

/** A backing store (Redis, Postgres) is unreachable or too slow: the client may retry. */
export class UnavailableError extends AppError {
  constructor(
    readonly dependency: string,
    options?: { cause?: unknown },
  ) {
    super('Service temporarily unavailable, please retry', 'unavailable', 503, true, options);
  }
}

/** Invalid configuration: raised at cold start, naming the key. */
export class ConfigError extends AppError {
  constructor(message: string) {
    super(message, 'config', 500, false);
  }
}

/** The connection's token expired (plus AUTH_GRACE_SECONDS): it was told `token_expired` and closed. */
export class TokenExpiredError extends AppError {
  constructor() {
    super('The token of this connection expired', 'token_expired', 401, true);
  }
}
