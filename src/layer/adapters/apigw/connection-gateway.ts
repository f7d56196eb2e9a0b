// ConnectionGateway on the real @aws-sdk/client-apigatewaymanagementapi client: posts, closes, and recognizes 410.
import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { getSchemaSerdePlugin } from '@smithy/core/schema';
import type { ConnectionGateway, PostOutcome } from '../../presence/ports';
import { createLimiter } from '../../shared/async';
import { LeanHttpHandler } from '../lean-http-handler';

/** Whether an SDK error means the connection no longer exists. */
export function isGone(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  return e?.name === 'GoneException' || e?.$metadata?.httpStatusCode === 410;
}

/** Whether an SDK error is API Gateway throttling the account's @connections calls. */
export function isThrottled(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  return (
    e?.name === 'TooManyRequestsException' ||
    e?.name === 'LimitExceededException' ||
    e?.$metadata?.httpStatusCode === 429
  );
}

/**
 * Resolves every call to `endpoint` as given instead of through the endpoint rule set, which for a custom endpoint only
 * ever returns that endpoint.
 */
export function useFixedEndpoint(client: ApiGatewayManagementApiClient, endpoint: string): void {
  const url = new URL(endpoint);
  client.config.endpointProvider = () => ({ url });
}

/**
 * Builds the SigV4 signer once per client: the SDK builds a new one for every call, copying the whole client config
 * into it. The signer holds nothing per call, and the SDK caches the signing key either way.
 */
export function useOneSigner(client: ApiGatewayManagementApiClient): void {
  const build = client.config.signer;
  let signer: ReturnType<typeof build> | undefined;
  client.config.signer = (authScheme) =>
    (signer ??= build(authScheme).catch((error: unknown) => {
      signer = undefined;
      throw error;
    }));
}

/**
 * Replaces the retry middleware with one that passes the call on: at one attempt it only costs, creating an Error (a
 * stack trace) and an invocation id per call whatever the retry strategy. It is replaced rather than removed because
 * the signing middleware is placed after it.
 */
export function skipRetries(client: ApiGatewayManagementApiClient): void {
  client.middlewareStack.remove('retryMiddleware');
  client.middlewareStack.add((next) => next, {
    name: 'retryMiddleware',
    step: 'finalizeRequest',
    priority: 'high',
    tags: ['RETRY'],
  });
}

/**
 * Gives the SDK's per-call config copies a plain object to copy. The serializer, the deserializer and the endpoint
 * middleware each spread the whole client config (`{ ...config }`, 45 keys) on every call; the client's own config is
 * a dictionary-mode object (the SDK redefines its `credentials` as an accessor after the fact), and each copy of it
 * costs about 13 µs here against about 1 µs for the same keys in a plain object. The copy holds the same values, the
 * resolved credentials provider included; the commands' endpoint middleware reads `client.config` at send time. The
 * serde plugin is added again (it overrides the one the client added) on only the keys the schema serde reads (see
 * {@link SERDE_CONFIG_KEYS}): its `{ ...config, ...context }` merge per call then copies the call's context and those
 * keys, not the 45 of the config. Call it after every other change to the config.
 */
export function useFastConfig(client: ApiGatewayManagementApiClient): void {
  const fast = { ...client.config };
  const config = fast as unknown as Record<string, unknown>;
  const serde = Object.fromEntries(SERDE_CONFIG_KEYS.filter((key) => key in config).map((key) => [key, config[key]]));
  client.middlewareStack.use(getSchemaSerdePlugin(serde as unknown as Parameters<typeof getSchemaSerdePlugin>[0]));
  (client as { config: typeof fast }).config = fast;
}

/**
 * The client config keys `@smithy/core`'s schema serde and the REST-JSON protocol read, from the merged
 * `{ ...config, ...context }` of each call and from the serde context set once: the protocol itself, the endpoint
 * (when the context has no `endpointV2`), the body collector, the encoders, the host-prefix switch and the event-stream
 * marshaller (this API has no event streams). Everything else they read comes from the call's context.
 */
