// Embedded Redis for the local stack: a redis-server from PATH on a free loopback port, without persistence.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, portIsOpen } from './free-port';

/** A running embedded server: its URL, its process id, and how to stop it. */
export interface EmbeddedServer {
  readonly url: string;
  readonly pid: number | undefined;
  /** Stops the server and removes its files; safe to call twice. */
  stop(): Promise<void>;
  /** Last-resort synchronous kill, for `process.on('exit')`. */
  killNow(): void;
}

/**
 * Children not stopped yet, killed synchronously (and their directories removed) if the process exits before
 * stopping them, even mid-start.
 */
const running = new Map<{ kill(signal: NodeJS.Signals): boolean }, string>();
let exitHookAdded = false;

function track(
  child: { kill(signal: NodeJS.Signals): boolean; once(event: 'exit', fn: () => void): unknown },
  dir: string,
): () => void {
  if (!exitHookAdded) {
    exitHookAdded = true;
    process.on('exit', () =>
      running.forEach((directory, c) => {
        c.kill('SIGKILL');
        rmSync(directory, { recursive: true, force: true });
      }),
    );
  }
  running.set(child, dir);
  return () => running.delete(child);
}

/** The redis-server binary: `REDIS_SERVER_BIN`, else the one on PATH, else undefined. */
export function findRedisServer(): string | undefined {
  if (process.env.REDIS_SERVER_BIN) return process.env.REDIS_SERVER_BIN;
  const found = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout?.trim();
  return found || undefined;
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.setTimeout(500);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('+PONG'));
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** Options of {@link startEmbeddedRedis}. */
export interface EmbeddedRedisOptions {
  /** Port to listen on (default: a free one; tests restart a server on the same port). */
  readonly port?: number;
  /** Extra redis-server arguments (e.g. `--cluster-enabled yes`). */
  readonly args?: readonly string[];
}

/** Offset of a cluster node's bus port from its client port (fixed by Redis). */
const CLUSTER_BUS_OFFSET = 10_000;

/**
 * A free port for a new server; for a cluster node, one whose bus port (port + 10000) is below 65536 and free too
 * (an ephemeral port near the top of the range, or a bus port in use, makes redis-server exit at once).
 */
async function portFor(cluster: boolean): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (!cluster) return port;
    if (port + CLUSTER_BUS_OFFSET < 65_536 && !(await portIsOpen(port + CLUSTER_BUS_OFFSET))) return port;
  }
}

/**
 * Starts redis-server on 127.0.0.1 (no persistence); rejects with a clear message when no binary is found. On a port
 * of its own choosing it tries again on another port when the first one was taken meanwhile (another process may
 * bind a port between the check and the server's start).
 */
export async function startEmbeddedRedis(
  options: EmbeddedRedisOptions = {},
): Promise<EmbeddedServer & { port: number }> {
  const binary = findRedisServer();
  if (!binary) {
    throw new Error(
      'No REDIS_URL and no redis-server on PATH: install Redis (e.g. apt-get install redis-server, brew install redis) or set REDIS_URL',
    );
  }
  if (options.port !== undefined) return startOn(binary, options.port, options);
  const cluster = (options.args ?? []).includes('--cluster-enabled');
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await startOn(binary, await portFor(cluster), options);
    } catch (error) {
      if (attempt >= 3) throw error;
    }
  }
}

async function startOn(
  binary: string,
  port: number,
  options: EmbeddedRedisOptions,
): Promise<EmbeddedServer & { port: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'presence-redis-'));
  const child = spawn(
    binary,
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
      ...(options.args ?? []),
    ],
    {
      stdio: 'ignore',
    },
  );
  let exited = child.exitCode !== null;
  const exitedPromise = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  // A binary that cannot be spawned (REDIS_SERVER_BIN wrong) emits 'error' and may never emit 'exit'.
  child.once('error', () => (exited = true));
  const untrack = track(child, dir);
  const deadline = Date.now() + 10_000;
  while (!(await ping(port))) {
    if (exited || Date.now() > deadline) {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      untrack();
      throw new Error(`redis-server (${binary}) did not start on port ${port}`);
    }
    await new Promise((r) => setTimeout(r, 30));
  }
  let stopping: Promise<void> | undefined;
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    pid: child.pid,
    stop() {
      stopping ??= (async () => {
        if (!exited) {
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
          await exitedPromise;
          clearTimeout(timer);
        }
        rmSync(dir, { recursive: true, force: true });
        untrack();
      })();
      return stopping;
    },
    killNow() {
      if (!exited) child.kill('SIGKILL');
    },
  };
}
