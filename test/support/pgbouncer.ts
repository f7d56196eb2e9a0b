// PgBouncer in transaction pooling mode in front of the test Postgres: the nearest local stand-in for RDS Proxy.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, portIsOpen } from '../../src/local/free-port';

/** A running PgBouncer: the URL of the upstream database through it, its process id, and how to stop it. */
export interface RunningPgBouncer {
  /** The upstream URL with PgBouncer's host and port (same user, password and database). */
  readonly url: string;
  readonly pid: number | undefined;
  /** Stops the process (by its PID) and removes its config directory; safe to call twice. */
  stop(): Promise<void>;
}

/** The pgbouncer binary: `PGBOUNCER_BIN`, else the one on PATH, else Debian's /usr/sbin/pgbouncer; undefined if none. */
export function findPgBouncer(): string | undefined {
  if (process.env.PGBOUNCER_BIN) return process.env.PGBOUNCER_BIN;
  const found = spawnSync('sh', ['-c', 'command -v pgbouncer'], { encoding: 'utf8' }).stdout?.trim();
  if (found) return found;
  return ['/usr/sbin/pgbouncer', '/usr/local/sbin/pgbouncer', '/usr/local/bin/pgbouncer'].find((path) =>
    existsSync(path),
  );
}

/** Quotes a value for pgbouncer.ini / the auth file (double quotes, doubled inside). */
const quoted = (value: string): string => `"${value.replace(/"/g, '""')}"`;

/**
 * Starts PgBouncer on a free 127.0.0.1 port in front of the Postgres of `upstreamUrl`, the way RDS Proxy sits in
 * front of the database in AWS:
 * - `pool_mode = transaction`: server connections are shared between clients after every transaction, so nothing
 *   may rely on session state;
 * - no `ignore_startup_parameters`: a client sending a startup parameter PgBouncer does not track
 *   (`statement_timeout`, `options`, ...) is refused, as RDS Proxy refuses it;
 * - a `*` wildcard database entry, so every database of the upstream server is reachable by name (tests isolate
 *   themselves with a database each);
 * - a small pool per database, so clients really do share server connections.
 *
 * Config and auth files live in a temp directory, removed by `stop()`. As root, PgBouncer (which refuses to run as
 * root) is started with `-u postgres`.
 */
export async function startPgBouncer(upstreamUrl: string): Promise<RunningPgBouncer> {
  const binary = findPgBouncer();
  if (!binary) {
    throw new Error(
      'No pgbouncer binary: install PgBouncer (apt-get install pgbouncer, brew install pgbouncer), set PGBOUNCER_BIN, or set PGBOUNCER_URL',
    );
  }
  const upstream = new URL(upstreamUrl);
  const user = decodeURIComponent(upstream.username || 'postgres');
  const password = decodeURIComponent(upstream.password);
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'presence-pgbouncer-'));
  const asRoot = process.getuid?.() === 0;
  const authFile = join(dir, 'userlist.txt');
  const configFile = join(dir, 'pgbouncer.ini');
  // A plain-text password lets PgBouncer answer the client's SCRAM exchange and log in to the server with it.
  writeFileSync(authFile, `${quoted(user)} ${quoted(password)}\n`);
  writeFileSync(
    configFile,
    [
      '[databases]',
      `* = host=${upstream.hostname} port=${upstream.port || '5432'}`,
      '',
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      `auth_type = ${password ? 'scram-sha-256' : 'trust'}`,
      `auth_file = ${authFile}`,
      'pool_mode = transaction',
      'default_pool_size = 4',
      'max_client_conn = 500',
      'server_tls_sslmode = disable',
      'ignore_startup_parameters =',
      'server_login_retry = 1',
      'log_connections = 0',
      'log_disconnections = 0',
      '',
    ].join('\n'),
  );
  if (asRoot) {
    // The `postgres` user PgBouncer switches to must read the files.
    chmodSync(dir, 0o755);
    chmodSync(authFile, 0o644);
    chmodSync(configFile, 0o644);
  }

  const child: ChildProcess = spawn(binary, [...(asRoot ? ['-u', 'postgres'] : []), configFile], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let output = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  });
  let exited = false;
  const exitedPromise = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  child.once('error', () => undefined);
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const deadline = Date.now() + 10_000;
  while (!(await portIsOpen(port))) {
    if (exited || Date.now() > deadline) {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw new Error(
        `pgbouncer (${binary}) did not start on port ${port}: ${output.trim().split('\n').slice(-3).join(' | ')}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 30));
  }

  const url = new URL(upstreamUrl);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  let stopping: Promise<void> | undefined;
  return {
    url: url.toString(),
    pid: child.pid,
    stop() {
      stopping ??= (async () => {
        process.removeListener('exit', killOnExit);
        if (!exited) {
          // SIGTERM: PgBouncer's immediate shutdown (SIGINT would wait for clients to leave).
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
          await exitedPromise;
          clearTimeout(timer);
        }
        rmSync(dir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
}
