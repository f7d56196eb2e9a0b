// The HTTP handler of the layer's SQS and EventBridge clients: bounded connect and request times that end the request.
import { NodeHttpHandler } from '@smithy/node-http-handler';

/** Options of {@link boundedHttpHandler}. */
export interface BoundedHttpOptions {
  readonly connectionTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
  readonly maxSockets?: number;
}

/**
 * A keep-alive handler whose request timeout fails the request. Without `throwOnRequestTimeout` the SDK only logs a
 * warning when `requestTimeout` passes and keeps waiting: a request the far end never answers would hold the function
 * until its Lambda timeout.
 */
export function boundedHttpHandler(options: BoundedHttpOptions = {}): NodeHttpHandler {
  const maxSockets = options.maxSockets ?? 64;
  return new NodeHttpHandler({
    connectionTimeout: options.connectionTimeoutMs ?? 1000,
    requestTimeout: options.requestTimeoutMs ?? 3000,
    throwOnRequestTimeout: true,
    httpAgent: { keepAlive: true, maxSockets },
    httpsAgent: { keepAlive: true, maxSockets },
  });
}