export const SERDE_CONFIG_KEYS = [
  'protocol',
  'endpoint',
  'streamCollector',
  'utf8Encoder',
  'utf8Decoder',
  'base64Encoder',
  'base64Decoder',
  'disableHostPrefix',
  'eventStreamMarshaller',
];

/** SDK middleware the gateway's clients run without (see the client setup). */
export const LEAN_REMOVED_MIDDLEWARE = ['getUserAgentMiddleware', 'loggerMiddleware', 'recursionDetectionMiddleware'];

/** {@link ConnectionGateway} with one client per endpoint, created once per container; throttling is retried with backoff. */
export class ApiGatewayConnectionGateway implements ConnectionGateway {
  private readonly clients = new Map<string, ApiGatewayManagementApiClient>();
  /** Posts made so far. */
  posts = 0;
  /**
   * Requests in flight across all fan-outs of this container, kept at the socket pool size: a request queued behind
   * busy sockets would otherwise spend its timeout waiting, and fail without ever being sent.
   */
  private readonly inFlight: ReturnType<typeof createLimiter>;

  constructor(
    private readonly options: {
      readonly maxAttempts?: number;
      readonly requestTimeoutMs?: number;
      readonly maxSockets?: number;
    } = {},
  ) {
    this.inFlight = createLimiter(options.maxSockets ?? 64);
  }

  async post(endpoint: string, connectionId: string, payload: string): Promise<PostOutcome> {
    this.posts += 1;
    try {
      await this.inFlight(() =>
        this.client(endpoint).send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: payload })),
      );
      return 'sent';
    } catch (error) {
      if (isGone(error)) return 'gone';
      if (isThrottled(error)) return 'throttled';
      this.failures += 1;
      return 'failed';
    }
  }

  /** Posts that failed for another reason than 410/429 (5xx, timeouts, network). */
  failures = 0;

  async close(endpoint: string, connectionId: string): Promise<void> {
    try {
      await this.inFlight(() =>
        this.client(endpoint).send(new DeleteConnectionCommand({ ConnectionId: connectionId })),
      );
    } catch (error) {
      if (!isGone(error)) throw error;
    }
  }

  /** Closes every client's sockets (the runtime's shutdown); the next call creates its client again. */
  async destroy(): Promise<void> {
    for (const client of this.clients.values()) client.destroy();
    this.clients.clear();
  }

  private client(endpoint: string): ApiGatewayManagementApiClient {
    let client = this.clients.get(endpoint);
    if (!client) {
      const maxAttempts = this.options.maxAttempts ?? 1;
      client = new ApiGatewayManagementApiClient({
        // Parsed here once: given as a string, the SDK parses it again on every call.
        endpoint: { url: new URL(endpoint) },
        // One attempt: the delivery module retries through the mailboxes, under the deployment-wide rate cap, instead
        // of every function retrying on its own.
        maxAttempts,
        retryMode: 'standard',
        // Resolve the middleware stack once per command class, not on every call: about half of the SDK's CPU per
        // call (`npx tsx bench/sdk-cpu.ts`).
        cacheMiddleware: true,
        requestHandler: new LeanHttpHandler({
          requestTimeoutMs: this.options.requestTimeoutMs ?? 3000,
          maxSockets: this.options.maxSockets ?? 64,
        }),
      });
      // Middleware a management call does not need, about 50 µs of CPU per call together: the user agent (built and
      // escaped per call), the logger (no logger is configured) and recursion detection (a trace header for Lambda's
      // recursive-loop detection, which does not apply to API Gateway). Signing, serde and the endpoint stay.
      for (const name of LEAN_REMOVED_MIDDLEWARE) client.middlewareStack.remove(name);
      if (maxAttempts === 1) skipRetries(client);
      useFixedEndpoint(client, endpoint);
      useOneSigner(client);
      useFastConfig(client);
      this.clients.set(endpoint, client);
    }
    return client;
  }
}
