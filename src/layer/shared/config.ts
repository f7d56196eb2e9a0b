// Configuration: parses process.env once, with a schema, into frozen objects; a missing key fails naming the key.
// zod/mini: the same validation, tree-shaken to a few KB of the layer (classic zod adds ~450 KB).
import { availableParallelism } from 'node:os';
import * as z from 'zod/mini';
import { ConfigError } from './errors';

// Every schema carries the message a reader needs ("must be an integer of at least 1"); parse() prefixes the key.
const integerAtLeast = (min: number, fallback: number) => {
  const error = `must be an integer of at least ${min}`;
  return z._default(z.coerce.number({ error }).check(z.int({ error }), z.minimum(min, { error })), fallback);
};
const seconds = (fallback: number) => integerAtLeast(0, fallback);
const positive = (fallback: number) => integerAtLeast(1, fallback);
const optionalString = () => z.optional(z.string().check(z.minLength(1, { error: 'must not be empty' })));
/** A required string: "is required (what)" when missing, "must be what" when not a string. */
const required = (what: string) =>
  z.string({ error: (issue) => (issue.input === undefined ? `is required (${what})` : `must be ${what}`) });
const oneOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: `must be one of ${values.join(', ')}` });
const url = () => z.url({ error: 'must be an absolute URL (https://...)' });

/** Lambda's memory per vCPU: a function gets one full vCPU at 1,769 MB, and more in proportion above. */
const LAMBDA_MB_PER_VCPU = 1769;
/** The most sender threads `auto` starts (10,240 MB, Lambda's largest size, is about 6 vCPUs). */
const MAX_AUTO_THREADS = 4;

/**
 * CONNECTIONS_THREADS=auto: one sender thread per vCPU beyond the one the handler runs on, none with a single vCPU. In
 * Lambda the vCPUs follow the memory size (AWS_LAMBDA_FUNCTION_MEMORY_SIZE), not the cores the machine reports: a
 * 1,024 MB function has about 0.6 vCPU, and 3,538 MB or more gets a thread. Elsewhere the cores (the local stack
 * sets 0 while its handler pool, LOCAL_HANDLER_THREADS, uses them).
 */
export function autoConnectionsThreads(env: NodeJS.ProcessEnv): number {
  const lambdaMb = Number(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE);
  const vcpus = lambdaMb > 0 ? Math.floor(lambdaMb / LAMBDA_MB_PER_VCPU) : availableParallelism();
  return Math.min(MAX_AUTO_THREADS, Math.max(0, vcpus - 1));
}

