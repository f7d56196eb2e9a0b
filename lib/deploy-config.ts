// Deploy configuration: reads `.env` and the environment, validates them with a schema, and returns a frozen config.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { z } from 'zod';
import { DEFAULT_HEARTBEAT_MS } from '../src/client/presence-client';
import { type ThrottleSettings, webSocketSteadyLoad, webSocketThrottle } from './websocket-throttle';

const csv = z
  .string()
  .transform((value) =>
    value
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean),
  )
  .pipe(z.array(z.string()));
const flag = (fallback: boolean) =>
  z
    .enum(['true', 'false'])
    .default(fallback ? 'true' : 'false')
    .transform((value) => value === 'true');
const int = (fallback: number, min = 0) => z.coerce.number().int().min(min).default(fallback);
/** An optional whole number: unset or empty means "not given". */
const optionalInt = (min: number, max: number) =>
  optional.pipe(
    z.coerce
      .number<string | undefined>()
      .int(`must be a whole number from ${min} to ${max}`)
      .min(min, `must be at least ${min}`)
      .max(max, `must be at most ${max}`)
      .optional(),
  );
const optional = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === '' ? undefined : value.trim()));
const secretArn = z
  .string()
  .regex(
    /^arn:aws[\w-]*:secretsmanager:[\w-]+:\d{12}:secret:.+-[A-Za-z0-9]{6}$/,
    'must be the complete secret ARN (ending in -XXXXXX)',
  );
const securityGroupId = z.string().regex(/^sg-[0-9a-f]+$/, 'must look like sg-0123abcd');

/**
 * How long one deployed sweep invocation keeps sweeping: the one-minute schedule minus 5 s, so runs barely overlap.
 * Deliberately not read from `.env`, where SWEEP_WINDOW_SECONDS configures the local stack (0 there).
 */
export const DEPLOYED_SWEEP_WINDOW_SECONDS = 55;

/** API Gateway's account-wide limit on `@connections` calls (POST, DELETE, GET) per second, shared by every API. */
export const ACCOUNT_CONNECTIONS_CALLS_PER_SECOND = 10_000;

/**
 * Default WORKER_MAX_CONCURRENCY: a sweep pass is 16 work messages (256 shards, 16 each), and one worker sends about
 * 1,000-2,000 @connections calls/s (FANOUT_CONCURRENCY 32 calls in flight), so 10 workers reap a pass in about two
 * rounds and can deliver more than the default 5,000 calls/s cap; docs/deployment.md has the sizing.
 */
export const DEFAULT_WORKER_MAX_CONCURRENCY = 10;

/** Retention periods CloudWatch Logs accepts, in days. */
const LOG_RETENTION_CHOICES = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

