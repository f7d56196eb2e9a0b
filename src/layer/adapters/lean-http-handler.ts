// An SDK request handler for small calls at a high rate: per request one node:http request, one timer, no streams.
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import type { ClientRequestArgs, IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Duplex } from 'node:stream';
import { HttpResponse, buildQueryString } from '@smithy/core/protocols';
import type { HttpHandler, HttpHandlerOptions, HttpRequest } from '@smithy/core/protocols';
import type { BoundedHttpOptions } from './aws-http';

type Connect = (error: Error | null, stream: Duplex) => void;

function timeoutError(message: string): Error {
  return Object.assign(new Error(message), { name: 'TimeoutError', code: 'ETIMEDOUT' });
}

function abortError(signal: { reason?: unknown }): Error {
  const reason = signal.reason;
  return Object.assign(new Error(reason instanceof Error ? reason.message : 'Request aborted'), {
    name: 'AbortError',
    cause: reason,
  });
}

/**
 * Ends a connection attempt that takes longer than `timeoutMs`. Set per new socket, not per request: with keep-alive
 * most requests reuse a connected socket, and the request timeout bounds them anyway.
 */
function boundConnect(socket: Duplex | null | undefined, timeoutMs: number): Duplex | null | undefined {
  if (!socket || !(socket as Duplex & { connecting?: boolean }).connecting) return socket;
  const timer = setTimeout(
    () => socket.destroy(timeoutError(`no connection within the connection timeout of ${timeoutMs} ms`)),
    timeoutMs,
  );
  const clear = (): void => clearTimeout(timer);
  socket.once('connect', clear);
  socket.once('close', clear);
  return socket;
}

/** `agent` with every new socket bounded by {@link boundConnect} (an https agent is an http agent with TLS sockets). */
function withConnectTimeout<A extends HttpAgent>(agent: A, connectionTimeoutMs: number): A {
  const agentWithCreate = agent as unknown as {
    createConnection(options: ClientRequestArgs, callback?: Connect): Duplex | null | undefined;
  };
  const create = agentWithCreate.createConnection.bind(agent);
  agentWithCreate.createConnection = (options, callback) =>
    boundConnect(create(options, callback), connectionTimeoutMs);
  return agent;
}

/** Response headers as the SDK reads them: one string per name (node gives `set-cookie` as an array). */
function headerBag(headers: IncomingHttpHeaders): Record<string, string> {
  if (headers['set-cookie'] === undefined) return headers as Record<string, string>;
  const bag: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) bag[name] = Array.isArray(value) ? value.join(',') : value;
  }
  return bag;
}

/**
 * A keep-alive HTTP/1.1 handler with the bounds of {@link boundedHttpHandler} (a connection timeout per new socket, a
 * request timeout that fails the request, the abort signal) and nothing else per request: NodeHttpHandler arms four
 * timers and several socket listeners per request and hands the SDK the response as a stream it then pipes into a
 * collector. This one reads the response body itself, so it suits APIs whose answers are small (the @connections API
 * answers a post with an empty body, an error with a short JSON); the request timeout covers the body too.
 */
export class LeanHttpHandler implements HttpHandler {
  readonly metadata = { handlerProtocol: 'http/1.1' };
  private readonly httpAgent: HttpAgent;
  private readonly httpsAgent: HttpsAgent;
  private readonly requestTimeoutMs: number;

  constructor(options: BoundedHttpOptions = {}) {
    const maxSockets = options.maxSockets ?? 64;
    const connectionTimeoutMs = options.connectionTimeoutMs ?? 1000;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 3000;
    this.httpAgent = withConnectTimeout(new HttpAgent({ keepAlive: true, maxSockets }), connectionTimeoutMs);
    this.httpsAgent = withConnectTimeout(new HttpsAgent({ keepAlive: true, maxSockets }), connectionTimeoutMs);
  }

  handle(request: HttpRequest, options: HttpHandlerOptions = {}): Promise<{ response: HttpResponse }> {
    const signal = options.abortSignal as AbortSignal | undefined;
    const timeoutMs = options.requestTimeout ?? this.requestTimeoutMs;
    return new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(abortError(signal));
        return;
      }
      const https = request.protocol === 'https:';
      const query = request.query ? buildQueryString(request.query) : '';
      const hostname = request.hostname.startsWith('[') ? request.hostname.slice(1, -1) : request.hostname;
      const req = (https ? httpsRequest : httpRequest)({
        host: hostname,
        port: request.port,
        method: request.method,
        path: query ? `${request.path}?${query}` : request.path,
        headers: request.headers,
        agent: https ? this.httpsAgent : this.httpAgent,
      });
      let settled = false;
      const settle = (): boolean => {
        if (settled) return false;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        return true;
      };
      const fail = (error: Error): void => {
        if (!settle()) return;
        req.destroy();
        reject(error);
      };
      const onAbort = (): void => fail(abortError(signal!));
      const timer = setTimeout(
        () => fail(timeoutError(`no complete response within the request timeout of ${timeoutMs} ms`)),
        timeoutMs,
      );
      signal?.addEventListener('abort', onAbort, { once: true });
      // Kept after settling: a late socket error must not become an unhandled 'error' event.
      req.on('error', fail);
      req.on('response', (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', fail);
        res.on('end', () => {
          if (!settle()) return;
          resolve({
            response: new HttpResponse({
              statusCode: res.statusCode ?? -1,
              reason: res.statusMessage,
              headers: headerBag(res.headers),
              // A byte array, not a stream: the SDK's body collector takes it as it is.
              body: chunks.length === 0 ? new Uint8Array(0) : chunks.length === 1 ? chunks[0] : Buffer.concat(chunks),
            }),
          });
        });
      });
      const body: unknown = request.body;
      if (body && typeof (body as NodeJS.ReadableStream).pipe === 'function') (body as NodeJS.ReadableStream).pipe(req);
      else req.end(body as string | Uint8Array | undefined);
    });
  }

  updateHttpClientConfig(): void {
    // Nothing to update: the bounds are fixed at construction (the SDK offers its logger and socket timeout here).
  }

  httpHandlerConfigs(): Record<string, never> {
    return {};
  }

  destroy(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}
