// The sweep bench: N expired connections whose users have F online friends each, reaped by one `timeout` pass.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { ConnectionsApi } from './support/connections-api';
import { MEASURED_PASS_MARK } from './support/sweep-handshake';
import { commandStats, commandStatsDelta, cpuSeconds } from './support/process-stats';
import { BATCH_POOL_PREFIX, POOL_PREFIX, removeLeftovers, seedExpiredConnections } from './support/seed';
import type { BenchStores } from './support/stores';
import { seedUsersWithPoolFriends } from './support/stores';
import type { SweepWorkerReport } from './sweep-worker';

/** One sweep figure. */
export interface SweepFigure {
  /** `sdk`: the real @connections client to the stand-in API over HTTP; `memory`: a gateway that only counts. */
  readonly gateway: 'sdk' | 'memory';
  readonly expired: number;
  readonly friendsEach: number;
  /** The friends' connections opted into batches (as the shipped client does): a pass sends each one batch. */
  readonly friendsBatch: boolean;
  /** Sender threads the pass's @connections calls ran on (0: the sweeping thread itself). */
  readonly senderThreads?: number;
  /** A comparison run pinned to CONNECTIONS_THREADS=0 where the shipped default would start threads. */
  readonly callingThread?: boolean;
  /**
   * `warm`: the measured pass is the process's second, after a pass over other expired users (a container that swept
   * before: its JIT has compiled the sweep and the SDK, its sender threads run); `cold`: the first pass of a fresh
   * process (a container's first invocation).
   */
  readonly pass: 'cold' | 'warm';
  readonly wallMs: number;
  readonly connectionsPerSecond: number;
  readonly notificationsPerSecond: number;
  /** Posts (notifications) plus DeleteConnection calls per second. */
  readonly connectionsApiCallsPerSecond: number;
  readonly reaped: number;
  /** Messages delivered to friends (each element of a `presence-batch` counts). */
  readonly notifications: number;
  /** PostToConnection calls (a batch is one). */
  readonly posts: number;
  readonly deletes: number;
  readonly failed: number;
  readonly redisRoundTrips: number;
  readonly postgresQueries: number;
  readonly peakRssMb: number;
  readonly rssBeforeMb: number;
  readonly peakHeapMb: number;
  /** CPU seconds of the sweeping process, of Redis (embedded only) and of the stand-in API, during the pass. */
  readonly cpu: { readonly sweep: number; readonly redis: number | null; readonly connectionsApi: number | null };
  /** Busiest Redis commands of the pass (INFO commandstats delta). */
  readonly redisCommands: { command: string; calls: number; usec: number; usecPerCall: number }[];
  /** The handler's own SweepStats (claimed, reaped, changes, sent, failed, closeFailures, shardErrors...). */
  readonly stats: Record<string, number>;
  /** Warnings and errors the layer logged during the pass, grouped. */
  readonly problems: { message: string; count: number }[];
  /** Redis SLOWLOG of the pass (entries over slowlog-log-slower-than, default 10 ms), slowest first as Redis lists them. */
  readonly slowlog: { usec: number; command: string; args: number }[];
}

/** Expired users the warm-up pass of a warm run sweeps (at most the measured count). */
export const WARM_PASS_USERS = 1000;

/** The lines after the last {@link MEASURED_PASS_MARK}, or all of them when there is none. */
function measuredLines(text: string): string[] {
  const lines = text.split('\n');
  const at = lines.lastIndexOf(MEASURED_PASS_MARK);
  return at >= 0 ? lines.slice(at + 1) : lines;
}

/**
 * The worker's report and the warnings and errors it logged during the measured pass, grouped by message (the layer
 * logs one JSON line each). With `beforeMeasuredPass` the worker handshakes over IPC once it is loaded, warm and
 * connected (and, with BENCH_WARM_PASS=1 in `env`, done with its warm-up pass): the hook runs (seeding, counter
 * snapshots), then the measured pass starts.
 */