const keysSchema = z.object({
  STACK_NAME: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9-]{0,127}$/)
    .default('PresenceApi'),
  STAGE_NAME: z.string().regex(/^\w+$/).default('prod'),
  ALLOWED_ORIGINS: csv.pipe(z.array(z.string()).min(1, 'name at least one origin')),

  COGNITO_USER_POOL_ID: optional.pipe(
    z
      .string()
      .regex(/^[\w-]+_[0-9a-zA-Z]+$/)
      .optional(),
  ),
  JWT_ISSUER: optional.pipe(z.string().url().optional()),
  JWT_AUDIENCE: z.string().min(1),
  JWT_JWKS_URI: optional.pipe(z.string().url().optional()),
  JWT_TOKEN_USE: z.enum(['id', 'access', 'any']).default('any'),

  VPC_ID: optional.pipe(
    z
      .string()
      .regex(/^vpc-[0-9a-f]+$/)
      .optional(),
  ),
  VPC_AVAILABILITY_ZONES: optional.pipe(csv.optional()),
  VPC_PRIVATE_SUBNET_IDS: optional.pipe(csv.optional()),
  VPC_DATA_SUBNET_IDS: optional.pipe(csv.optional()),
  VPC_MAX_AZS: int(2, 2),
  VPC_NAT_GATEWAYS: int(2, 1),

  CACHE_MODE: z.enum(['replication-group', 'serverless', 'existing']).default('replication-group'),
  CACHE_ENGINE: z.enum(['valkey', 'redis']).default('valkey'),
  CACHE_ENGINE_VERSION: optional,
  CACHE_NODE_TYPE: z.string().default('cache.t4g.small'),
  CACHE_CLUSTER_MODE: flag(false),
  CACHE_SHARDS: int(1, 1),
  CACHE_REPLICAS_PER_SHARD: int(1, 1),
  CACHE_PORT: int(6380, 1),
  CACHE_EXISTING_URL: optional.pipe(
    z
      .string()
      .regex(/^rediss?:\/\/[^@]+$/, 'a redis(s):// URL without credentials')
      .optional(),
  ),
  CACHE_EXISTING_MODE: z.enum(['standalone', 'cluster']).default('standalone'),
  CACHE_EXISTING_AUTH_SECRET_ARN: optional.pipe(secretArn.optional()),
  CACHE_EXISTING_SECURITY_GROUP_ID: optional.pipe(securityGroupId.optional()),
  CACHE_MEMORY_ALARM_PERCENT: z.coerce
    .number()
    .int()
    .min(1, 'must be a percentage from 1 to 99')
    .max(99, 'must be a percentage from 1 to 99')
    .default(80),
  CACHE_SERVERLESS_MAX_STORAGE_GB: optionalInt(1, 5000),
  REDIS_KEY_PREFIX: z
    .string()
    .regex(/^[^{}]*$/)
    .default('presence:'),

  DB_MODE: z.enum(['existing-instance', 'existing-cluster', 'demo']),
  DB_IDENTIFIER: optional,
  DB_ENDPOINT: optional,
  DB_PORT: int(5432, 1),
  DB_SECURITY_GROUP_ID: optional.pipe(securityGroupId.optional()),
  DB_SECRET_ARN: optional.pipe(secretArn.optional()),
  DB_SECRET_KMS_KEY_ARN: optional.pipe(z.string().startsWith('arn:').optional()),
  DB_NAME: z.string().min(1).default('presence'),

  PRESENCE_TIMEOUT_SECONDS: int(90, 1),
  GRACE_SECONDS: int(10),
  LAST_SEEN_RETENTION_DAYS: int(30, 1),
  FRIEND_CACHE_SECONDS: int(60, 1),
  SWEEP_INTERVAL_SECONDS: z.coerce.number().int().min(1).max(30).default(10),
  SWEEP_BATCH_SIZE: int(500, 1),
  RATE_LIMIT_PER_SECOND: int(10, 1),
  RATE_LIMIT_BURST: int(20, 1),
  STORE_TIMEOUT_MS: int(1500, 1),
  FANOUT_CONCURRENCY: int(32, 1),
  DELIVERY_MAX_CALLS_PER_SECOND: z.coerce
    .number()
    .int()
    .min(1, 'must be a whole number from 1 to 10000 (calls per second)')
    .max(
      ACCOUNT_CONNECTIONS_CALLS_PER_SECOND,
      `must be at most ${ACCOUNT_CONNECTIONS_CALLS_PER_SECOND}: API Gateway's account-wide limit on @connections calls`,
    )
    .default(5000),
  WORKER_MAX_CONCURRENCY: z.coerce
    .number()
    .int('must be a whole number of concurrent workers')
    .min(2, 'must be at least 2 (the smallest maximum concurrency of an SQS event source)')
    .max(1000, 'must be at most 1000 (the largest maximum concurrency of an SQS event source)')
    .default(DEFAULT_WORKER_MAX_CONCURRENCY),
  WORKER_MEMORY_MB: z.coerce
    .number()
    .int('must be a whole number of MB')
    .min(1024, 'must be at least 1024 (a sweep pass plans up to 5,000 changes in memory)')
    .max(10240, 'must be at most 10240 (the largest Lambda memory size)')
    .default(1024),
  GROUPS_PER_CONNECTION: int(10, 1),
  GROUP_MAX_MEMBERS: int(1000, 1),
  POWERTOOLS_LOG_LEVEL: z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT']).default('INFO'),
  USAGE_RETENTION_DAYS: int(90, 1),
  ADMIN_GROUP: z.string().min(1).default('presence-admin'),
  WEBHOOK_URL: optional.pipe(
    z
      .string()
      .url()
      .regex(/^https:\/\//, 'must be an https:// URL (EventBridge API destinations call HTTPS endpoints only)')
      .optional(),
  ),
  WEBHOOK_AUTH_SECRET_ARN: optional.pipe(secretArn.optional()),

  EXPECTED_PEAK_CONNECTIONS: z.coerce
    .number()
    .int('must be a whole number of connected clients')
    .min(1, 'must be at least 1 (connected clients at peak)')
    .default(10_000),
  WS_HEARTBEAT_SECONDS: z.coerce
    .number()
    .int()
    .min(1, 'must be at least 1 (seconds between heartbeats of your fastest client)')
    .default(DEFAULT_HEARTBEAT_MS / 1000),
  WS_THROTTLE_RATE: optionalInt(1, 1_000_000),
  WS_THROTTLE_BURST: optionalInt(1, 1_000_000),
  REST_THROTTLE_RATE: int(200, 1),
  REST_THROTTLE_BURST: int(400, 1),
  REST_AUTHORIZER_CACHE_SECONDS: z.coerce.number().int().min(0).max(3600).default(0),
  LOG_RETENTION_DAYS: z.coerce
    .number()
    .int()
    .refine((days) => LOG_RETENTION_CHOICES.includes(days), `must be one of ${LOG_RETENTION_CHOICES.join(', ')}`)
    .default(30),
  ALARM_TOPIC_ARN: optional.pipe(
    z
      .string()
      .regex(
        /^arn:aws[\w-]*:sns:[\w-]+:\d{12}:[\w-]{1,256}$/,
        'must be an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)',
      )
      .optional(),
  ),
  ALARM_EMAIL: optional.pipe(z.string().email('must be an email address').optional()),
  API_GATEWAY_CLOUDWATCH_ROLE: flag(true),
});

