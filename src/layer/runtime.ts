// Composition root: builds config, clients and adapters lazily, once per container, and reuses them across invocations.
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Pool } from 'pg';
import type { Cluster, Redis } from 'ioredis';
import { ApiGatewayConnectionGateway } from './adapters/apigw/connection-gateway';
import { ThreadedConnectionGateway } from './adapters/apigw/threaded-gateway';
import { EventBridgePublisher, NO_EVENTS } from './adapters/eventbridge/event-publisher';
import { RedisDeliveryStore } from './adapters/redis/delivery-store';
import { RedisRateCap } from './adapters/redis/rate-cap';
import { NO_QUEUE, SqsWorkQueue } from './adapters/sqs/work-queue';
import type { WorkMessage } from './adapters/sqs/work-queue';
import { DeliveryService } from './delivery/deliverer';
import type { DeliveryMetrics, EventPublisher, WorkQueue } from './delivery/ports';
import { RedisUsageLog } from './adapters/redis/usage-log';
import { putMetric } from './shared/metrics';
import { PostgresFriendDirectory } from './adapters/postgres/friend-directory';
import { PostgresGroupDirectory } from './adapters/postgres/group-directory';
import { GROUP_SUBSCRIPTION_SECONDS, RedisGroupStore } from './adapters/redis/group-store';
import { createPool } from './adapters/postgres/pool';
import { RedisExecutor, createRedisClient } from './adapters/redis/client';
import { RedisKeys } from './adapters/redis/keys';
import { RedisPresenceStore } from './adapters/redis/presence-store';
import type { GroupDeps, PresenceDeps } from './presence/ports';
import type { AuthConfig, CoreConfig } from './shared/config';
import { parseAuthConfig, parseCoreConfig } from './shared/config';
import type { TokenVerifier } from './shared/auth';
import { createTokenVerifier } from './shared/auth';
import { logger } from './shared/logger';

/** The container's dependencies, plus the counters tests and benchmarks read. */
export interface Runtime {
  readonly config: CoreConfig;
  readonly deps: PresenceDeps;
  readonly redis: RedisExecutor;
  readonly directory: PostgresFriendDirectory;
  readonly groupDirectory: PostgresGroupDirectory;
  /** The @connections gateway: on this thread, or on CONNECTIONS_THREADS worker threads. */
  readonly gateway: ApiGatewayConnectionGateway | ThreadedConnectionGateway;
  readonly delivery: DeliveryService;
  readonly store: RedisPresenceStore;
  readonly keys: RedisKeys;
  /** The per-minute record of users online and connections open. */
  readonly usage: RedisUsageLog;
  /** The workers' queue (SQS when configured, the local stack's in-process one): sweep passes are handed to it. */
  readonly queue: SweepQueue | undefined;
  /** The pg pool, once created. */
  pool(): Promise<Pool>;
}

/** The delivery module's figures as CloudWatch metrics (written only where a metrics namespace is configured). */
const DELIVERY_METRICS: DeliveryMetrics = Object.freeze({
  delivered(sent: number, failed: number, lagMs: number | undefined) {
    if (sent > 0) putMetric('DeliveriesSent', sent);
    if (failed > 0) putMetric('DeliveriesFailed', failed);
    if (lagMs !== undefined) putMetric('DeliveryLag', lagMs);
  },
  capWaited(calls: number) {
    putMetric('RateCapWaits', calls);
  },
});

/** How long the function that made a change owns its delivery before the workers take it over. */
export const DELIVERY_LEASE_MS = 15_000;

let runtime: Promise<Runtime> | undefined;
let authConfig: AuthConfig | undefined;
let verifier: TokenVerifier | undefined;
let redisClient: Redis | Cluster | undefined;
let poolPromise: Promise<Pool> | undefined;
/** A work queue that also takes whole sweep passes (shards to sweep), for the queue-driven workers. */
export type SweepQueue = WorkQueue & { send(message: WorkMessage): Promise<void> };

let localAdapters: { queue?: SweepQueue; events?: EventPublisher } = {};

/**
 * Lets the local stack (and tests) put in-process adapters behind the same ports: the work queue and the event
 * publisher. Takes effect for runtimes built afterwards.
 */
export function useLocalAdapters(adapters: { queue?: SweepQueue; events?: EventPublisher }): void {
  localAdapters = adapters;
}

async function redisUrl(config: CoreConfig): Promise<string> {
  if (!config.redis.authSecretArn) return config.redis.url;
  const secret = await new SecretsManagerClient({}).send(
    new GetSecretValueCommand({ SecretId: config.redis.authSecretArn }),
  );
  const raw = secret.SecretString ?? '';
  let token = raw;
  if (raw.startsWith('{')) {
    const json = JSON.parse(raw) as Record<string, string>;
    token = json.password ?? json.authToken ?? json.token ?? '';
  }
  const url = new URL(config.redis.url);
  url.password = encodeURIComponent(token);
  return url.toString();
}

