// Lifecycle e2e: however `npm start` is stopped, everything it started stops (Node, Redis, Postgres, the port), and a
// failed start leaves nothing behind.
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LocalStackFile } from '../../src/local/stack-file';
import { isRunning } from '../../src/local/parent-watch';
import { portIsOpen } from '../../src/local/free-port';

jest.setTimeout(120_000);

const ROOT = join(__dirname, '..', '..');
const STOP_WITHIN_MS = 8000;
let scratch: string;
/** What a test started, stopped after it whatever happened (a failing test must not leave a stack running). */
const started: { npm?: ChildProcess; pids: number[] } = { pids: [] };

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'presence-e2e-lifecycle-'));
});

afterEach(async () => {
  for (const pid of started.pids.splice(0)) if (isRunning(pid)) process.kill(pid, 'SIGTERM');
  const { npm } = started;
  started.npm = undefined;
  if (npm && npm.exitCode === null && npm.signalCode === null && (await exitOf(npm, 5000)) === undefined)
    npm.kill('SIGKILL');
});

const afterTemp: string[] = [];

afterAll(() => {
  for (const dir of [scratch, ...afterTemp]) rmSync(dir, { recursive: true, force: true });
});

/** Environment of a stack started here: a free port, a stack file of its own, embedded stores only. */
function stackEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0', NO_COLOR: '1', ...extra };
  delete env.REDIS_URL;
  delete env.DATABASE_URL;
  return env;
}

/** Resolves when `child` exits (with its code), or after `ms` with undefined. */
function exitOf(child: ChildProcess, ms: number): Promise<number | null | undefined> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), ms);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

async function waitUntil(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** `npm start`, exactly as a user (or an IDE, a process manager) runs it; resolves once its stack file is written. */
async function npmStart(
  name: string,
): Promise<{ npm: ChildProcess; stack: LocalStackFile; file: string; output: () => string }> {
  const file = join(scratch, `${name}.json`);
  const npm = spawn('npm', ['start'], {
    cwd: ROOT,
    env: stackEnv({ LOCAL_STACK_FILE: file }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  npm.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  npm.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  await waitUntil(() => existsSync(file) || npm.exitCode !== null, 60_000, 'the stack file is written');
  if (!existsSync(file)) throw new Error(`npm start exited early:\n${output}`);
  const stack = JSON.parse(readFileSync(file, 'utf8')) as LocalStackFile;
  started.npm = npm;
  started.pids.push(stack.pid);
  return { npm, stack, file, output: () => output };
}

describe('stopping `npm start`', () => {
  it.each([
    ['SIGTERM to npm (`kill <pid of npm start>`)', 'npm', 'SIGTERM'],
    ['SIGINT to npm', 'npm', 'SIGINT'],
    ['SIGHUP to npm', 'npm', 'SIGHUP'],
    ['SIGKILL to npm (the parent dies without passing anything on)', 'npm', 'SIGKILL'],
    ['SIGTERM to the node process', 'node', 'SIGTERM'],
    ['SIGINT to the node process', 'node', 'SIGINT'],
    ['SIGHUP to the node process', 'node', 'SIGHUP'],
  ] as const)('%s stops the node process, Redis and Postgres, and frees the port', async (_name, target, signal) => {
    // Arrange
    const { npm, stack, file, output } = await npmStart(`${target}-${signal}`);
    const port = Number(new URL(stack.url).port);
    const pids = { node: stack.pid, redis: stack.redis.pid as number, postgres: stack.postgres.pid as number };
    expect(Object.values(pids).every((pid) => Number.isInteger(pid) && isRunning(pid))).toBe(true);
    await expect(portIsOpen(port)).resolves.toBe(true);
    // Act
    process.kill(target === 'npm' ? (npm.pid as number) : pids.node, signal);
    // Assert
    await waitUntil(
      () => Object.values(pids).every((pid) => !isRunning(pid)),
      STOP_WITHIN_MS,
      `node, redis-server and postgres are gone (${JSON.stringify(pids)}):\n${output()}`,
    );
    await expect(portIsOpen(port)).resolves.toBe(false);
    expect(existsSync(file)).toBe(false);
    await expect(exitOf(npm, STOP_WITHIN_MS)).resolves.not.toBeUndefined();
  });
});

describe('a failed start', () => {
  it('removes its embedded Postgres directory and stops the Postgres it started', async () => {
    // Arrange: a temp dir of its own (the postgres user must be able to enter it when run as root), and a
    // "redis-server" that never answers, so Redis fails after its 10 s deadline, long after Postgres is up.
    const temp = mkdtempSync(join(tmpdir(), 'presence-e2e-tmpdir-'));
    chmodSync(temp, 0o777);
    afterTemp.push(temp);
    const silentRedis = join(temp, 'silent-redis-server');
    writeFileSync(silentRedis, '#!/bin/sh\nexec sleep 60\n', { mode: 0o755 });
    const child = spawn(process.execPath, ['--import', 'tsx', join('src', 'local', 'main.ts')], {
      cwd: ROOT,
      env: stackEnv({ TMPDIR: temp, REDIS_SERVER_BIN: silentRedis, LOCAL_STACK_FILE: '' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    // Act
    const code = await exitOf(child, 60_000);
    // Assert
    expect(code).toBe(1);
    expect(output).toMatch(/The local stack did not start: redis-server .* did not start/);
    expect(readdirSync(temp).filter((entry) => entry.startsWith('presence-'))).toEqual([]);
    const processes = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
    expect(processes.split('\n').filter((line) => line.includes(temp) && !line.startsWith('ps '))).toEqual([]);
  });
});
