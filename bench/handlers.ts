// Handlers invoked in-process with real events, warm: latency and Redis round trips / Postgres queries / posts per op.
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { Runtime } from '@presence/layer';
import { getRuntime } from '@presence/layer';
import { createDevIssuer } from '../src/local/dev-issuer';
import { loadEvent, restEvent, wsEvent } from '../events/sample-events';
import type { LatencyStats } from './support/stats';
import { cpuSeconds } from './support/process-stats';
import { elapsedMs, summarize } from './support/stats';
import type { BenchStores } from './support/stores';
import { POOL_PREFIX as POOL } from './support/seed';
import { seedFriends, seedUser, seedUsers, userId } from './support/stores';

/** One handler figure. */
export interface HandlerFigure {
  readonly handler: string;
  /** The case, e.g. "50 online friends". */
  readonly label: string;
  /** Friend count of the case (for the chart), when it has one. */
  readonly friends: number | null;
  readonly latency: LatencyStats;
  readonly redisRoundTrips: number;
  readonly postgresQueries: number;
  readonly posts: number;
  /** This process's CPU per invocation, µs (the handler, its clients and the SDK; not Redis or Postgres). */
  readonly cpuUs: number;
  /** Redis CPU per invocation, µs (INFO commandstats, every command the invocation ran, scripts included). */
  readonly redisUs: number | null;
}

/** Sizes and iteration counts of the handler bench. */
export interface HandlerSizes {
  readonly updateFriends: readonly number[];
  readonly getFriends: readonly number[];
  /** Iterations for a case with `friends` friends (fewer for big cases). */
  iterations(friends: number): number;
  /** Handler names to run; empty: all. */
  readonly cases: ReadonlySet<string>;
}

type Handler = (event: unknown, context?: unknown) => Promise<unknown>;

async function loadHandler(name: string): Promise<Handler> {
  const module = (await import(`../src/functions/${name}/handler`)) as { handler: Handler };
  return module.handler;
}

function expectOk(result: unknown, what: string): void {
  const status = (result as { statusCode?: number } | undefined)?.statusCode;
  if (status !== undefined && status >= 300)
    throw new Error(`${what} answered ${status}: ${JSON.stringify(result).slice(0, 200)}`);
}

/** Times `op` one invocation at a time and counts the runtime's round trips, queries and posts it makes. */
async function measure(
  runtime: Runtime,
  handler: string,
  label: string,
  friends: number | null,
  iterations: number,
  op: (i: number) => Promise<unknown>,
  between?: (i: number) => Promise<unknown>,
): Promise<HandlerFigure> {
  const warmup = Math.max(3, Math.ceil(iterations / 10));
  for (let i = 0; i < warmup; i += 1) {
    expectOk(await op(i), handler);
    if (between) await between(i);
  }
  const samples: number[] = [];
  let cpu = 0;
  const redis0 = cpuSeconds(redisPid);
  let roundTrips = 0;
  let queries = 0;
  let posts = 0;
  for (let i = warmup; i < warmup + iterations; i += 1) {
    const r0 = runtime.redis.roundTrips;
    const q0 = runtime.directory.queries + runtime.groupDirectory.queries;
    const p0 = runtime.gateway.posts;
    const c0 = process.cpuUsage();
    const start = process.hrtime.bigint();
    const result = await op(i);
    samples.push(elapsedMs(start));
    const c = process.cpuUsage(c0);
    cpu += c.user + c.system;
    roundTrips += runtime.redis.roundTrips - r0;
    queries += runtime.directory.queries + runtime.groupDirectory.queries - q0;
    posts += runtime.gateway.posts - p0;
    expectOk(result, handler);
    if (between) await between(i);
  }
  return {
    handler,
    label,
    friends,
    latency: summarize(samples),
    redisRoundTrips: roundTrips / iterations,
    postgresQueries: queries / iterations,
    posts: posts / iterations,
    cpuUs: cpu / iterations,
    redisUs: redisCpuPerOp(redis0, iterations * (between ? 2 : 1)),
  };
}

const mean = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);

/** The embedded redis-server's pid (set by benchHandlers): its CPU is read from /proc around each case. */
let redisPid: number | undefined;

/**
 * Redis CPU per invocation, µs: the server process's CPU time (/proc, 10 ms ticks) over the timed loop, divided by the
 * invocations in it. All the server spent: commands, scripts, networking. Null without an embedded server.
 */