async function build(): Promise<Runtime> {
  // Parsed once per container; throws at cold start naming the bad key.
  const config = parseCoreConfig(process.env);
  redisClient = createRedisClient({
    url: await redisUrl(config),
    mode: config.redis.mode,
    timeoutMs: config.storeTimeoutMs,
  });
  const redis = new RedisExecutor(redisClient, config.storeTimeoutMs);
  const keys = new RedisKeys(config.redis.keyPrefix);
  const store = new RedisPresenceStore(redis, keys, {
    timeoutMs: config.timeoutMs,
    graceMs: config.graceMs,
    retentionSeconds: config.retentionSeconds,
    friendCacheSeconds: config.friendCacheSeconds,
    rateLimit: config.rateLimit,
    idleMs: config.idleAwayMs,
    authGraceMs: config.authGraceMs,
    leaseMs: DELIVERY_LEASE_MS,
  });
  const pool = (): Promise<Pool> => {
    poolPromise ??= createPool(config.database, config.storeTimeoutMs, config.databasePoolMax).catch(
      (error: unknown) => {
        poolPromise = undefined;
        throw error;
      },
    );
    return poolPromise;
  };
  const directory = new PostgresFriendDirectory(pool, config.storeTimeoutMs);
  const groupDirectory = new PostgresGroupDirectory(pool, config.storeTimeoutMs, config.groupMaxMembers);
  const groups: GroupDeps = {
    store: new RedisGroupStore(redis, keys, {
      cacheSeconds: config.friendCacheSeconds,
      subscriptionSeconds: GROUP_SUBSCRIPTION_SECONDS,
    }),
    directory: groupDirectory,
  };
  const senderOptions = { maxSockets: config.fanoutConcurrency * 2 };
  const gateway =
    config.connectionsThreads > 0
      ? new ThreadedConnectionGateway(config.connectionsThreads, senderOptions)
      : new ApiGatewayConnectionGateway(senderOptions);
  const log: PresenceDeps['log'] = {
    warn: (message, fields) => logger.warn(message, fields ?? {}),
    error: (message, fields) => logger.error(message, fields ?? {}),
    debug: (message, fields) => logger.debug(message, fields ?? {}),
  };
  const clock = () => Date.now();
  const queue: SweepQueue | undefined = config.workQueueUrl
    ? new SqsWorkQueue(config.workQueueUrl)
    : localAdapters.queue;
  const delivery = new DeliveryService(
    {
      store,
      directory,
      outbox: new RedisDeliveryStore(redis, keys),
      gateway,
      cap: new RedisRateCap(redis, keys, config.deliveryMaxCallsPerSecond),
      queue: queue ?? NO_QUEUE,
      events: config.eventBusName ? new EventBridgePublisher(config.eventBusName) : (localAdapters.events ?? NO_EVENTS),
      groups,
      clock,
      log,
      metrics: DELIVERY_METRICS,
    },
    {
      concurrency: config.fanoutConcurrency,
      connectWindowMs: config.connectWindowMs,
      retryBaseMs: 1000,
      retryMaxMs: 30_000,
      maxBatchBytes: 32 * 1024,
      leaseMs: DELIVERY_LEASE_MS,
      claimLimit: 200,
      // One plan of a pass over all 256 shards: up to 5,000 changes x their friends' connections in memory at once.
      planLimit: 5000,
    },
  );
  const deps: PresenceDeps = { store, directory, gateway, deliverer: delivery, groups, clock, log };
  const usage = new RedisUsageLog(redis, keys, config.usageRetentionDays);
  return { config, deps, redis, directory, groupDirectory, gateway, delivery, store, keys, usage, queue, pool };
}

/** The container's runtime, built on first use. */
export function getRuntime(): Promise<Runtime> {
  runtime ??= build().catch((error: unknown) => {
    runtime = undefined;
    throw error;
  });
  return runtime;
}

/** The token verifier, built on first use (module scope of the container). */
export function getVerifier(): TokenVerifier {
  authConfig ??= parseAuthConfig(process.env);
  verifier ??= createTokenVerifier(authConfig);
  return verifier;
}

/** Closes the clients and forgets them (scripts, tests, local stack reloads). */
export async function shutdownRuntime(): Promise<void> {
  const client = redisClient;
  const pool = poolPromise;
  const built = runtime;
  runtime = undefined;
  redisClient = undefined;
  poolPromise = undefined;
  authConfig = undefined;
  verifier = undefined;
  client?.disconnect();
  // The gateway's sockets, and its sender threads (CONNECTIONS_THREADS > 0), close with the runtime.
  await (await built?.catch(() => undefined))?.gateway.destroy();
  if (pool) await (await pool.catch(() => undefined))?.end().catch(() => undefined);
}
