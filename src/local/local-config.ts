// Settings of the local stack itself (the handlers read theirs from process.env, as in AWS).
import { defaultHandlerThreads } from './handler-pool';

/** How the local stack runs; every field comes from an env key with a local default. */
export interface LocalConfig {
  /** `PORT` (default 3000; 0 picks a free port). */
  readonly port: number;
  /** `LOCAL_IDLE_TIMEOUT_SECONDS`: a WebSocket with no client frame for this long is closed (API Gateway: 10 min). */
  readonly idleTimeoutMs: number;
  /** `LOCAL_MAX_CONNECTION_SECONDS`: a WebSocket is closed after this long (API Gateway: 2 h). */
  readonly maxConnectionMs: number;
  /** `LOCAL_DROP_DISCONNECT=1`: closed sockets fire no `$disconnect`, so only the sweep reaps them. */
  readonly dropDisconnect: boolean;
  /** `LOCAL_SEED=0` skips the demo seed (migrations always run). */
  readonly seed: boolean;
  /** `SWEEP_INTERVAL_SECONDS` (locally 5): how often the timer invokes the sweep. */
  readonly sweepIntervalMs: number;
  /** `LOCAL_TOKEN_TTL_SECONDS`: lifetime of tokens from `POST /dev/token` (default 12 h). */
  readonly tokenTtlSeconds: number;
  /** Concurrent in-process delivery/sweep workers (LOCAL_WORKERS). */
  readonly workers: number;
  /**
   * `LOCAL_HANDLER_THREADS`: worker threads that run the handlers (default one per core, at most 4); 0 runs them on
   * the gateway's own thread.
   */
  readonly handlerThreads: number;
  /** `LOCAL_WEBHOOK_URL`: each presence event is POSTed there as one JSON object. */
  readonly webhookUrl: string | undefined;
}

/** Largest WebSocket frame API Gateway accepts; bigger ones close the connection with 1009. */
export const MAX_FRAME_BYTES = 32 * 1024;

/** Largest `@connections` POST payload API Gateway accepts. */
export const MAX_POST_BYTES = 128 * 1024;

/** The stage name of the local APIs (in paths, events and the `@connections` endpoint). */
export const LOCAL_STAGE = 'local';

function int(env: NodeJS.ProcessEnv, key: string, fallback: number, min = 0): number {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new Error(`${key} must be an integer >= ${min}, got "${raw}"`);
  return value;
}

const truthy = (value: string | undefined): boolean => value !== undefined && /^(1|true|yes|on)$/i.test(value);

function webhook(raw: string | undefined): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error('LOCAL_WEBHOOK_URL must be an http:// or https:// URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new Error('LOCAL_WEBHOOK_URL must be an http:// or https:// URL');
  return url.toString();
}

/** Parses the local stack's settings from `env`; throws naming a bad key. */
export function parseLocalConfig(env: NodeJS.ProcessEnv): LocalConfig {
  return Object.freeze({
    port: int(env, 'PORT', 3000),
    idleTimeoutMs: int(env, 'LOCAL_IDLE_TIMEOUT_SECONDS', 600, 1) * 1000,
    maxConnectionMs: int(env, 'LOCAL_MAX_CONNECTION_SECONDS', 7200, 1) * 1000,
    dropDisconnect: truthy(env.LOCAL_DROP_DISCONNECT),
    seed: env.LOCAL_SEED === undefined || truthy(env.LOCAL_SEED),
    sweepIntervalMs: int(env, 'SWEEP_INTERVAL_SECONDS', 5, 1) * 1000,
    tokenTtlSeconds: int(env, 'LOCAL_TOKEN_TTL_SECONDS', 12 * 3600, 1),
    workers: int(env, 'LOCAL_WORKERS', 2, 1),
    handlerThreads: int(env, 'LOCAL_HANDLER_THREADS', defaultHandlerThreads(), 0),
    webhookUrl: webhook(env.LOCAL_WEBHOOK_URL),
  });
}