/** Every key the deploy configuration reads (each is documented in `.env.deploy.example`). */
export const DEPLOY_CONFIG_KEYS: readonly string[] = Object.keys(keysSchema.shape);

const schema = keysSchema.superRefine((env, ctx) => {
  const need = (key: keyof typeof env, why: string) => {
    if (env[key] === undefined) ctx.addIssue({ code: 'custom', path: [key], message: `required ${why}` });
  };
  if (!env.JWT_ISSUER && !env.COGNITO_USER_POOL_ID) need('COGNITO_USER_POOL_ID', 'unless JWT_ISSUER is set');
  if (env.VPC_ID) {
    need('VPC_AVAILABILITY_ZONES', 'with VPC_ID');
    need('VPC_PRIVATE_SUBNET_IDS', 'with VPC_ID');
    const azs = env.VPC_AVAILABILITY_ZONES?.length ?? 0;
    for (const key of ['VPC_PRIVATE_SUBNET_IDS', 'VPC_DATA_SUBNET_IDS'] as const) {
      const count = env[key]?.length;
      if (count !== undefined && (count === 0 || count % azs !== 0)) {
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: 'must list a multiple of VPC_AVAILABILITY_ZONES subnets (one per AZ)',
        });
      }
    }
  }
  if (env.CACHE_MODE === 'existing') need('CACHE_EXISTING_URL', 'when CACHE_MODE=existing');
  if (env.WEBHOOK_AUTH_SECRET_ARN !== undefined && env.WEBHOOK_URL === undefined) {
    ctx.addIssue({ code: 'custom', path: ['WEBHOOK_AUTH_SECRET_ARN'], message: 'only applies with WEBHOOK_URL' });
  }
  if (env.CACHE_SERVERLESS_MAX_STORAGE_GB !== undefined && env.CACHE_MODE !== 'serverless') {
    ctx.addIssue({
      code: 'custom',
      path: ['CACHE_SERVERLESS_MAX_STORAGE_GB'],
      message: `only applies to CACHE_MODE=serverless (CACHE_MODE is ${env.CACHE_MODE})`,
    });
  }
  if (env.CACHE_MODE !== 'existing' && env.CACHE_ENGINE === 'redis' && env.CACHE_ENGINE_VERSION !== undefined) {
    const major = Number(env.CACHE_ENGINE_VERSION.split('.')[0]);
    if (!(major >= 7)) {
      ctx.addIssue({
        code: 'custom',
        path: ['CACHE_ENGINE_VERSION'],
        message:
          'must be Redis OSS 7 or newer (the scripts declare themselves with #!lua so a full cache refuses them up front)',
      });
    }
  }
  // A rate below the clients' own heartbeat load throttles heartbeats, and throttled heartbeats time out healthy sockets.
  const steady = Math.ceil(webSocketSteadyLoad(env.EXPECTED_PEAK_CONNECTIONS, env.WS_HEARTBEAT_SECONDS));
  if (env.WS_THROTTLE_RATE !== undefined && env.WS_THROTTLE_RATE < steady) {
    ctx.addIssue({
      code: 'custom',
      path: ['WS_THROTTLE_RATE'],
      message: `${env.WS_THROTTLE_RATE}/s is below the steady load of EXPECTED_PEAK_CONNECTIONS=${env.EXPECTED_PEAK_CONNECTIONS} clients beating every ${env.WS_HEARTBEAT_SECONDS} s (${steady}/s): throttled heartbeats would time out healthy sockets; raise it or leave it unset to size it from EXPECTED_PEAK_CONNECTIONS`,
    });
  }
  if (env.DB_MODE !== 'demo' && !env.VPC_ID) {
    ctx.addIssue({
      code: 'custom',
      path: ['VPC_ID'],
      message: `required when DB_MODE=${env.DB_MODE}: RDS Proxy and the functions must run in the database's VPC (a new VPC only suits DB_MODE=demo)`,
    });
  }
  if (env.DB_MODE !== 'demo') {
    need('DB_IDENTIFIER', `when DB_MODE=${env.DB_MODE}`);
    need('DB_ENDPOINT', `when DB_MODE=${env.DB_MODE}`);
    need('DB_SECURITY_GROUP_ID', `when DB_MODE=${env.DB_MODE}`);
    need('DB_SECRET_ARN', `when DB_MODE=${env.DB_MODE}`);
  }
});

