// `npm start`: runs the whole Presence API on this machine (127.0.0.1 only) and stops everything it started on exit.
import './log-defaults';
import { redactSecrets } from '@presence/layer';
import type { LocalConfig } from './local-config';
import { parseLocalConfig } from './local-config';
import type { LocalStack } from './local-stack';
import { startLocalStack } from './local-stack';
import { watchParents, watchedAncestors } from './parent-watch';
import { removeStackFile, stackFilePath, writeStackFile } from './stack-file';

/** Keys of the handlers' environment the stack file records, for `npm run invoke` and other local tools. */
const SHARED_ENV_KEYS = [
  'REDIS_URL',
  'REDIS_MODE',
  'REDIS_KEY_PREFIX',
  'DATABASE_URL',
  'CONNECTIONS_ENDPOINT',
  'ALLOWED_ORIGINS',
  'JWT_ISSUER',
  'JWT_AUDIENCE',
  'JWT_JWKS_URI',
  'PRESENCE_TIMEOUT_SECONDS',
  'GRACE_SECONDS',
] as const;

function banner(stack: LocalStack, config: LocalConfig, stackFile: string | undefined): string {
  const env = process.env;
  // The embedded stores' URLs are local and throwaway: shown in full, so other tools can use them. Given ones may
  // carry a real password: masked.
  const store = (kind: string, s: { url: string; embedded: boolean; pid: number | undefined }) =>
    s.embedded
      ? `embedded ${kind} (pid ${s.pid})  ${s.url}`
      : `${kind} from env  ${s.url.replace(/\/\/[^@/]*@/, '//***@')}`;
  const lines = [
    '',
    `Presence API local stack ready in ${stack.startupMs} ms (pid ${process.pid})`,
    '',
    `  Demo page        ${stack.url}/`,
    `  WebSocket        ${stack.url.replace('http', 'ws')}/ws   (token: ?Authorization=<jwt> or subprotocol "presence.v1, <jwt>")`,
    `  REST             ${stack.url}/presence   ${stack.url}/presence/{userId}`,
    `  @connections     ${env.CONNECTIONS_ENDPOINT}/@connections/{connectionId}`,
    `  JWKS             ${env.JWT_JWKS_URI}`,
    `  Redis            ${store('redis', stack.redis)}`,
    `  Postgres         ${store('postgres', stack.database)}`,
    `  Allowed origins  ${env.ALLOWED_ORIGINS}`,
    `  Timing           presence timeout ${env.PRESENCE_TIMEOUT_SECONDS ?? 90} s, grace ${env.GRACE_SECONDS ?? 10} s, sweep every ${config.sweepIntervalMs / 1000} s`,
    `  WebSocket limits frame 32 KB (close 1009), idle ${config.idleTimeoutMs / 1000} s, max ${config.maxConnectionMs / 1000} s${config.dropDisconnect ? ', $disconnect DROPPED' : ''}`,
    '',
    `  Demo users       ${stack.seededUsers.join(', ') || '(none)'}`,
    `  Get a token      curl -s -X POST ${stack.url}/dev/token -H 'content-type: application/json' -d '{"userId":"alice"}'`,
    `  Try it           open ${stack.url}/?user=bob in one window and ${stack.url}/?user=alice in another`,
    ...(stackFile ? [`  Stack file       ${stackFile} (npm run invoke uses these stores)`] : []),
    '',
    'Ctrl-C, SIGTERM / SIGHUP, or its parent (npm) exiting stops the stack and the embedded Redis/Postgres.',
    '',
  ];
  return lines.join('\n');
}

async function main(): Promise<void> {
  const config = parseLocalConfig(process.env);
  const stackFile = stackFilePath(process.env);
  process.stdout.write('Starting the Presence API local stack...\n');
  // A closed pipe (the terminal or the parent gone) must not crash the shutdown that follows.
  process.stdout.on('error', () => undefined);
  process.stderr.on('error', () => undefined);
  const running: { stack?: LocalStack; starting?: Promise<LocalStack | undefined> } = {};
  let exiting = false;
  const shutdown = async (why: string, code: number) => {
    if (exiting) return;
    exiting = true;
    process.stdout.write(`\n${why}: stopping...\n`);
    const force = setTimeout(() => {
      running.stack?.killNow();
      process.exit(code || 1);
    }, 10_000);
    // Stopping mid-start: let the start settle (it stops what it started if it fails), then stop what is running.
    const stack = running.stack ?? (await running.starting);
    await stack?.stop().catch(() => undefined);
    if (stackFile) removeStackFile(stackFile, process.pid);
    clearTimeout(force);
    process.stdout.write('Stopped.\n');
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown('SIGINT', 130));
  process.on('SIGTERM', () => void shutdown('SIGTERM', 143));
  process.on('SIGHUP', () => void shutdown('SIGHUP', 129));
  process.on('uncaughtException', (error) => {
    // While stopping, stores going away may surface as errors of idle clients: nothing left to protect.
    if (exiting) return;
    process.stderr.write(`Uncaught exception: ${redactSecrets(error.stack ?? error.message)}\n`);
    void shutdown('crash', 1);
  });
  process.on('unhandledRejection', (reason) => {
    process.stderr.write(
      `Unhandled rejection: ${redactSecrets(reason instanceof Error ? (reason.stack ?? reason.message) : String(reason))}\n`,
    );
    void shutdown('crash', 1);
  });
  // If the process exits any other way, do not leave the embedded servers behind.
  process.on('exit', () => {
    running.stack?.killNow();
    if (stackFile) removeStackFile(stackFile, process.pid);
  });
  // `kill <pid of npm start>`: npm may die without passing the signal on, leaving `sh -c` and this process behind.
  // Whoever started the stack going away stops it.
  watchParents(watchedAncestors(), (pid) => void shutdown(`parent process ${pid} exited`, 129));

  running.starting = startLocalStack(config).catch((error: unknown) => {
    process.stderr.write(
      `The local stack did not start: ${redactSecrets(error instanceof Error ? error.message : String(error))}\n`,
    );
    if (!exiting) process.exit(1);
    return undefined;
  });
  const started = await running.starting;
  if (!started || exiting) return;
  running.stack = started;
  if (stackFile) {
    writeStackFile(stackFile, {
      pid: process.pid,
      url: started.url,
      websocketUrl: `${started.url.replace('http', 'ws')}/ws`,
      startedAt: new Date().toISOString(),
      redis: started.redis,
      postgres: started.database,
      env: Object.fromEntries(
        SHARED_ENV_KEYS.flatMap((key) => (process.env[key] !== undefined ? [[key, process.env[key] as string]] : [])),
      ),
    });
  }
  process.stdout.write(banner(started, config, stackFile));
}

void main();
