// Starts the whole local stack: stores (given or embedded), migrations + seed, dev issuer, gateway, sweep timer, demo page.
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { Pool } from 'pg';
import type { Cluster, Redis } from 'ioredis';
import {
  createRedisClient,
  getRuntime,
  migrate,
  parseCoreConfig,
  shutdownRuntime,
  useLocalAdapters,
} from '@presence/layer';
import type { BrowserGuardOptions } from './browser-guard';
import { guardLocalRoute, requireJsonBody } from './browser-guard';
import { ConnectionRegistry } from './connection-registry';
import { handleConnectionsRequest, isConnectionsPath } from './connections-api';
import type { DemoPage } from './demo-page';
import { buildDemoPage, serveDemoPage } from './demo-page';
import { createDevIssuer } from './dev-issuer';
import type { DevIssuer } from './dev-issuer';
import { DEV_ISSUER_PATH, JWKS_PATH, handleDevRequest, isDevPath } from './dev-routes';
import { startEmbeddedPostgres } from './embedded-postgres';
import type { EmbeddedServer } from './embedded-redis';
import { startEmbeddedRedis } from './embedded-redis';
import { localIdentity } from './gateway-identity';
import { startHandlerPool } from './handler-pool';
import type { HandlerRegistry } from './handler-registry';
import { loadHandlers } from './handler-registry';
import { sendJson } from './http-io';
import type { LocalConfig } from './local-config';
import { LOCAL_STAGE } from './local-config';
import { logRequest } from './request-log';
import { header, requestUrl } from './request-parts';
import { RestGateway, isRestPath } from './rest-gateway';
import type { SweepTimer } from './sweep-timer';
import { startSweepTimer } from './sweep-timer';
import { WebSocketGateway, isWebSocketPath } from './websocket-gateway';
import { LocalWorkQueue } from './work-queue';
import { LocalEventBus } from './event-bus';

/** The pinned id of examples/chrome-extension (from the manifest's `key`), allowed by CORS and on connect locally. */
export const EXTENSION_ID = 'ihlanbdnkhllkndcdplfehpcigghgfkm';

/**
 * The id of PageNow's published Chrome extension (Chrome Web Store), allowed locally so that extension, run unchanged
 * against `npm start`, may connect (its background script's WebSocket carries this origin).
 */
export const PAGENOW_EXTENSION_ID = 'lplobiaakhgkjcldopgkbcibeilddbmc';

/** Audience (client id) of the dev issuer's tokens. */
export const LOCAL_AUDIENCE = 'presence-local';

/** A running local stack. */
export interface LocalStack {
  /** `http://127.0.0.1:{port}`. */
  readonly url: string;
  readonly port: number;
  readonly redis: { readonly url: string; readonly embedded: boolean; readonly pid: number | undefined };
  readonly database: { readonly url: string; readonly embedded: boolean; readonly pid: number | undefined };
  readonly issuer: DevIssuer;
  /** The local event bus (GET /dev/events, LOCAL_WEBHOOK_URL). */
  readonly events: LocalEventBus;
  /** Milliseconds from the start call to ready. */
  readonly startupMs: number;
  readonly seededUsers: string[];
  /** Stops everything this stack started, in order; safe to call twice. */
  stop(): Promise<void>;
  /** Last-resort synchronous kill of the embedded servers, for `process.on('exit')`. */
  killNow(): void;
}

/** Dummy AWS settings so the real @connections SDK client can sign requests to the local endpoint. */
function ensureAwsEnv(): void {
  process.env.AWS_REGION ??= 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID ??= 'local';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
}