/** Where the functions run: a VPC the stack creates, or an existing one named by id. */
export type NetworkConfig =
  | { readonly kind: 'new'; readonly maxAzs: number; readonly natGateways: number }
  | {
      readonly kind: 'existing';
      readonly vpcId: string;
      readonly availabilityZones: readonly string[];
      readonly privateSubnetIds: readonly string[];
      readonly dataSubnetIds: readonly string[];
    };

/** The Redis (Valkey) store: a replication group, ElastiCache Serverless, or an existing endpoint. */
export type CacheConfig =
  | {
      readonly kind: 'replication-group';
      readonly engine: 'valkey' | 'redis';
      readonly engineVersion: string;
      readonly nodeType: string;
      readonly clusterMode: boolean;
      readonly shards: number;
      readonly replicasPerShard: number;
      readonly port: number;
      /** The memory alarm fires above this share of maxmemory (DatabaseMemoryUsagePercentage) on any node. */
      readonly memoryAlarmPercent: number;
    }
  | {
      readonly kind: 'serverless';
      readonly engine: 'valkey' | 'redis';
      readonly majorEngineVersion: string;
      /** Data storage maximum in GB; undefined = none (Serverless then scales instead of evicting). */
      readonly maxStorageGb: number | undefined;
      /** With a maximum, the storage alarm fires above this share of it. */
      readonly memoryAlarmPercent: number;
    }
  | {
      readonly kind: 'existing';
      readonly url: string;
      readonly mode: 'standalone' | 'cluster';
      readonly authSecretArn: string | undefined;
      readonly securityGroupId: string | undefined;
    };

