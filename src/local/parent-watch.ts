// Stops the local stack when whoever started it goes away: `kill <pid of npm start>`, a closed IDE, a dead parent.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** A process as seen in the process table: its parent, its command line, whether it is a zombie. */
interface ProcessInfo {
  readonly ppid: number;
  readonly command: string;
  readonly zombie: boolean;
}

/** Reads a process from /proc (Linux), else from `ps` (macOS, BSD); undefined when it does not exist. */
function processInfo(pid: number): ProcessInfo | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ')'.
    const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
    return { ppid: Number(ppid), command, zombie: state === 'Z' || state === 'X' };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || process.platform === 'linux') return undefined;
  }
  try {
    const out = execFileSync('ps', ['-o', 'ppid=,stat=,command=', '-p', String(pid)], { encoding: 'utf8' }).trim();
    const match = /^(\d+)\s+(\S+)\s+(.*)$/.exec(out);
    return match
      ? { ppid: Number(match[1]), command: match[3] ?? '', zombie: (match[2] ?? '').startsWith('Z') }
      : undefined;
  } catch {
    return undefined;
  }
}

const isNpm = (command: string): boolean => /(^|[\s/])(npm|npm-cli\.js|npx|npx-cli\.js)(\s|$)/.test(command);

/**
 * The processes whose exit must stop this one: the parent, and when run by `npm start` (or `npm run`), every
 * ancestor up to and including npm, since npm may die without forwarding a signal and leave its `sh -c` behind.
 */
export function watchedAncestors(env: NodeJS.ProcessEnv = process.env, pid: number = process.pid): number[] {
  const parent = processInfo(pid)?.ppid ?? process.ppid;
  if (!env.npm_lifecycle_event) return parent > 1 ? [parent] : [];
  const chain: number[] = [];
  for (let current = parent, depth = 0; current > 1 && depth < 6; depth += 1) {
    const info = processInfo(current);
    if (!info) break;
    chain.push(current);
    if (isNpm(info.command)) return chain;
    current = info.ppid;
  }
  // No npm found (an unusual launcher): watch only the direct parent, never unrelated ancestors such as a login shell.
  return parent > 1 ? [parent] : [];
}

/** Whether `pid` is still running (a zombie, dead but not yet reaped, counts as gone). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  return processInfo(pid)?.zombie !== true;
}

/**
 * Calls `onGone` once, with the pid, when any of `pids` exits or this process is re-parented (its parent died);
 * checks every `intervalMs`. Returns a function that stops watching.
 */
export function watchParents(pids: readonly number[], onGone: (pid: number) => void, intervalMs = 500): () => void {
  if (pids.length === 0) return () => undefined;
  const parent = pids[0] as number;
  const timer = setInterval(() => {
    const gone = pids.find((pid) => !isRunning(pid));
    const reparented = (processInfo(process.pid)?.ppid ?? parent) !== parent;
    if (gone === undefined && !reparented) return;
    clearInterval(timer);
    onGone(gone ?? parent);
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