const coreSchema = z
  .object({
    REDIS_URL: required('a redis:// or rediss:// URL').check(
      z.regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL'),
    ),
    REDIS_MODE: z._default(oneOf(['standalone', 'cluster']), 'standalone'),
    REDIS_AUTH_SECRET_ARN: optionalString(),
    REDIS_KEY_PREFIX: z._default(z.string().check(z.regex(/^[^{}]*$/, 'must not contain { or }')), 'presence:'),
    DATABASE_URL: z.optional(z.string().check(z.regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL'))),
    DATABASE_SECRET_ARN: optionalString(),
    DATABASE_HOST: optionalString(),
    DATABASE_PORT: positive(5432),
    DATABASE_NAME: optionalString(),
    DATABASE_SSL: z._default(oneOf(['true', 'false']), 'false'),
    DATABASE_POOL_MAX: positive(2),
    CONNECTIONS_ENDPOINT: z.optional(url()),
    ALLOWED_ORIGINS: required('comma-separated origins, or * for any'),
    PRESENCE_TIMEOUT_SECONDS: positive(90),
    GRACE_SECONDS: seconds(10),
    LAST_SEEN_RETENTION_DAYS: positive(30),
    FRIEND_CACHE_SECONDS: positive(60),
    SWEEP_WINDOW_SECONDS: seconds(0),
    SWEEP_INTERVAL_SECONDS: positive(10),
    SWEEP_BATCH_SIZE: positive(500),
    RATE_LIMIT_PER_SECOND: positive(10),
    RATE_LIMIT_BURST: positive(20),
    STORE_TIMEOUT_MS: positive(1500),
    FANOUT_CONCURRENCY: positive(32),
    CONNECTIONS_THREADS: z._default(
      z.string().check(z.regex(/^(auto|[0-9]|1[0-6])$/, 'must be auto or an integer from 0 to 16')),
      'auto',
    ),
    DELIVERY_MAX_CALLS_PER_SECOND: positive(5000),
    AUTH_GRACE_SECONDS: seconds(300),
    GROUPS_PER_CONNECTION: positive(10),
    GROUP_MAX_MEMBERS: positive(1000),
    IDLE_AWAY_SECONDS: seconds(0),
    WORK_QUEUE_URL: z.optional(z.url()),
    EVENT_BUS_NAME: optionalString(),
    CONNECT_WINDOW_SECONDS: positive(10),
    USAGE_RETENTION_DAYS: positive(90),
    ADMIN_GROUP: z._default(z.string().check(z.minLength(1, { error: 'must not be empty' })), 'presence-admin'),
  })
  .check(
    z.refine((env) => Boolean(env.DATABASE_URL || (env.DATABASE_SECRET_ARN && env.DATABASE_HOST)), {
      message: 'is required (or DATABASE_SECRET_ARN with DATABASE_HOST)',
      path: ['DATABASE_URL'],
    }),
  );

const authSchema = z
  .object({
    JWT_ISSUER: z.optional(url()),
    JWT_AUDIENCE: required('the Cognito app client id or token audience'),
    JWT_JWKS_URI: z.optional(url()),
    JWT_TOKEN_USE: z._default(oneOf(['id', 'access', 'any']), 'any'),
    COGNITO_USER_POOL_ID: z.optional(
      z.string().check(z.regex(/^[\w-]+_[0-9a-zA-Z]+$/, 'must look like us-east-1_AbCdEf123')),
    ),
  })
  .check(
    z.refine((env) => Boolean(env.JWT_ISSUER || env.COGNITO_USER_POOL_ID), {
      message: 'is required (or COGNITO_USER_POOL_ID)',
      path: ['JWT_ISSUER'],
    }),
  );

/** Settings every data-path handler needs. */
export interface CoreConfig {
  readonly redis: {
    readonly url: string;
    readonly mode: 'standalone' | 'cluster';
    readonly keyPrefix: string;
    /** Secrets Manager secret holding the AUTH token (plain string, or JSON with `password` / `authToken`). */
    readonly authSecretArn: string | undefined;
  };
  readonly database:
    | { readonly kind: 'url'; readonly url: string }
    | {
        readonly kind: 'secret';
        readonly secretArn: string;
        readonly host: string;
        readonly port: number;
        readonly name: string | undefined;
        readonly ssl: boolean;
      };
  /** Connections of the container's pg pool (also how many friend lookups the sweep runs at once). */
  readonly databasePoolMax: number;
  readonly connectionsEndpoint: string | undefined;
  readonly allowedOrigins: readonly string[];
  readonly timeoutMs: number;
  readonly graceMs: number;
  readonly retentionSeconds: number;
  readonly friendCacheSeconds: number;
  readonly sweepWindowMs: number;
  readonly sweepIntervalMs: number;
  readonly sweepBatchSize: number;
  readonly rateLimit: { readonly perSecond: number; readonly burst: number };
  readonly storeTimeoutMs: number;
  readonly fanoutConcurrency: number;
  /** Worker threads that make the @connections calls (0: the calling thread makes them); `auto` resolved. */
  readonly connectionsThreads: number;
  /** Deployment-wide cap on @connections calls per second. */
  readonly deliveryMaxCallsPerSecond: number;
  readonly authGraceMs: number;
  readonly groupsPerConnection: number;
  /** Members served per group (the first ones to join). */
  readonly groupMaxMembers: number;
  /** Auto-away after this long without update-presence (0: off). */
  readonly idleAwayMs: number;
  /** SQS queue of the delivery/sweep workers (AWS); unset: the sweep does all the work. */
  readonly workQueueUrl: string | undefined;
  /** EventBridge bus for presence events; unset: events are not published (locally: the local publisher). */
  readonly eventBusName: string | undefined;
  /** A 410 within this long after $connect means "not yet established", not "gone". */
  readonly connectWindowMs: number;
  /** How long the usage record keeps its hourly points (the per-minute ones: a day). */
  readonly usageRetentionDays: number;
  /** The token group (`cognito:groups`) allowed to read `GET /usage`. */
  readonly adminGroup: string;
}

/** Settings of the token verifier (the authorizer only). */
export interface AuthConfig {
  readonly issuer: string;
  readonly audience: string;
  readonly jwksUri: string;
  readonly tokenUse: 'id' | 'access' | 'any';
  readonly cognitoUserPoolId: string | undefined;
}

function parse<T extends z.ZodMiniType>(schema: T, env: NodeJS.ProcessEnv): z.output<T> {
  // An empty value counts as unset (`sam local invoke --env-vars` can override a variable but not remove it).
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const result = schema.safeParse(present);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const key = issue.path.join('.');
      if (!key) return issue.message;
      // The value helps ("got \"abc\""), except where it may hold a secret (URLs with passwords, ARNs).
      const value = present[key];
      const shown = value !== undefined && !/URL|URI|ARN|SECRET|PASSWORD|TOKEN$/.test(key) ? `, got "${value}"` : '';
      return `${key} ${issue.message}${shown}`;
    });
    throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  }
  return result.data;
}