export function runWorker(
  env: NodeJS.ProcessEnv,
  extraArgs: string[],
  beforeMeasuredPass?: () => Promise<void>,
): Promise<{ report: SweepWorkerReport; problems: { message: string; count: number }[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...extraArgs, '--import', 'tsx', join(__dirname, 'sweep-worker.ts')], {
      env: { ...env, ...(beforeMeasuredPass ? { BENCH_HANDSHAKE: '1' } : {}) },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    let ended = false;
    const fail = (error: unknown): void => {
      ended = true;
      reject(error instanceof Error ? error : new Error(String(error)));
    };
    child.on('error', fail);
    child.on('message', (message) => {
      if (message !== 'ready' || !beforeMeasuredPass) return;
      beforeMeasuredPass().then(
        () => {
          if (!ended && child.connected) child.send('go', (error) => error && fail(error));
        },
        (error: unknown) => {
          child.kill();
          fail(error);
        },
      );
    });
    let out = '';
    let err = '';
    child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
    // 'close', not 'exit': the output is complete only once the child's pipes have closed.
    child.once('close', (code) => {
      if (ended) return;
      ended = true;
      const lines = measuredLines(out.trim());
      const line = lines.pop() ?? '';
      if (code !== 0 || !line.startsWith('{"wallMs"')) {
        reject(new Error(`sweep worker exited with ${code}: ${out.slice(-500)} ${err.slice(-1500)}`));
        return;
      }
      const counts = new Map<string, number>();
      for (const log of [...lines, ...measuredLines(err)]) {
        try {
          const entry = JSON.parse(log) as { message?: string; error?: unknown; dependency?: string; cause?: string };
          const detail = [entry.dependency, entry.cause].filter(Boolean).join(': ');
          const key = `${entry.message ?? '?'}: ${String(typeof entry.error === 'string' ? entry.error : JSON.stringify(entry.error ?? '')).slice(0, 160)}${detail ? ` (${detail.slice(0, 160)})` : ''}`;
          counts.set(key, (counts.get(key) ?? 0) + 1);
        } catch {
          // not a log line
        }
      }
      const problems = [...counts].map(([message, count]) => ({ message, count })).sort((a, b) => b.count - a.count);
      resolve({ report: JSON.parse(line) as SweepWorkerReport, problems });
    });
  });
}

function reapedOf(report: SweepWorkerReport): number {
  return report.stats.reaped ?? 0;
}

