// The local REST API: routes from the route table, the REQUEST authorizer, v1 proxy events, CORS preflight.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { corsHeaders } from '@presence/layer';
import { AUTHORIZER_FUNCTION, REST_ROUTES } from '../routes';
import type { RestRoute } from '../routes';
import type { RestRequest } from './api-events';
import { restAuthorizerEvent, restProxyEvent } from './api-events';
import type { GatewayIdentity } from './gateway-identity';
import type { HandlerRegistry } from './handler-registry';
import { lambdaContext } from './handler-registry';
import { readBody, sendJson } from './http-io';
import { invokeAuthorizer } from './invoke-authorizer';
import { logRequest, since } from './request-log';
import { MALFORMED_PATH, decodePathSegment, header } from './request-parts';

interface CompiledRoute {
  readonly route: RestRoute;
  readonly pattern: RegExp;
  readonly params: string[];
}

/** Compiles `/presence/{userId}` into a matcher; `{name+}` is a greedy proxy parameter. */
function compile(route: RestRoute): CompiledRoute {
  const params: string[] = [];
  const source = route.path
    .split('/')
    .map((segment) => {
      const param = /^\{([^}+]+)(\+)?\}$/.exec(segment);
      if (!param) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      params.push(param[1] as string);
      return param[2] ? '(.+)' : '([^/]+)';
    })
    .join('/');
  return { route, pattern: new RegExp(`^${source}/?$`), params };
}

const COMPILED = REST_ROUTES.map(compile);

/** The routes whose path matches `pathname`, with their path parameters still percent-encoded. */
function match(pathname: string): { compiled: CompiledRoute; rawParameters: string[] }[] {
  const found = [];
  for (const compiled of COMPILED) {
    const m = compiled.pattern.exec(pathname);
    if (m) found.push({ compiled, rawParameters: m.slice(1) as string[] });
  }
  return found;
}

/** The decoded path parameters of a matched route; null when one of them is malformed percent-encoding. */
function pathParametersOf(compiled: CompiledRoute, raw: readonly string[]): Record<string, string> | null | undefined {
  if (compiled.params.length === 0) return null;
  const parameters: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [i, name] of compiled.params.entries()) {
    const value = decodePathSegment(raw[i] ?? '');
    if (value === null) return undefined;
    parameters[name] = value;
  }
  return parameters;
}

/** Whether `pathname` belongs to the REST API (any method). */
export function isRestPath(pathname: string): boolean {
  return match(pathname).length > 0;
}

/** The REST half of the local API Gateway. */
export class RestGateway {
  constructor(
    private readonly gw: GatewayIdentity,
    private readonly handlers: HandlerRegistry,
    private readonly allowedOrigins: () => readonly string[],
  ) {}

  /** Serves a request on a REST path: preflight, authorizer, integration. */
  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const started = performance.now();
    const method = req.method ?? 'GET';
    const origin = header(req, 'origin');
    const cors = corsHeaders(this.allowedOrigins(), origin);
    const what = `${method} ${url.pathname}`;
    const candidates = match(url.pathname);
    if (method === 'OPTIONS') {
      // The deployed API answers preflights itself (mock integration), without the authorizer.
      res.writeHead(204, { ...cors, ...(Object.keys(cors).length ? { 'Access-Control-Max-Age': '600' } : {}) }).end();
      return logRequest({
        kind: 'REST',
        what,
        status: 204,
        ms: since(started),
        note: origin ? `preflight from ${origin}` : 'preflight',
      });
    }
    const hit = candidates.find((c) => c.compiled.route.method === method);
    if (!hit) {
      sendJson(res, 404, { message: 'Not Found' }, cors);
      return logRequest({ kind: 'REST', what, status: 404, ms: since(started) });
    }
    const pathParameters = pathParametersOf(hit.compiled, hit.rawParameters);
    if (pathParameters === undefined) {
      // API Gateway refuses such a path itself, before the authorizer and the integration.
      sendJson(res, 400, MALFORMED_PATH, cors);
      return logRequest({ kind: 'REST', what, status: 400, ms: since(started), note: 'malformed path' });
    }
    const body = method === 'GET' || method === 'HEAD' ? null : (await readBody(req)).toString('utf8') || null;
    const request: RestRequest = { req, url, resource: hit.compiled.route.path, pathParameters, body };
    let authorizer;
    let userId: string | undefined;
    if (hit.compiled.route.authorized) {
      const outcome = await invokeAuthorizer(this.handlers[AUTHORIZER_FUNCTION], restAuthorizerEvent(this.gw, request));
      if (!outcome.allowed) {
        sendJson(
          res,
          outcome.statusCode,
          { message: outcome.message },
          {
            ...cors,
            'x-amzn-ErrorType': outcome.statusCode === 401 ? 'UnauthorizedException' : 'AccessDeniedException',
          },
        );
        return logRequest({ kind: 'REST', what, status: outcome.statusCode, ms: since(started), note: 'authorizer' });
      }
      authorizer = outcome.context;
      userId = outcome.userId;
    }
    const event = restProxyEvent(this.gw, request, authorizer);
    let result: {
      statusCode?: number;
      headers?: Record<string, unknown>;
      multiValueHeaders?: Record<string, unknown[]>;
      body?: string;
      isBase64Encoded?: boolean;
    };
    try {
      const fn = hit.compiled.route.functionName;
      result = ((await this.handlers[fn](event, lambdaContext(fn, event.requestContext.requestId, 29_000))) ??
        {}) as typeof result;
    } catch {
      sendJson(res, 502, { message: 'Internal server error' }, cors);
      return logRequest({ kind: 'REST', what, status: 502, userId, ms: since(started), note: 'handler threw' });
    }
    const headers: Record<string, string | string[]> = { 'x-amzn-RequestId': event.requestContext.requestId };
    for (const [k, v] of Object.entries(result.headers ?? {})) headers[k] = String(v);
    for (const [k, v] of Object.entries(result.multiValueHeaders ?? {})) headers[k] = v.map(String);
    const payload =
      result.body === undefined
        ? Buffer.alloc(0)
        : Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8');
    headers['Content-Length'] = String(payload.length);
    const status = typeof result.statusCode === 'number' ? result.statusCode : 502;
    res.writeHead(status, headers).end(payload);
    logRequest({ kind: 'REST', what, status, userId, ms: since(started) });
  }
}