/** The Postgres friend directory: an existing instance or cluster behind a new RDS Proxy, or a small demo instance. */
export type DatabaseConfig =
  | {
      readonly kind: 'existing-instance' | 'existing-cluster';
      readonly identifier: string;
      readonly endpoint: string;
      readonly port: number;
      readonly securityGroupId: string;
      readonly secretArn: string;
      readonly secretKmsKeyArn: string | undefined;
      readonly databaseName: string;
    }
  | { readonly kind: 'demo'; readonly databaseName: string };

/** Token verification settings passed to the authorizer. */
export interface AuthSettings {
  readonly cognitoUserPoolId: string | undefined;
  readonly issuer: string | undefined;
  readonly audience: string;
  readonly jwksUri: string | undefined;
  readonly tokenUse: 'id' | 'access' | 'any';
}

/** Runtime tunables handed to every function as environment variables (names as in the wire contract). */
export interface RuntimeSettings {
  readonly PRESENCE_TIMEOUT_SECONDS: number;
  readonly GRACE_SECONDS: number;
  readonly LAST_SEEN_RETENTION_DAYS: number;
  readonly FRIEND_CACHE_SECONDS: number;
  readonly SWEEP_WINDOW_SECONDS: number;
  readonly SWEEP_INTERVAL_SECONDS: number;
  readonly SWEEP_BATCH_SIZE: number;
  readonly RATE_LIMIT_PER_SECOND: number;
  readonly RATE_LIMIT_BURST: number;
  readonly STORE_TIMEOUT_MS: number;
  readonly FANOUT_CONCURRENCY: number;
  readonly DELIVERY_MAX_CALLS_PER_SECOND: number;
  readonly GROUPS_PER_CONNECTION: number;
  readonly GROUP_MAX_MEMBERS: number;
  readonly POWERTOOLS_LOG_LEVEL: string;
  readonly USAGE_RETENTION_DAYS: number;
  readonly ADMIN_GROUP: string;
}

/** Where presence events go besides the stack's event bus: an HTTPS webhook (EventBridge API destination). */
export interface WebhookConfig {
  readonly url: string;
  /** Secret whose value is sent as the Authorization header; undefined: the stack generates one. */
  readonly authSecretArn: string | undefined;
}

/** Everything the stack needs to know, validated. */
export interface DeployConfig {
  readonly stackName: string;
  readonly stageName: string;
  readonly allowedOrigins: readonly string[];
  readonly auth: AuthSettings;
  readonly network: NetworkConfig;
  readonly cache: CacheConfig;
  readonly redisKeyPrefix: string;
  readonly database: DatabaseConfig;
  readonly runtime: RuntimeSettings;
  /** The queue-driven workers: at most this many `worker` invocations at once (the SQS event source's maximum). */
  readonly workers: {
    readonly maxConcurrency: number;
    /** Memory of the `worker` function; its vCPUs follow it, and with them its sender threads (CONNECTIONS_THREADS=auto). */
    readonly memoryMb: number;
  };
  readonly throttling: {
    /** Connected clients at peak (EXPECTED_PEAK_CONNECTIONS), the input of the WebSocket throttle formula. */
    readonly expectedPeakConnections: number;
    /** Default route throttle of the WebSocket stage: sized from the clients, or the WS_THROTTLE_* overrides. */
    readonly webSocket: ThrottleSettings & { readonly source: 'computed' | 'override' };
    readonly rest: ThrottleSettings;
  };
  /** REST authorizer result cache per Authorization header, in seconds; 0 = every request is verified. */
  readonly restAuthorizerCacheSeconds: number;
  readonly logRetentionDays: number;
  /** Where every alarm notifies: an existing topic, or one the stack creates; optionally subscribed by email. */
  readonly alarms: { readonly topicArn: string | undefined; readonly email: string | undefined };
  readonly manageApiGatewayCloudWatchRole: boolean;
  /** WEBHOOK_URL (and WEBHOOK_AUTH_SECRET_ARN): presence events POSTed there; undefined: the bus only. */
  readonly webhook: WebhookConfig | undefined;
}

/** A deploy configuration problem; the message names every offending key. */
export class DeployConfigError extends Error {
  override readonly name = 'DeployConfigError';
}

