// REST helpers: JSON responses with CORS for allowed origins, and the one error mapper.
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { PresenceDeps } from '../presence/ports';
import { getRuntime } from '../runtime';
import { isOriginAllowed } from './config';
import { AppError, UnauthorizedError } from './errors';
import { headerOf } from './auth';
import { logger } from './logger';

/** CORS headers for a request from `origin` (none when the origin is not allowed or absent). */
export function corsHeaders(allowed: readonly string[], origin: string | undefined): Record<string, string> {
  if (!origin || !isOriginAllowed(allowed, origin)) return {};
  return {
    'Access-Control-Allow-Origin': allowed.includes('*') ? '*' : origin,
    'Access-Control-Allow-Headers': 'Authorization,Content-Type',
    'Access-Control-Allow-Methods': 'GET,OPTIONS',
    Vary: 'Origin',
  };
}

/** A JSON response. */
export function jsonResponse(
  statusCode: number,
  body: unknown,
  request: { headers?: Record<string, string | undefined> | null },
  allowedOrigins: readonly string[],
): APIGatewayProxyResult {
  return {
    statusCode,
    headers: {
      'Content-Type': 'application/json',
      'Cache-Control': 'no-store',
      ...corsHeaders(allowedOrigins, headerOf(request.headers, 'Origin')),
    },
    body: JSON.stringify(body),
  };
}

/** Maps an error to its status and a safe body: domain errors keep their message; anything else is a generic 500. */
export function errorBody(error: unknown): { statusCode: number; body: { message: string } } {
  if (error instanceof AppError && error.expose)
    return { statusCode: error.statusCode, body: { message: error.message } };
  return { statusCode: 500, body: { message: 'Internal server error' } };
}

/** The caller as the authorizer described it. */
export interface RestCaller {
  readonly userId: string;
  /** The token's `cognito:groups` (the authorizer passes them as a JSON array text). */
  readonly groups: readonly string[];
}

/** The groups of an authorizer context's `groups` value: a JSON array of strings; anything else is no group. */
export function groupsOf(value: unknown): string[] {
  if (typeof value !== 'string' || !value.startsWith('[')) return [];
  try {
    const parsed = JSON.parse(value) as unknown;
    return Array.isArray(parsed) ? parsed.filter((g): g is string => typeof g === 'string') : [];
  } catch {
    return [];
  }
}

/**
 * Runs a REST use case for the authorized caller and maps its result (200) or error (safe body, CORS kept) to a
 * response. The caller comes from the authorizer context.
 */
export async function handleRest(
  event: APIGatewayProxyEvent,
  useCase: (deps: PresenceDeps, callerId: string, caller: RestCaller) => Promise<unknown>,
): Promise<APIGatewayProxyResult> {
  let origins: readonly string[] = [];
  try {
    const { config, deps } = await getRuntime();
    origins = config.allowedOrigins;
    const callerId = event.requestContext.authorizer?.userId as unknown;
    if (typeof callerId !== 'string' || callerId === '') throw new UnauthorizedError();
    const caller = { userId: callerId, groups: groupsOf(event.requestContext.authorizer?.groups) };
    return jsonResponse(200, await useCase(deps, callerId, caller), event, origins);
  } catch (error) {
    const { statusCode, body } = errorBody(error);
    if (statusCode >= 500) logger.error('request failed', { path: event.resource, error: error as Error });
    return jsonResponse(statusCode, body, event, origins);
  }
}
