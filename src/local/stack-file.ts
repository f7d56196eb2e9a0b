// The running local stack's address book (`.local-stack.json`): where its stores are, so `npm run invoke` can use them.
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { isRunning } from './parent-watch';

/** The repository root (this file is src/local/stack-file.ts). */
const ROOT = join(__dirname, '..', '..');

/** The default path of the file, at the repository root (git-ignored). */
export const DEFAULT_STACK_FILE = join(ROOT, '.local-stack.json');

/** What a running `npm start` writes: its address, its stores (local URLs, unmasked) and the handlers' settings. */
export interface LocalStackFile {
  /** The stack's Node process. */
  readonly pid: number;
  readonly url: string;
  readonly websocketUrl: string;
  readonly startedAt: string;
  readonly redis: { readonly url: string; readonly embedded: boolean; readonly pid: number | undefined };
  readonly postgres: { readonly url: string; readonly embedded: boolean; readonly pid: number | undefined };
  /** The environment the stack gave its handlers (REDIS_URL, DATABASE_URL, CONNECTIONS_ENDPOINT, ALLOWED_ORIGINS...). */
  readonly env: Readonly<Record<string, string>>;
}

/**
 * Where the file lives: `LOCAL_STACK_FILE` (relative to the repository root), else {@link DEFAULT_STACK_FILE};
 * `LOCAL_STACK_FILE=` (empty) or `off` disables it (the e2e tests' stacks do not touch a developer's file).
 */
export function stackFilePath(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const value = env.LOCAL_STACK_FILE;
  if (value === undefined) return DEFAULT_STACK_FILE;
  if (value === '' || value === 'off' || value === '0') return undefined;
  return isAbsolute(value) ? value : resolve(ROOT, value);
}

/** Writes the file atomically, readable by the owner only (it holds the local database URL). */
export function writeStackFile(path: string, data: LocalStackFile): void {
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(data, null, 2)}\n`, { mode: 0o600 });
  renameSync(temp, path);
}

/** Removes the file if it still describes the stack of process `pid` (another stack may have replaced it). */
export function removeStackFile(path: string, pid: number): void {
  try {
    const current = JSON.parse(readFileSync(path, 'utf8')) as Partial<LocalStackFile>;
    if (current.pid === pid) rmSync(path, { force: true });
  } catch {
    // missing or unreadable: nothing of ours to remove
  }
}

/** The stack described by the file, if the file exists and its process is still running. */
export function readRunningStack(path: string | undefined = stackFilePath()): LocalStackFile | undefined {
  if (!path || !existsSync(path)) return undefined;
  try {
    const data = JSON.parse(readFileSync(path, 'utf8')) as LocalStackFile;
    return typeof data.pid === 'number' && isRunning(data.pid) ? data : undefined;
  } catch {
    return undefined;
  }
}