/** Seeds and sweeps each size in turn (each size in a fresh worker process, so peak memory is its own). */
export async function benchSweep(
  stores: BenchStores,
  api: ConnectionsApi,
  sizes: readonly number[],
  friendsEach: number,
  poolSize: number,
  options: {
    cpuProfileDir?: string;
    gateway?: 'sdk' | 'memory';
    friendsBatch?: boolean;
    /** CONNECTIONS_THREADS for the pass; unset: the shipped default (auto). */
    threads?: number;
    /** Measure a warm container's pass (the process's second); else the first pass of a fresh process. */
    warm?: boolean;
  } = {},
): Promise<SweepFigure[]> {
  const figures: SweepFigure[] = [];
  const gateway = options.gateway ?? 'sdk';
  const friendsBatch = options.friendsBatch ?? false;
  for (const n of sizes) {
    const prefix = `s${n}${gateway[0]}${friendsBatch ? 'b' : ''}${options.threads === 0 ? 't0' : ''}${options.warm ? 'w' : ''}`;
    const poolPrefix = friendsBatch ? BATCH_POOL_PREFIX : POOL_PREFIX;
    const seed = async (usersPrefix: string, count: number): Promise<void> => {
      await seedUsersWithPoolFriends(stores.pool, usersPrefix, count, poolPrefix, poolSize, friendsEach);
      await seedExpiredConnections(stores, usersPrefix, count);
    };
    // A warm run first sweeps other users with the same friends (as the previous minute's pass of a warm container),
    // then the measured users are seeded and swept: the figures below count only that second pass.
    const warmPrefix = `${prefix}x`;
    const warmUsers = Math.min(n, WARM_PASS_USERS);
    let before: Record<string, number> = {};
    let cmdBefore: Awaited<ReturnType<typeof commandStats>> = {};
    let redisCpu0: number | null = null;
    let apiCpu0: number | null = null;
    const startMeasuring = async (): Promise<void> => {
      await seed(prefix, n);
      before = await api.counts();
      cmdBefore = await commandStats(stores.redis);
      await stores.redis.call('SLOWLOG', 'RESET');
      redisCpu0 = cpuSeconds(stores.redisPid);
      apiCpu0 = cpuSeconds(api.pid);
    };
    if (options.warm) await seed(warmPrefix, warmUsers);
    // One directory per size: the tsx loader thread writes a profile of its own next to the main thread's.
    const extra = options.cpuProfileDir
      ? [
          '--cpu-prof',
          `--cpu-prof-dir=${join(options.cpuProfileDir, `sweep-${gateway}${friendsBatch ? '-batch' : ''}${options.threads === 0 ? '-t0' : ''}${options.warm ? '-warm' : ''}-${n}-profiles`)}`,
        ]
      : [];
    const { report, problems } = await runWorker(
      {
        ...process.env,
        BENCH_SWEEP_GATEWAY: gateway,
        SWEEP_WINDOW_SECONDS: '0',
        // One pass that runs until everything is delivered, as PageNow's sweep does in one invocation: a pass is
        // otherwise cut at the sweep interval (10 s) and leaves the rest to the next pass or the workers, and the
        // figure would count reaped connections, not delivered ones.
        SWEEP_INTERVAL_SECONDS: '900',
        POWERTOOLS_LOG_LEVEL: 'WARN',
        AWS_SDK_JS_SUPPRESS_NODE_DEPRECATION_WARNING: '1',
        CONNECTIONS_THREADS: options.threads !== undefined ? String(options.threads) : 'auto',
        ...(options.warm ? { BENCH_WARM_PASS: '1' } : {}),
      },
      extra,
      // Cold and warm alike, the counters start once the worker is loaded, connected and warmed up, right before the
      // measured pass; the measured users are seeded then.
      startMeasuring,
    );
    const redisCpu1 = cpuSeconds(stores.redisPid);
    const apiCpu1 = cpuSeconds(api.pid);
    const after = await api.counts();
    const cmdAfter = await commandStats(stores.redis);
    const slowlog = ((await stores.redis.call('SLOWLOG', 'GET', '5')) as [number, number, number, string[]][]).map(
      ([, , usec, args]) => ({ usec, command: args.slice(0, 3).join(' ').slice(0, 80), args: args.length }),
    );
    if (reapedOf(report) < n) await removeLeftovers(stores, prefix, n);
    if (options.warm && (report.warmReaped ?? 0) < warmUsers) await removeLeftovers(stores, warmPrefix, warmUsers);
    const seconds = report.wallMs / 1000;
    const posts = gateway === 'memory' ? report.gatewayPosts : (after.POST ?? 0) - (before.POST ?? 0);
    const notifications = gateway === 'memory' ? posts : (after.CHANGES ?? 0) - (before.CHANGES ?? 0);
    const deletes = gateway === 'memory' ? report.gatewayCloses : (after.DELETE ?? 0) - (before.DELETE ?? 0);
    const reaped = report.stats.reaped ?? 0;
    figures.push({
      gateway,
      expired: n,
      friendsEach,
      friendsBatch,
      senderThreads: report.senderThreads,
      ...(options.threads === 0 ? { callingThread: true } : {}),
      pass: options.warm ? 'warm' : 'cold',
      wallMs: report.wallMs,
      connectionsPerSecond: reaped / seconds,
      notificationsPerSecond: notifications / seconds,
      connectionsApiCallsPerSecond: (posts + deletes) / seconds,
      reaped,
      notifications,
      posts,
      deletes,
      failed: (report.stats.failed ?? 0) + (report.stats.closeFailures ?? 0) + (report.stats.shardErrors ?? 0),
      redisRoundTrips: report.redisRoundTrips,
      postgresQueries: report.postgresQueries,
      peakRssMb: report.peakRssMb,
      rssBeforeMb: report.rssBeforeMb,
      peakHeapMb: report.peakHeapMb,
      cpu: {
        sweep: report.cpuSeconds,
        redis: redisCpu0 !== null && redisCpu1 !== null ? redisCpu1 - redisCpu0 : null,
        connectionsApi: apiCpu0 !== null && apiCpu1 !== null ? apiCpu1 - apiCpu0 : null,
      },
      redisCommands: commandStatsDelta(cmdBefore, cmdAfter).slice(0, 8),
      stats: report.stats,
      problems: problems.slice(0, 6),
      slowlog,
    });
  }
  return figures;
}
