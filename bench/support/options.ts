// Command-line options of `npm run bench`: full or smoke sizes, and which parts to run.

/** The parts of the bench, in run order. */
export const PARTS = [
  'floors',
  'handlers',
  'sweep',
  'scale-out',
  'cache-memory',
  'cold-start',
  'gateway',
  'cost',
] as const;

/** A part of the bench. */
export type Part = (typeof PARTS)[number];

/** Parsed options. */
export interface BenchOptions {
  /** Tiny sizes, no targets checked: proves the bench works (CI). */
  readonly smoke: boolean;
  readonly parts: ReadonlySet<Part>;
  readonly floorIterations: number;
  readonly updateFriends: readonly number[];
  readonly getFriends: readonly number[];
  iterations(friends: number): number;
  /** Sweep sizes with the in-memory gateway (store + domain side). */
  readonly sweepSizes: readonly number[];
  /** Sweep sizes through the real @connections client (HTTP to the stand-in API); 100k takes ~25 min here. */
  readonly sweepSdkSizes: readonly number[];
  /** Online friends of every swept user. */
  readonly sweepFriends: number;
  /** Mass expiry reaped and delivered by 1, 2 and 4 concurrent workers: its size and the worker counts. */
  readonly scaleOut: { readonly expired: number; readonly workers: readonly number[] };
  /** Cache sizing: users brought online through the handlers, their connections and friends. */
  readonly cacheMemory: {
    readonly users: number;
    readonly connectionsPerUser: number;
    readonly friendsPerUser: number;
  };
  /** Client counts of the gateway load test, one run each (the target at 2,000; 5,000 shows where it saturates). */
  readonly gatewayClients: readonly number[];
  readonly gatewaySeconds: number;
  /** Where the report goes. */
  readonly outDir: string;
  /** Write V8 CPU profiles of the sweep workers. */
  readonly cpuProfile: boolean;
  /** Handler cases to run (`--cases=get-presence,get-group-presence`); empty: all. */
  readonly cases: ReadonlySet<string>;
}

/**
 * Parses `--smoke`, `--only=a,b`, `--skip=a,b`, `--sweep-sizes=a,b`, `--gateway-seconds=N`, `--gateway-clients=N`,
 * `--gateway-clients=a,b`, `--scale-out-size=N`, `--scale-out-workers=a,b`, `--cpu-prof` (profiles of the sweep worker into the output directory),
 * `--out=DIR`, `--cache-users=N`, `--cases=a,b` (only these handler cases, by handler name).
 */
export function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv): BenchOptions {
  const flag = (name: string): string | undefined =>
    argv
      .find((a) => a === `--${name}` || a.startsWith(`--${name}=`))
      ?.split('=')
      .slice(1)
      .join('=');
  const has = (name: string): boolean => argv.some((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  const smoke = has('smoke') || env.BENCH_SMOKE === '1';
  /** `--name=a,b` as positive numbers, else the smoke or full default. */
  const numbers = (name: string, smokeDefault: number[], fullDefault: number[]): number[] =>
    has(name)
      ? (flag(name) ?? '')
          .split(',')
          .map(Number)
          .filter((x) => x > 0)
      : smoke
        ? smokeDefault
        : fullDefault;
  const list = (value: string | undefined): Part[] =>
    (value ?? '')
      .split(',')
      .map((p) => p.trim())
      .filter((p): p is Part => (PARTS as readonly string[]).includes(p));
  let parts = new Set<Part>(has('only') ? list(flag('only')) : PARTS);
  for (const p of list(flag('skip'))) parts.delete(p);
  if (parts.size === 0) parts = new Set(PARTS);
  return {
    smoke,
    parts,
    floorIterations: smoke ? 50 : 3000,
    updateFriends: smoke ? [0, 5, 10] : [0, 50, 500],
    getFriends: smoke ? [2, 10, 20] : [10, 1000, 5000],
    iterations: smoke
      ? () => 10
      : (friends) => (friends >= 500 ? 200 : friends >= 50 ? 1000 : friends >= 20 ? 500 : 3000),
    sweepSizes: numbers('sweep-sizes', [50], [1000, 10_000, 100_000]),
    sweepSdkSizes: numbers('sweep-sdk-sizes', [50], [1000, 10_000]),
    sweepFriends: smoke ? 3 : 20,
    scaleOut: {
      expired: Number(flag('scale-out-size') ?? (smoke ? 200 : 100_000)),
      workers: numbers('scale-out-workers', [1, 2], [1, 2, 4]),
    },
    cacheMemory: {
      users: Number(flag('cache-users') ?? (smoke ? 40 : 2000)),
      connectionsPerUser: 2,
      friendsPerUser: 20,
    },
    gatewayClients: numbers('gateway-clients', [20], [2000, 5000]),
    gatewaySeconds: Number(flag('gateway-seconds') ?? (smoke ? 2 : 60)),
    outDir: flag('out') ?? 'bench/results',
    cpuProfile: has('cpu-prof'),
    cases: new Set(
      (flag('cases') ?? '')
        .split(',')
        .map((c) => c.trim())
        .filter(Boolean),
    ),
  };
}