/** Parses and validates the deploy configuration from environment-like key/value pairs. */
export function parseDeployConfig(env: Readonly<Record<string, string | undefined>>): DeployConfig {
  const result = schema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.') || 'env'}: ${issue.message}`);
    throw new DeployConfigError(`Invalid deploy configuration: ${problems.join('; ')}`);
  }
  const e = result.data;
  const network: NetworkConfig = e.VPC_ID
    ? {
        kind: 'existing',
        vpcId: e.VPC_ID,
        availabilityZones: e.VPC_AVAILABILITY_ZONES ?? [],
        privateSubnetIds: e.VPC_PRIVATE_SUBNET_IDS ?? [],
        dataSubnetIds: e.VPC_DATA_SUBNET_IDS ?? e.VPC_PRIVATE_SUBNET_IDS ?? [],
      }
    : { kind: 'new', maxAzs: e.VPC_MAX_AZS, natGateways: e.VPC_NAT_GATEWAYS };
  const defaultVersion = e.CACHE_ENGINE === 'valkey' ? '8.0' : '7.1';
  const cache: CacheConfig =
    e.CACHE_MODE === 'existing'
      ? {
          kind: 'existing',
          url: e.CACHE_EXISTING_URL as string,
          mode: e.CACHE_EXISTING_MODE,
          authSecretArn: e.CACHE_EXISTING_AUTH_SECRET_ARN,
          securityGroupId: e.CACHE_EXISTING_SECURITY_GROUP_ID,
        }
      : e.CACHE_MODE === 'serverless'
        ? {
            kind: 'serverless',
            engine: e.CACHE_ENGINE,
            majorEngineVersion: (e.CACHE_ENGINE_VERSION ?? defaultVersion).split('.')[0] as string,
            maxStorageGb: e.CACHE_SERVERLESS_MAX_STORAGE_GB,
            memoryAlarmPercent: e.CACHE_MEMORY_ALARM_PERCENT,
          }
        : {
            kind: 'replication-group',
            engine: e.CACHE_ENGINE,
            engineVersion: e.CACHE_ENGINE_VERSION ?? defaultVersion,
            nodeType: e.CACHE_NODE_TYPE,
            clusterMode: e.CACHE_CLUSTER_MODE,
            shards: e.CACHE_CLUSTER_MODE ? e.CACHE_SHARDS : 1,
            replicasPerShard: e.CACHE_REPLICAS_PER_SHARD,
            port: e.CACHE_PORT,
            memoryAlarmPercent: e.CACHE_MEMORY_ALARM_PERCENT,
          };
  const database: DatabaseConfig =
    e.DB_MODE === 'demo'
      ? { kind: 'demo', databaseName: e.DB_NAME }
      : {
          kind: e.DB_MODE,
          identifier: e.DB_IDENTIFIER as string,
          endpoint: e.DB_ENDPOINT as string,
          port: e.DB_PORT,
          securityGroupId: e.DB_SECURITY_GROUP_ID as string,
          secretArn: e.DB_SECRET_ARN as string,
          secretKmsKeyArn: e.DB_SECRET_KMS_KEY_ARN,
          databaseName: e.DB_NAME,
        };
  return deepFreeze({
    stackName: e.STACK_NAME,
    stageName: e.STAGE_NAME,
    allowedOrigins: e.ALLOWED_ORIGINS,
    auth: {
      cognitoUserPoolId: e.COGNITO_USER_POOL_ID,
      issuer: e.JWT_ISSUER,
      audience: e.JWT_AUDIENCE,
      jwksUri: e.JWT_JWKS_URI,
      tokenUse: e.JWT_TOKEN_USE,
    },
    network,
    cache,
    redisKeyPrefix: e.REDIS_KEY_PREFIX,
    database,
    runtime: {
      PRESENCE_TIMEOUT_SECONDS: e.PRESENCE_TIMEOUT_SECONDS,
      GRACE_SECONDS: e.GRACE_SECONDS,
      LAST_SEEN_RETENTION_DAYS: e.LAST_SEEN_RETENTION_DAYS,
      FRIEND_CACHE_SECONDS: e.FRIEND_CACHE_SECONDS,
      SWEEP_WINDOW_SECONDS: DEPLOYED_SWEEP_WINDOW_SECONDS,
      SWEEP_INTERVAL_SECONDS: e.SWEEP_INTERVAL_SECONDS,
      SWEEP_BATCH_SIZE: e.SWEEP_BATCH_SIZE,
      RATE_LIMIT_PER_SECOND: e.RATE_LIMIT_PER_SECOND,
      RATE_LIMIT_BURST: e.RATE_LIMIT_BURST,
      STORE_TIMEOUT_MS: e.STORE_TIMEOUT_MS,
      FANOUT_CONCURRENCY: e.FANOUT_CONCURRENCY,
      DELIVERY_MAX_CALLS_PER_SECOND: e.DELIVERY_MAX_CALLS_PER_SECOND,
      GROUPS_PER_CONNECTION: e.GROUPS_PER_CONNECTION,
      GROUP_MAX_MEMBERS: e.GROUP_MAX_MEMBERS,
      POWERTOOLS_LOG_LEVEL: e.POWERTOOLS_LOG_LEVEL,
      USAGE_RETENTION_DAYS: e.USAGE_RETENTION_DAYS,
      ADMIN_GROUP: e.ADMIN_GROUP,
    },
    workers: { maxConcurrency: e.WORKER_MAX_CONCURRENCY, memoryMb: e.WORKER_MEMORY_MB },
    throttling: {
      expectedPeakConnections: e.EXPECTED_PEAK_CONNECTIONS,
      webSocket: webSocketStageThrottle(e),
      rest: { rateLimit: e.REST_THROTTLE_RATE, burstLimit: e.REST_THROTTLE_BURST },
    },
    restAuthorizerCacheSeconds: e.REST_AUTHORIZER_CACHE_SECONDS,
    logRetentionDays: e.LOG_RETENTION_DAYS,
    alarms: { topicArn: e.ALARM_TOPIC_ARN, email: e.ALARM_EMAIL },
    manageApiGatewayCloudWatchRole: e.API_GATEWAY_CLOUDWATCH_ROLE,
    webhook: e.WEBHOOK_URL ? { url: e.WEBHOOK_URL, authSecretArn: e.WEBHOOK_AUTH_SECRET_ARN } : undefined,
  });
}