function redisCpuPerOp(before: number | null, invocations: number): number | null {
  const after = cpuSeconds(redisPid);
  if (before === null || after === null) return null;
  return ((after - before) * 1e6) / invocations;
}

/** Serves a fresh dev issuer's JWKS over HTTP; the caller puts `auth` into the environment before the authorizer runs. */
export async function startAuth(): Promise<{
  auth: { issuer: string; audience: string; jwksUri: string };
  sign: (userId: string) => string;
  stop: () => Promise<void>;
}> {
  let jwks: unknown = { keys: [] };
  const server: Server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(jwks));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const issuer = createDevIssuer({ issuer: `${base}/issuer`, audience: 'bench-client' });
  jwks = issuer.jwks;
  return {
    auth: { issuer: issuer.issuer, audience: issuer.audience, jwksUri: `${base}/.well-known/jwks.json` },
    sign: (user) => issuer.sign(user),
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/**
 * Seeds the bench users (their friends are the online pool, see support/seed.ts) and measures every handler.
 * The environment must already point the runtime at `stores` and the stand-in @connections API.
 */
export async function benchHandlers(
  stores: BenchStores,
  sizes: HandlerSizes,
  sign: (userId: string) => string,
): Promise<HandlerFigure[]> {
  redisPid = stores.redisPid;
  const special = ['hb', 'cc', ...sizes.updateFriends.map((k) => `up${k}`), ...sizes.getFriends.map((k) => `gp${k}`)];
  for (const id of special) await seedUser(stores.pool, id);
  await seedFriends(stores.pool, 'hb', POOL, 20);
  await seedFriends(stores.pool, 'cc', POOL, 20);
  for (const k of sizes.updateFriends) await seedFriends(stores.pool, `up${k}`, POOL, k);
  for (const k of sizes.getFriends) await seedFriends(stores.pool, `gp${k}`, POOL, k);
  // Fresh bulk-loaded tables have no statistics; without them the planner is 10-20x slower (see report).
  await stores.pool.query('ANALYZE user_table, friendship_table');
  const runtime = await getRuntime();

  const figures: HandlerFigure[] = [];
  const run = (name: string) => sizes.cases.size === 0 || sizes.cases.has(name);
  /** connect then close of the user's only connection (a figure each). */
  async function benchConnectClose(): Promise<void> {
    // connect then close of the user's only connection: both announce to 20 online friends (GRACE_SECONDS=0).
    const closeSamples: number[] = [];
    let closeRt = 0;
    let closeQ = 0;
    let closePosts = 0;
    let closeCount = 0;
    const closeCpu: number[] = [];
    const connectFigure = await measure(
      runtime,
      'connect',
      'comes online, 20 online friends',
      20,
      sizes.iterations(20),
      (i) => connect(wsEvent('connect', 'cc', `ccc${i}`)),
      async (i) => {
        const r0 = runtime.redis.roundTrips;
        const q0 = runtime.directory.queries;
        const p0 = runtime.gateway.posts;
        const c0 = process.cpuUsage();
        const start = process.hrtime.bigint();
        const result = await close(wsEvent('close', 'cc', `ccc${i}`));
        closeSamples.push(elapsedMs(start));
        const c = process.cpuUsage(c0);
        closeCpu.push(c.user + c.system);
        closeRt += runtime.redis.roundTrips - r0;
        closeQ += runtime.directory.queries - q0;
        closePosts += runtime.gateway.posts - p0;
        closeCount += 1;
        expectOk(result, 'close');
      },
    );
    figures.push(connectFigure);
    const warmCloses = closeSamples.length - connectFigure.latency.n;
    figures.push({
      handler: 'close',
      label: 'last connection, 20 online friends',
      friends: 20,
      latency: summarize(closeSamples.slice(warmCloses)),
      redisRoundTrips: closeRt / closeCount,
      postgresQueries: closeQ / closeCount,
      posts: closePosts / closeCount,
      cpuUs: mean(closeCpu.slice(warmCloses)),
      // Redis CPU is read from /proc over the whole loop, whose invocations alternate connect and close: the same
      // per-invocation figure for both.
      redisUs: connectFigure.redisUs,
    });
  }

  const authorizer = await loadHandler('authorizer');
  const connect = await loadHandler('connect');
  const close = await loadHandler('close');
  const heartbeat = await loadHandler('heartbeat');
  const update = await loadHandler('update-presence');
  const getPresence = await loadHandler('get-presence');
  const getUserPresence = await loadHandler('get-user-presence');

  // authorizer: a valid token in the query string (the JWKS is fetched once, then cached like in a warm container).
  const authEvent = loadEvent('authorizer-websocket', sign);
  if (run('authorizer'))
    figures.push(
      await measure(runtime, 'authorizer', 'valid token', null, sizes.iterations(0), () => authorizer(authEvent)),
    );

  if (run('connect') || run('close')) await benchConnectClose();

  // heartbeat on a live connection.
  if (run('heartbeat')) {
    expectOk(await connect(wsEvent('connect', 'hb', 'chb')), 'connect');
    const hbEvent = wsEvent('heartbeat', 'hb', 'chb');
    figures.push(
      await measure(runtime, 'heartbeat', 'live connection', null, sizes.iterations(0) * 2, () => heartbeat(hbEvent)),
    );
  }

  // update-presence: alternating pages, so every update changes what friends see and fans out to all of them.
  for (const k of run('update-presence') ? sizes.updateFriends : []) {
    const user = `up${k}`;
    expectOk(await connect(wsEvent('connect', user, `c${user}`)), 'connect');
    const events = [0, 1].map((j) =>
      wsEvent('update-presence', user, `c${user}`, {
        action: 'update-presence',
        url: `https://en.wikipedia.org/wiki/Page_${j}?q=stripped`,
        title: `Page ${j}`,
      }),
    );
    figures.push(
      await measure(runtime, 'update-presence', `${k} online friends`, k, sizes.iterations(k), (i) =>
        update(events[i % 2]),
      ),
    );
  }

  // get-presence: cached context, every friend online.
  for (const k of run('get-presence') ? sizes.getFriends : []) {
    const event = restEvent('get-presence', `gp${k}`);
    figures.push(
      await measure(runtime, 'get-presence', `${k} friends`, k, sizes.iterations(k), () => getPresence(event)),
    );
  }

  // get-user-presence: a friend's presence, for callers with few and many friends.
  for (const k of run('get-user-presence')
    ? [sizes.getFriends[0], sizes.getFriends[1]].filter((x): x is number => x !== undefined)
    : []) {
    const event = restEvent('get-user-presence', `gp${k}`, userId(POOL, 0));
    figures.push(
      await measure(runtime, 'get-user-presence', `caller with ${k} friends`, k, sizes.iterations(0), () =>
        getUserPresence(event),
      ),
    );
  }

  // get-group-presence: a group as big as the 1,000-friend get-presence case, half of it online (the pool), the other
  // half never seen; the caller is a member with 20 friends. Cached group and context, like the friends case.
  const groupSize = sizes.getFriends[1];
  if (run('get-group-presence') && groupSize !== undefined) {
    const online = Math.floor(groupSize / 2);
    await seedUser(stores.pool, 'gg');
    await seedFriends(stores.pool, 'gg', POOL, 20);
    await seedUsers(stores.pool, 'go', groupSize - online - 1);
    await stores.pool.query(
      `INSERT INTO group_table (group_id, name) VALUES ('bench-group', 'Bench') ON CONFLICT DO NOTHING`,
    );
    await stores.pool.query(
      `INSERT INTO group_member_table (group_id, user_id)
       SELECT 'bench-group', 'gg'
       UNION ALL SELECT 'bench-group', $1 || lpad(i::text, 6, '0') FROM generate_series(0, $2::int - 1) AS i
       UNION ALL SELECT 'bench-group', 'go' || lpad(i::text, 6, '0') FROM generate_series(0, $3::int - 1) AS i
       ON CONFLICT DO NOTHING`,
      [POOL, online, groupSize - online - 1],
    );
    await stores.pool.query('ANALYZE group_table, group_member_table');
    const event = restEvent<{ pathParameters: unknown }>('get-group-presence', 'gg');
    event.pathParameters = { groupId: 'bench-group' };
    const getGroupPresence = await loadHandler('get-group-presence');
    figures.push(
      await measure(
        runtime,
        'get-group-presence',
        `${groupSize} members, ${online} online`,
        groupSize,
        sizes.iterations(groupSize),
        () => getGroupPresence(event),
      ),
    );
  }
  return figures;
}