/** Parses the core configuration from `env`. */
export function parseCoreConfig(env: NodeJS.ProcessEnv): CoreConfig {
  const e = parse(coreSchema, env);
  const database: CoreConfig['database'] = e.DATABASE_URL
    ? { kind: 'url', url: e.DATABASE_URL }
    : {
        kind: 'secret',
        secretArn: e.DATABASE_SECRET_ARN as string,
        host: e.DATABASE_HOST as string,
        port: e.DATABASE_PORT,
        name: e.DATABASE_NAME,
        ssl: e.DATABASE_SSL === 'true',
      };
  return Object.freeze({
    redis: Object.freeze({
      url: e.REDIS_URL,
      mode: e.REDIS_MODE,
      keyPrefix: e.REDIS_KEY_PREFIX,
      authSecretArn: e.REDIS_AUTH_SECRET_ARN,
    }),
    database: Object.freeze(database),
    databasePoolMax: e.DATABASE_POOL_MAX,
    connectionsEndpoint: e.CONNECTIONS_ENDPOINT?.replace(/\/+$/, ''),
    allowedOrigins: Object.freeze(
      e.ALLOWED_ORIGINS.split(',')
        .map((origin) => origin.trim())
        .filter(Boolean),
    ),
    timeoutMs: e.PRESENCE_TIMEOUT_SECONDS * 1000,
    graceMs: e.GRACE_SECONDS * 1000,
    retentionSeconds: e.LAST_SEEN_RETENTION_DAYS * 86_400,
    friendCacheSeconds: e.FRIEND_CACHE_SECONDS,
    sweepWindowMs: e.SWEEP_WINDOW_SECONDS * 1000,
    sweepIntervalMs: e.SWEEP_INTERVAL_SECONDS * 1000,
    sweepBatchSize: e.SWEEP_BATCH_SIZE,
    rateLimit: Object.freeze({ perSecond: e.RATE_LIMIT_PER_SECOND, burst: e.RATE_LIMIT_BURST }),
    storeTimeoutMs: e.STORE_TIMEOUT_MS,
    fanoutConcurrency: e.FANOUT_CONCURRENCY,
    connectionsThreads: e.CONNECTIONS_THREADS === 'auto' ? autoConnectionsThreads(env) : Number(e.CONNECTIONS_THREADS),
    deliveryMaxCallsPerSecond: e.DELIVERY_MAX_CALLS_PER_SECOND,
    authGraceMs: e.AUTH_GRACE_SECONDS * 1000,
    groupsPerConnection: e.GROUPS_PER_CONNECTION,
    groupMaxMembers: e.GROUP_MAX_MEMBERS,
    idleAwayMs: e.IDLE_AWAY_SECONDS * 1000,
    workQueueUrl: e.WORK_QUEUE_URL,
    eventBusName: e.EVENT_BUS_NAME,
    connectWindowMs: e.CONNECT_WINDOW_SECONDS * 1000,
    usageRetentionDays: e.USAGE_RETENTION_DAYS,
    adminGroup: e.ADMIN_GROUP,
  });
}

/** Parses the token verifier configuration from `env`. */
export function parseAuthConfig(env: NodeJS.ProcessEnv): AuthConfig {
  const e = parse(authSchema, env);
  const region = e.COGNITO_USER_POOL_ID?.split('_')[0];
  const issuer = e.COGNITO_USER_POOL_ID
    ? `https://cognito-idp.${region}.amazonaws.com/${e.COGNITO_USER_POOL_ID}`
    : (e.JWT_ISSUER as string);
  return Object.freeze({
    issuer,
    audience: e.JWT_AUDIENCE,
    jwksUri: e.JWT_JWKS_URI ?? `${issuer.replace(/\/+$/, '')}/.well-known/jwks.json`,
    tokenUse: e.JWT_TOKEN_USE,
    cognitoUserPoolId: e.COGNITO_USER_POOL_ID,
  });
}

/** Whether `origin` may call the API: `*` allows any; a request without an Origin header (non-browser) is allowed. */
export function isOriginAllowed(allowed: readonly string[], origin: string | undefined): boolean {
  if (origin === undefined || origin === '') return true;
  return allowed.includes('*') || allowed.includes(origin);
}