/**
 * The WebSocket stage throttle: computed from EXPECTED_PEAK_CONNECTIONS and WS_HEARTBEAT_SECONDS
 * ({@link webSocketThrottle}), with WS_THROTTLE_RATE / WS_THROTTLE_BURST as explicit overrides (an override of the
 * rate alone keeps the formula's burst-to-rate ratio).
 */
function webSocketStageThrottle(e: {
  EXPECTED_PEAK_CONNECTIONS: number;
  WS_HEARTBEAT_SECONDS: number;
  WS_THROTTLE_RATE?: number | undefined;
  WS_THROTTLE_BURST?: number | undefined;
}): ThrottleSettings & { source: 'computed' | 'override' } {
  const computed = webSocketThrottle(e.EXPECTED_PEAK_CONNECTIONS, e.WS_HEARTBEAT_SECONDS);
  if (e.WS_THROTTLE_RATE === undefined && e.WS_THROTTLE_BURST === undefined) return { ...computed, source: 'computed' };
  const rateLimit = e.WS_THROTTLE_RATE ?? computed.rateLimit;
  return {
    rateLimit,
    burstLimit: e.WS_THROTTLE_BURST ?? Math.round((rateLimit * computed.burstLimit) / computed.rateLimit),
    source: 'override',
  };
}

/**
 * Reads the deploy environment: `ENV_FILE` (default `.env`) under `cwd` when it exists, overridden by `env`
 * (so a value exported in the shell or CI wins over the file).
 */
export function readDeployEnvironment(
  env: NodeJS.ProcessEnv = process.env,
  cwd: string = process.cwd(),
): Record<string, string | undefined> {
  const file = resolve(cwd, env.ENV_FILE ?? '.env');
  const fromFile = existsSync(file) ? parseEnv(readFileSync(file, 'utf8')) : {};
  return { ...fromFile, ...env };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
