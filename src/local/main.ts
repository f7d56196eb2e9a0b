// `npm start`: runs the whole Presence API on this machine (127.0.0.1 only) and stops everything it started on exit.
import './log-defaults';
import { redactSecrets } from '@presence/layer';
import type { LocalConfig } from './local-config';
import { parseLocalConfig } from './local-config';
import type { LocalStack } from './local-stack';
import { startLocalStack } from './local-stack';

function banner(stack: LocalStack, config: LocalConfig): string {
  const env = process.env;
  const store = (kind: string, s: { url: string; embedded: boolean }) =>
    `${s.embedded ? `embedded ${kind}` : `${kind} from env`}  ${s.url.replace(/\/\/[^@/]*@/, '//***@')}`;
  const lines = [
    '',
    `Presence API local stack ready in ${stack.startupMs} ms`,
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
    '',
    'Ctrl-C stops the stack (and the embedded Redis/Postgres).',
    '',
  ];
  return lines.join('\n');
}

async function main(): Promise<void> {
  const config = parseLocalConfig(process.env);
  process.stdout.write('Starting the Presence API local stack...\n');
  const running: { stack?: LocalStack } = {};
  let exiting = false;
  const shutdown = async (why: string, code: number) => {
    if (exiting) return;
    exiting = true;
    process.stdout.write(`\n${why}: stopping...\n`);
    const force = setTimeout(() => {
      running.stack?.killNow();
      process.exit(code || 1);
    }, 10_000);
    await running.stack?.stop().catch(() => undefined);
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
  process.on('exit', () => running.stack?.killNow());
  let started: LocalStack;
  try {
    started = await startLocalStack(config);
  } catch (error) {
    process.stderr.write(
      `The local stack did not start: ${redactSecrets(error instanceof Error ? error.message : String(error))}\n`,
    );
    process.exit(1);
  }
  running.stack = started;
  if (exiting) return void started.stop();
  process.stdout.write(banner(started, config));
}

void main();
