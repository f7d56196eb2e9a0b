// `npm run invoke -- <function> events/<file>.json`: runs one handler on an event, like `sam local invoke` without
// Docker, and prints the result and every @connections call the handler made. Stores, first match wins:
// REDIS_URL / DATABASE_URL from the environment (or .env); else those of a running `npm start` (.local-stack.json),
// whose @connections API then also receives the calls, so its demo page shows them; else throwaway embedded ones.
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { resolve } from 'node:path';
import { Pool } from 'pg';
import { FUNCTION_NAMES } from '../src/routes';
import type { FunctionName } from '../src/routes';
import { fillTokens } from '../events/sample-events';
import { createDevIssuer } from '../src/local/dev-issuer';
import { startEmbeddedPostgres } from '../src/local/embedded-postgres';
import { startEmbeddedRedis } from '../src/local/embedded-redis';
import { readRunningStack } from '../src/local/stack-file';
import { migrate } from '../src/layer/adapters/postgres/migrate';
import { shutdownRuntime } from '../src/layer/runtime';
import { redactSecrets } from '../src/layer/shared/redact';
import { getRuntime } from '../src/layer/runtime';
import { decodePathSegment } from '../src/local/request-parts';

/** The origins of the sample events (`events/*.json`): allowed unless ALLOWED_ORIGINS says otherwise. */
const SAMPLE_EVENT_ORIGINS = 'chrome-extension://abcdefghijklmnopabcdefghijklmnop,http://127.0.0.1:3000';

/** The environment keys of the stores; taken from a running stack only when none is set. */
const STORE_KEYS = ['REDIS_URL', 'REDIS_MODE', 'REDIS_KEY_PREFIX', 'DATABASE_URL'] as const;

function listen(server: Server): Promise<string> {
  return new Promise((ok) =>
    server.listen(0, '127.0.0.1', () => ok(`http://127.0.0.1:${(server.address() as { port: number }).port}`)),
  );
}

const note = (line: string) => process.stderr.write(`[invoke] ${line}\n`);

/** Points REDIS_URL / DATABASE_URL at stores (see the header); returns how to stop what was started. */
async function resolveStores(): Promise<{ forwardTo: string | undefined; stop: () => Promise<void>; fresh?: boolean }> {
  const env = process.env;
  if (env.REDIS_URL && env.DATABASE_URL) {
    note('stores: REDIS_URL and DATABASE_URL from the environment');
    return { forwardTo: undefined, stop: async () => undefined };
  }
  const stack = !env.REDIS_URL && !env.DATABASE_URL ? readRunningStack() : undefined;
  if (stack) {
    for (const key of STORE_KEYS) if (stack.env[key] !== undefined) env[key] ??= stack.env[key];
    note(`stores: those of the running local stack (npm start, pid ${stack.pid}, ${stack.url})`);
    return {
      forwardTo: env.CONNECTIONS_ENDPOINT ? undefined : stack.env.CONNECTIONS_ENDPOINT,
      stop: async () => undefined,
    };
  }
  note(
    `stores: throwaway embedded ${[!env.REDIS_URL && 'Redis', !env.DATABASE_URL && 'Postgres (migrated, demo users seeded)'].filter(Boolean).join(' and ')}` +
      ' (no REDIS_URL / DATABASE_URL set and no npm start running)',
  );
  const outcomes = await Promise.allSettled([
    env.REDIS_URL ? undefined : startEmbeddedRedis(),
    env.DATABASE_URL ? undefined : startEmbeddedPostgres('presence_invoke'),
  ]);
  const servers = outcomes.flatMap((o) => (o.status === 'fulfilled' && o.value ? [o.value] : []));
  const stop = async () => void (await Promise.all(servers.map((s) => s.stop())));
  const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (failed) {
    await stop();
    throw failed.reason;
  }
  const [redis, postgres] = outcomes.map((o) => (o.status === 'fulfilled' ? o.value : undefined));
  if (redis) env.REDIS_URL = redis.url;
  if (postgres) {
    env.DATABASE_URL = postgres.url;
    const pool = new Pool({ connectionString: postgres.url, max: 1 });
    await migrate(pool, { seed: true }).finally(() => pool.end());
  }
  return { forwardTo: undefined, stop, fresh: Boolean(redis) };
}