/** Starts the stack; on failure, stops what was started and rethrows. */
export async function startLocalStack(config: LocalConfig): Promise<LocalStack> {
  const started = performance.now();
  ensureAwsEnv();
  const cleanups: (() => Promise<void>)[] = [];
  const embedded: EmbeddedServer[] = [];
  const stopAll = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  };
  try {
    // Stores: given ones, else embedded ones (started in parallel). Wait for both to settle, so one failing (no
    // redis-server) stops the other instead of leaving it starting behind (with its data directory).
    const outcomes = await Promise.allSettled([
      process.env.REDIS_URL ? undefined : startEmbeddedRedis(),
      process.env.DATABASE_URL ? undefined : startEmbeddedPostgres(),
    ]);
    for (const outcome of outcomes) {
      const server = outcome.status === 'fulfilled' ? outcome.value : undefined;
      if (server) {
        embedded.push(server);
        cleanups.push(() => server.stop());
      }
    }
    const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failed) throw failed.reason;
    const [redisServer, pgServer] = outcomes.map((o) => (o.status === 'fulfilled' ? o.value : undefined));
    const redisUrl = process.env.REDIS_URL ?? (redisServer as EmbeddedServer).url;
    const databaseUrl = process.env.DATABASE_URL ?? (pgServer as EmbeddedServer).url;
    process.env.REDIS_URL = redisUrl;
    process.env.DATABASE_URL = databaseUrl;
    // The handler pool spreads the handlers over the cores already; @connections sender threads on top only compete
    // with it (the 5,000-client gateway load spent about 20 % more CPU per delivery with them). Unless asked for.
    if (config.handlerThreads > 0) process.env.CONNECTIONS_THREADS ??= '0';

    const pool = new Pool({ connectionString: databaseUrl, max: 4 });
    // An idle client's error (Postgres restarting or stopping) must not crash the stack; the next query reconnects.
    pool.on('error', () => undefined);
    cleanups.push(() => pool.end());
    await migrate(pool, { seed: config.seed });
    const seededUsers = (
      await pool.query<{ user_id: string }>('SELECT user_id FROM user_table ORDER BY user_id LIMIT 20')
    ).rows.map((r) => r.user_id);

    // In-process handlers only when asked (LOCAL_HANDLER_THREADS=0); the threads start once the env points here.
    const [inProcess, demo] = await Promise.all([
      config.handlerThreads === 0 ? loadHandlers() : undefined,
      buildDemoPage(),
    ]);
    const registry = new ConnectionRegistry();

    // Listen first (PORT=0 picks a port), then point the handlers' env at this port.
    const live: { ws?: WebSocketGateway; route?: (req: IncomingMessage, res: ServerResponse) => Promise<void> } = {};
    const server: Server = createServer((req, res) => {
      if (!live.route) return sendJson(res, 503, { message: 'Starting' });
      live.route(req, res).catch((error: unknown) => {
        // The path only: a query string may carry a token (logRequest redacts what it prints anyway).
        logRequest({
          kind: 'HTTP',
          what: `${req.method} ${requestUrl(req)?.pathname ?? '(unparsable path)'}`,
          status: 500,
          note: error instanceof Error ? `${error.name}: ${error.message}` : 'non-error thrown',
        });
        if (!res.headersSent) sendJson(res, 500, { message: 'Internal server error' });
        else res.destroy();
      });
    });
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const url = requestUrl(req);
      if (!live.ws || !url || !isWebSocketPath(url.pathname)) {
        socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      live.ws.handleUpgrade(req, socket, head, url).catch(() => socket.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, '127.0.0.1', () => resolve());
    });
    const port = (server.address() as { port: number }).port;
    const url = `http://127.0.0.1:${port}`;
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    );

    const issuerUrl = `${url}${DEV_ISSUER_PATH}`;
    const issuer = createDevIssuer({ issuer: issuerUrl, audience: LOCAL_AUDIENCE });
    Object.assign(process.env, {
      CONNECTIONS_ENDPOINT: `${url}/${LOCAL_STAGE}`,
      JWT_ISSUER: issuerUrl,
      JWT_AUDIENCE: LOCAL_AUDIENCE,
      JWT_JWKS_URI: `${issuerUrl}${JWKS_PATH}`,
      SWEEP_INTERVAL_SECONDS: String(config.sweepIntervalMs / 1000),
    });
    delete process.env.COGNITO_USER_POOL_ID;
    process.env.ALLOWED_ORIGINS ??= [
      url,
      `http://localhost:${port}`,
      `chrome-extension://${EXTENSION_ID}`,
      `chrome-extension://${PAGENOW_EXTENSION_ID}`,
    ].join(',');
    const core = parseCoreConfig(process.env);
    // The same delivery pipeline as in AWS: the worker handler behind an in-process queue (the handlers are known
    // once the pool has started, which needs the queue; the queue calls them only then).
    let handlers: HandlerRegistry | undefined = inProcess;
    const workQueue = new LocalWorkQueue(
      (event, context) => (handlers as HandlerRegistry).worker(event, context),
      config.workers,
    );
    // Presence events through the same port as in AWS: the local bus instead of EventBridge.
    const events = new LocalEventBus({ webhookUrl: config.webhookUrl });
    cleanups.push(() => events.stop());
    useLocalAdapters({ queue: workQueue, events });
    if (!handlers) {
      const pool = await startHandlerPool(config.handlerThreads, { queue: workQueue, events });
      cleanups.push(() => pool.stop());
      handlers = pool.handlers;
    }
    const runtime = await getRuntime(); // warm: fail now, naming a bad key, not on the first request
    cleanups.push(() => shutdownRuntime());
    cleanups.push(() => workQueue.stop());
    // A store this stack starts (or is handed for development) holds no lost choices: users without state start fresh.
    await runtime.store.markFresh();

    const redis: Redis | Cluster = createRedisClient({ url: redisUrl, mode: core.redis.mode, timeoutMs: 1500 });
    cleanups.push(async () => void redis.disconnect());

    const gw = localIdentity(port);
    const allowedOrigins = () => core.allowedOrigins;
    const guard: BrowserGuardOptions = { ownOrigins: [url, `http://localhost:${port}`], allowedOrigins };
    const gateway = new WebSocketGateway(gw, handlers, registry, config);
    live.ws = gateway;
    cleanups.push(() => gateway.shutdown());
    const rest = new RestGateway(gw, handlers, allowedOrigins);
    const devDeps = {
      issuer,
      pool,
      redis,
      keyPrefix: core.redis.keyPrefix,
      tokenTtlSeconds: config.tokenTtlSeconds,
      allowedOrigins,
      events,
    };
    live.route = (req, res) => routeRequest(req, res, { rest, gateway, registry, demo, devDeps, guard });

    const sweep: SweepTimer = startSweepTimer(gw, handlers, config.sweepIntervalMs);
    cleanups.push(() => sweep.stop());

    let stopping: Promise<void> | undefined;
    return {
      url,
      port,
      redis: { url: redisUrl, embedded: Boolean(redisServer), pid: redisServer?.pid },
      database: { url: databaseUrl, embedded: Boolean(pgServer), pid: pgServer?.pid },
      issuer,
      events,
      startupMs: Math.round(performance.now() - started),
      seededUsers,
      stop: () => (stopping ??= stopAll()),
      killNow: () => embedded.forEach((s) => s.killNow()),
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

async function routeRequest(
  req: IncomingMessage,
  res: ServerResponse,
  deps: {
    rest: RestGateway;
    gateway: WebSocketGateway;
    registry: ConnectionRegistry;
    demo: DemoPage;
    devDeps: Parameters<typeof handleDevRequest>[3];
    guard: BrowserGuardOptions;
  },
): Promise<void> {
  const method = req.method ?? 'GET';
  const url = requestUrl(req);
  if (!url) {
    sendJson(res, 400, { message: 'Malformed request target' });
    return logRequest({ kind: 'HTTP', what: `${method} (unparsable path)`, status: 400 });
  }
  const connections = isConnectionsPath(url.pathname);
  const dev = !connections && !isRestPath(url.pathname) && isDevPath(url.pathname);
  if (connections || dev) {
    // Local write routes: no web page in the developer's browser may call them, nor post a non-JSON body to /dev.
    const refusal =
      guardLocalRoute({ origin: header(req, 'origin'), fetchSite: header(req, 'sec-fetch-site') }, deps.guard) ??
      (dev ? requireJsonBody({ method, contentType: header(req, 'content-type') }) : undefined);
    if (refusal) {
      sendJson(res, refusal.status, { message: refusal.message });
      return logRequest({
        kind: connections ? 'CONN' : 'DEV',
        what: `${method} ${connections ? '@connections' : url.pathname}`,
        status: refusal.status,
        note:
          refusal.status === 403
            ? `refused origin ${header(req, 'origin') ?? header(req, 'sec-fetch-site')}`
            : 'not JSON',
      });
    }
  }
  if (connections) return handleConnectionsRequest(req, res, url.pathname, deps.registry, deps.gateway);
  if (isRestPath(url.pathname)) return deps.rest.handle(req, res, url);
  if (dev) return handleDevRequest(req, res, url, deps.devDeps);
  if (method === 'GET' && serveDemoPage(deps.demo, url.pathname, res)) return;
  if (url.pathname === '/favicon.ico') return void res.writeHead(204).end();
  sendJson(res, 404, { message: 'Not Found' });
  logRequest({ kind: 'HTTP', what: `${method} ${url.pathname}`, status: 404 });
}
