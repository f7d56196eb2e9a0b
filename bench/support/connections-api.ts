// Starts and stops the stand-in @connections API process (bench/support/connections-server.ts).
import { spawn } from 'node:child_process';
import { join } from 'node:path';

/** A connection the stand-in answers without counting: a worker's warm-up call (credentials, lazily loaded modules). */
export const WARMUP_CONNECTION_ID = '__warmup';

/** A running stand-in @connections API. */
export interface ConnectionsApi {
  /** The `CONNECTIONS_ENDPOINT` value (with a stage). */
  readonly endpoint: string;
  readonly pid: number | undefined;
  /** Requests it answered, by method. */
  counts(): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

/** Spawns the server with tsx and waits for its port. */
export async function startConnectionsApi(): Promise<ConnectionsApi> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'connections-server.ts')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(() => reject(new Error('@connections stand-in did not start')), 15_000);
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      const line = buffer.split('\n')[0];
      if (buffer.includes('\n') && line) {
        clearTimeout(timer);
        resolve((JSON.parse(line) as { port: number }).port);
      }
    });
    child.once('exit', (code) => reject(new Error(`@connections stand-in exited with ${code}`)));
  });
  const base = `http://127.0.0.1:${port}`;
  return {
    endpoint: `${base}/bench`,
    pid: child.pid,
    counts: async () => (await (await fetch(`${base}/__stats`)).json()) as Record<string, number>,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