/** Serves @connections: prints every call, and forwards it to a running stack when there is one. */
function connectionsSink(forwardTo: string | undefined): Server {
  return createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const path = req.url ?? '';
      const shown = path
        .split('?')[0]
        ?.split('/')
        .map((p) => decodePathSegment(p) ?? p)
        .join('/');
      const line = redactSecrets(`@connections ${req.method} ${shown} ${body.toString('utf8')}`);
      if (!forwardTo) {
        console.log(line);
        res.writeHead(200).end();
        return;
      }
      // The sink is `http://127.0.0.1:{port}/local`; the stack's endpoint has the same shape.
      const target = `${forwardTo}${path.replace(/^\/[^/]+/, '')}`;
      fetch(target, {
        method: req.method,
        headers: { 'content-type': String(req.headers['content-type'] ?? 'application/json') },
        ...(req.method === 'POST' ? { body } : {}),
      })
        .then(async (response) => {
          const answer = Buffer.from(await response.arrayBuffer());
          console.log(`${line} -> ${response.status} (the running stack)`);
          const errorType = response.headers.get('x-amzn-errortype');
          res.writeHead(response.status, {
            'content-type': response.headers.get('content-type') ?? 'application/json',
            ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
          });
          res.end(answer);
        })
        .catch((error: unknown) => {
          console.log(`${line} -> failed: ${error instanceof Error ? error.message : String(error)}`);
          res.writeHead(502).end();
        });
    });
  });
}

async function main(): Promise<void> {
  const [name, eventPath] = process.argv.slice(2);
  if (!name || !eventPath || !FUNCTION_NAMES.includes(name as FunctionName)) {
    console.error(`usage: npm run invoke -- <${FUNCTION_NAMES.join('|')}> events/<file>.json`);
    process.exit(2);
  }
  if (existsSync('.env')) process.loadEnvFile('.env');
  process.env.AWS_REGION ??= 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID ??= 'local';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
  // The SDK's notice that its releases after January 2027 need Node 22 is about this machine's Node, not the
  // deployment (Lambda runs Node 22): it would be printed on every invoke, each a new process.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  process.env.ALLOWED_ORIGINS ??= SAMPLE_EVENT_ORIGINS;
  const servers: Server[] = [];
  let text = readFileSync(resolve(eventPath), 'utf8');
  let exitCode = 0;
  let stores: Awaited<ReturnType<typeof resolveStores>> | undefined;
  try {
    stores = await resolveStores();

    // Sample events carry {{token:user}} placeholders: mint real tokens from a throwaway local issuer.
    if (/\{\{token:/.test(text)) {
      let jwks: unknown = {};
      const issuerServer = createServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(jwks));
      });
      servers.push(issuerServer);
      const base = await listen(issuerServer);
      const issuer = createDevIssuer({ issuer: base, audience: 'presence-invoke' });
      jwks = issuer.jwks;
      Object.assign(process.env, {
        JWT_ISSUER: base,
        JWT_AUDIENCE: 'presence-invoke',
        JWT_JWKS_URI: `${base}/.well-known/jwks.json`,
      });
      delete process.env.COGNITO_USER_POOL_ID;
      text = fillTokens(text, (user, expired) => issuer.sign(user, expired ? { expiresIn: -60 } : {}));
    }

    // Without an endpoint, collect @connections calls locally, print them (and pass them on to a running stack).
    if (!process.env.CONNECTIONS_ENDPOINT) {
      const sink = connectionsSink(stores.forwardTo);
      servers.push(sink);
      process.env.CONNECTIONS_ENDPOINT = `${await listen(sink)}/local`;
    }

    const module = (await import(`../src/functions/${name}/handler`)) as {
      handler: (e: unknown, c?: unknown) => Promise<unknown>;
    };
    const context = { functionName: name, awsRequestId: 'invoke', getRemainingTimeInMillis: () => 60_000 };
    // A throwaway Redis started here is new, not one that lost its data: users without state start with no choice.
    if (stores.fresh) await (await getRuntime()).store.markFresh();
    const result = await module.handler(JSON.parse(text), context);
    console.log(redactSecrets(JSON.stringify(result ?? null, null, 2)));
    // A 5xx (a store unreachable, tables missing) is a failed run, for scripts and CI; 4xx answers are sample cases.
    const status = (result as { statusCode?: unknown } | undefined)?.statusCode;
    if (typeof status === 'number' && status >= 500) {
      exitCode = 1;
      console.error(`${name} answered ${status}: check the stores (npm start running, or REDIS_URL / DATABASE_URL)`);
    }
  } catch (error) {
    exitCode = 1;
    console.error(redactSecrets(`${name} failed: ${(error as Error).message}`));
  } finally {
    await shutdownRuntime();
    for (const server of servers) server.close();
    await stores?.stop();
  }
  process.exitCode = exitCode;
}

void main();
