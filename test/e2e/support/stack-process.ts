// Runs `src/local/main.ts` (what `npm start` runs) as a child process on a free port, and stops it by its PID.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');

/** A local stack running in a child process. */
export interface StackProcess {
  readonly url: string;
  readonly wsUrl: string;
  readonly pid: number;
  /** Start-up time the stack reported (stores, migrations, handlers, listen). */
  readonly reportedStartupMs: number;
  /** Spawn to ready, as measured here (includes Node and TypeScript loading). */
  readonly measuredStartupMs: number;
  /** Everything the stack wrote so far. */
  output(): string;
  /** SIGTERM, then wait for exit (SIGKILL after 20 s); resolves with the exit code. */
  stop(): Promise<number | null>;
}

/**
 * Starts the stack with `env` on top of this process's environment. Embedded Redis and Postgres are always used
 * (REDIS_URL / DATABASE_URL are removed), so tests never touch a developer's data.
 */
export async function startStackProcess(env: Record<string, string> = {}, timeoutMs = 90_000): Promise<StackProcess> {
  // LOCAL_STACK_FILE empty: a test's stack never replaces the .local-stack.json of a developer's running `npm start`.
  const childEnv: NodeJS.ProcessEnv = { ...process.env, PORT: '0', NO_COLOR: '1', LOCAL_STACK_FILE: '' };
  delete childEnv.REDIS_URL;
  delete childEnv.DATABASE_URL;
  delete childEnv.ALLOWED_ORIGINS;
  // The stack runs as shipped (CONNECTIONS_THREADS=auto: sender threads on a machine with more than one core), not
  // with the calling-thread gateway the in-process handler tests use.
  delete childEnv.CONNECTIONS_THREADS;
  Object.assign(childEnv, env);
  const spawnedAt = performance.now();
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', join('src', 'local', 'main.ts')], {
    cwd: ROOT,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = await new Promise<{ url: string; reported: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`stack did not start in ${timeoutMs} ms:\n${output}`)), timeoutMs);
    const check = () => {
      const reported = /ready in (\d+) ms/.exec(output);
      const url = /Demo page\s+(http:\/\/127\.0\.0\.1:\d+)\//.exec(output);
      if (reported && url) {
        clearTimeout(timer);
        resolve({ url: url[1] as string, reported: Number(reported[1]) });
      }
    };
    child.stdout?.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`stack exited with ${code} before it was ready:\n${output}`));
    });
  });
  const measuredStartupMs = Math.round(performance.now() - spawnedAt);
  let stopping: Promise<number | null> | undefined;
  return {
    url: ready.url,
    wsUrl: `${ready.url.replace('http', 'ws')}/ws`,
    pid: child.pid as number,
    reportedStartupMs: ready.reported,
    measuredStartupMs,
    output: () => output,
    stop() {
      stopping ??= (async () => {
        if (child.exitCode !== null) return child.exitCode;
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
        const code = await exited;
        clearTimeout(timer);
        return code;
      })();
      return stopping;
    },
  };
}

/** A token for `userId` from the stack's dev issuer. */
export async function devToken(stackUrl: string, userId: string, expiresIn?: number): Promise<string> {
  const response = await fetch(`${stackUrl}/dev/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ userId, ...(expiresIn !== undefined ? { expiresIn } : {}) }),
  });
  if (!response.ok) throw new Error(`/dev/token answered ${response.status}`);
  return ((await response.json()) as { token: string }).token;
}

/** POSTs JSON to the stack and returns the status. */
export async function postJson(stackUrl: string, path: string, body: unknown): Promise<number> {
  const response = await fetch(`${stackUrl}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  await response.arrayBuffer();
  return response.status;
}
