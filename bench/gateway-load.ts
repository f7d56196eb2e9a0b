// Load test through the local gateway (src/local): N WebSocket clients, 20 friends each, heartbeats and page switches.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { ApiGatewayConnectionGateway } from '@presence/layer';
import type { LatencyStats } from './support/stats';
import { forEachLimit, summarize, timeLoop } from './support/stats';
import { cpuSeconds, rssMb } from './support/process-stats';
import type { BenchStores } from './support/stores';
import { freePort, seedUsers, userId } from './support/stores';

/** Settings of one load test. */
export interface GatewayLoadOptions {
  readonly clients: number;
  /** Length of the steady-state window. */
  readonly seconds: number;
  readonly friendsEach: number;
  readonly heartbeatSeconds: number;
  readonly pageSwitchSeconds: number;
  /** Iterations of the @connections POST floor. */
  readonly floorIterations: number;
}

/** What the load test measured (or why it did not run). */
export interface GatewayLoadFigure {
  readonly skipped: string | null;
  readonly clients: number;
  readonly friendsEach: number;
  readonly seconds: number;
  readonly rampSeconds: number;
  /** One @connections POST to a live connection of the local gateway (AWS SDK client), the delivery floor. */
  readonly connectionsPostFloor: LatencyStats | null;
  /** Send of a page switch to its receipt by a friend. */
  readonly delivery: LatencyStats | null;
  readonly pageSwitches: number;
  readonly heartbeats: number;
  readonly deliveriesExpected: number;
  readonly deliveriesReceived: number;
  readonly messagesPerSecond: { readonly sent: number; readonly received: number };
  readonly errors: {
    readonly connectFailures: number;
    readonly unexpectedCloses: number;
    readonly serverErrorMessages: number;
    readonly serverErrorLogLines: number;
    readonly lostDeliveries: number;
  };
  /** The gateway's most frequent error / warning log lines (ids and times removed), with counts. */
  readonly errorSamples: { line: string; count: number }[];
  readonly server: {
    readonly cpuPercent: number | null;
    readonly peakRssMb: number | null;
    readonly redisCpuPercent: number | null;
  };
}

const PREFIX = 'g';
const TITLE = 'bench ';

/** Whether the local stack exists in this checkout. */
export function gatewayAvailable(): boolean {
  return existsSync(join(__dirname, '..', 'src', 'local', 'main.ts'));
}

function skipped(reason: string, options: GatewayLoadOptions): GatewayLoadFigure {
  return {
    skipped: reason,
    clients: options.clients,
    friendsEach: options.friendsEach,
    seconds: options.seconds,
    rampSeconds: 0,
    connectionsPostFloor: null,
    delivery: null,
    pageSwitches: 0,
    heartbeats: 0,
    deliveriesExpected: 0,
    deliveriesReceived: 0,
    messagesPerSecond: { sent: 0, received: 0 },
    errors: {
      connectFailures: 0,
      unexpectedCloses: 0,
      serverErrorMessages: 0,
      serverErrorLogLines: 0,
      lostDeliveries: 0,
    },
    errorSamples: [],
    server: { cpuPercent: null, peakRssMb: null, redisCpuPercent: null },
  };
}

interface Stack {
  readonly child: ChildProcess;
  readonly url: string;
  /** connectionId of a user's latest $connect, from the request log. */
  readonly connectionOf: Map<string, string>;
  errorLines(): number;
  errorSamples(): { line: string; count: number }[];
  stop(): Promise<void>;
}

async function startStack(stores: BenchStores, clients: number, profileDir: string | undefined): Promise<Stack> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    REDIS_URL: stores.redisUrl,
    // A key prefix per run: nothing an earlier run left in Redis (presence, outboxes) reaches this one.
    REDIS_KEY_PREFIX: `${stores.keyPrefix}gw${clients}:`,
    DATABASE_URL: stores.schemaUrl,
    LOCAL_SEED: '0',
    POWERTOOLS_LOG_LEVEL: 'WARN',
    NO_COLOR: '1',
    AWS_SDK_JS_SUPPRESS_NODE_DEPRECATION_WARNING: '1',
  };
  // The deployed defaults, not the handler bench's overrides.
  for (const key of [
    'GRACE_SECONDS',
    'PRESENCE_TIMEOUT_SECONDS',
    'FRIEND_CACHE_SECONDS',
    'RATE_LIMIT_PER_SECOND',
    'RATE_LIMIT_BURST',
    'CONNECTIONS_ENDPOINT',
    'JWT_ISSUER',
    'JWT_AUDIENCE',
    'JWT_JWKS_URI',
    'ALLOWED_ORIGINS',
    // The handler bench's CONNECTIONS_THREADS=0 (the deployed request functions); the stack runs its own default.
    'CONNECTIONS_THREADS',
  ])
    delete env[key];
  // `--cpu-prof`: a V8 CPU profile of the stack process (every thread) into the report's directory.
  const profile = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${join(profileDir, 'gateway-stack-profiles')}`] : [];
  const child = spawn(
    process.execPath,
    [...profile, '--import', 'tsx', join(__dirname, '..', 'src', 'local', 'main.ts')],
    {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const connectionOf = new Map<string, string>();
  let errorLines = 0;
  const errorSamples = new Map<string, number>();
  let pending = '';
  let ready: () => void = () => undefined;
  const readyPromise = new Promise<void>((resolve) => (ready = resolve));
  const onLine = (line: string): void => {
    if (line.includes('local stack ready')) ready();
    const connect = /\$connect\s+101\s+(\S+)\s+conn=(\S+)/.exec(line);
    if (connect) connectionOf.set(connect[1] as string, connect[2] as string);
    if (/\s5\d\d\s/.test(line) || /"level":"(ERROR|WARN)"/.test(line)) {
      errorLines += 1;
      const key = line
        .replace(
          /\d{2}:\d{2}:\d{2}\.\d{3}|conn=\S+|\bg\d{6}\b|\d+ms|"timestamp":"[^"]*"|"connectionId":"[^"]*"|"userId":"[^"]*"|"xray_trace_id":"[^"]*"/g,
          '',
        )
        .slice(0, 200);
      errorSamples.set(key, (errorSamples.get(key) ?? 0) + 1);
    }
  };
  const onData = (chunk: Buffer): void => {
    pending += chunk.toString('utf8');
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) onLine(line);
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await Promise.race([
    readyPromise,
    exited.then(() => Promise.reject(new Error('the local stack exited before it was ready'))),
    new Promise((_, reject) =>
      setTimeout(() => reject(new Error('the local stack was not ready within 60 s')), 60_000),
    ),
  ]);
  return {
    child,
    url: `http://127.0.0.1:${port}`,
    connectionOf,
    errorLines: () => errorLines,
    errorSamples: () =>
      [...errorSamples]
        .map(([line, count]) => ({ line, count }))
        .sort((a, b) => b.count - a.count)
        .slice(0, 6),
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

async function token(url: string, user: string): Promise<string> {
  const response = await fetch(`${url}/dev/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userId: user }),
  });
  if (response.status !== 200) throw new Error(`/dev/token answered ${response.status}`);
  return ((await response.json()) as { token: string }).token;
}

interface Client {
  readonly user: string;
  ws: WebSocket | undefined;
  timers: NodeJS.Timeout[];
  closedByUs: boolean;
}

/** Runs the load test; skips (with the reason) when the local stack is not in this checkout. */
export async function benchGateway(
  stores: BenchStores,
  options: GatewayLoadOptions,
  redisPid: number | undefined,
  profileDir?: string,
): Promise<GatewayLoadFigure> {
  if (!gatewayAvailable())
    return skipped('src/local/main.ts not found: the local stack is not in this checkout', options);
  const n = options.clients;
  const half = Math.max(1, Math.floor(options.friendsEach / 2));
  // Each run (one per client count) seeds its own ring: the users and friendships of an earlier run go first.
  await stores.pool.query(
    `DELETE FROM friendship_table WHERE user_id1 ~ '^(g[0-9]{6}|gfloor.*)$' OR user_id2 ~ '^(g[0-9]{6}|gfloor.*)$'`,
  );
  await stores.pool.query(`DELETE FROM user_table WHERE user_id ~ '^(g[0-9]{6}|gfloor.*)$'`);
  await seedUsers(stores.pool, PREFIX, n);
  await seedUsers(stores.pool, 'gfloor', 1);
  // A ring: user i and users i+1..i+half are friends, so everyone has 2*half friends.
  await stores.pool.query(
    `INSERT INTO friendship_table (user_id1, user_id2, requested_at, accepted_at)
     SELECT $1 || lpad(i::text, 6, '0'), $1 || lpad(((i + k) % $2::int)::text, 6, '0'), now(), now()
     FROM generate_series(0, $2::int - 1) AS i, generate_series(1, $3::int) AS k
     WHERE (i + k) % $2::int <> i
     ON CONFLICT DO NOTHING`,
    [PREFIX, n, half],
  );
  await stores.pool.query('ANALYZE user_table, friendship_table');

  const stack = await startStack(stores, n, profileDir);
  const clients: Client[] = Array.from({ length: n }, (_, i) => ({
    user: userId(PREFIX, i),
    ws: undefined,
    timers: [],
    closedByUs: false,
  }));
  const latencies: number[] = [];
  let measuring = false;
  let connectFailures = 0;
  let unexpectedCloses = 0;
  let serverErrorMessages = 0;
  let pageSwitches = 0;
  let heartbeats = 0;
  let received = 0;
  let floor: LatencyStats | null = null;
  try {
    // Floor: one @connections POST through the SDK client to a live connection of the gateway.
    const floorWs = new WebSocket(
      `${stack.url.replace('http', 'ws')}/ws?Authorization=${await token(stack.url, userId('gfloor', 0))}`,
    );
    await new Promise<void>((resolve, reject) => floorWs.once('open', () => resolve()).once('error', reject));
    floorWs.on('message', () => undefined);
    await new Promise((r) => setTimeout(r, 200));
    const floorConnection = stack.connectionOf.get(userId('gfloor', 0));
    if (floorConnection) {
      const gateway = new ApiGatewayConnectionGateway();
      const endpoint = `${stack.url}/local`;
      const payload = JSON.stringify({ type: 'update-presence', userId: 'floor', status: 'online' });
      floor = summarize(
        await timeLoop(options.floorIterations, 20, () => gateway.post(endpoint, floorConnection, payload)),
      );
    }
    floorWs.close();

    const tokens = new Array<string>(n);
    await forEachLimit(clients, 32, async (c, i) => (tokens[i] = await token(stack.url, c.user)));

    // Ramp: bounded concurrent upgrades (each runs the authorizer and $connect, which announces to online friends).
    const rampStart = Date.now();
    await forEachLimit(
      clients,
      32,
      (c, i) =>
        new Promise<void>((resolve) => {
          const ws = new WebSocket(`${stack.url.replace('http', 'ws')}/ws?Authorization=${tokens[i]}`);
          c.ws = ws;
          ws.once('open', () => resolve());
          ws.once('error', () => {
            connectFailures += 1;
            resolve();
          });
          ws.on('close', () => {
            if (!c.closedByUs) unexpectedCloses += 1;
          });
          ws.on('message', (data) => {
            const text = data.toString();
            if (text.includes('"type":"error"')) {
              serverErrorMessages += 1;
              return;
            }
            const at = text.indexOf(`"title":"${TITLE}`);
            if (at < 0 || !measuring) return;
            const sentAt = Number(text.slice(at + 9 + TITLE.length, text.indexOf('"', at + 9 + TITLE.length)));
            received += 1;
            latencies.push(Date.now() - sentAt);
          });
        }),
    );
    const rampSeconds = (Date.now() - rampStart) / 1000;
    await new Promise((r) => setTimeout(r, Math.min(2000, options.seconds * 100)));

    // Steady state: heartbeats and page switches at random phases.
    const cpu0 = cpuSeconds(stack.child.pid);
    const redisCpu0 = cpuSeconds(redisPid);
    const start = Date.now();
    let peakRss = rssMb(stack.child.pid) ?? 0;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssMb(stack.child.pid) ?? 0)), 1000);
    measuring = true;
    let switchesSent = 0;
    for (const c of clients) {
      const ws = c.ws;
      if (!ws || ws.readyState !== WebSocket.OPEN) continue;
      const beat = (): void => {
        if (ws.readyState !== WebSocket.OPEN) return;
        ws.send('{"action":"heartbeat"}');
        heartbeats += 1;
      };
      let seq = 0;
      const pageSwitch = (): void => {
        if (ws.readyState !== WebSocket.OPEN) return;
        seq += 1;
        ws.send(
          JSON.stringify({
            action: 'update-presence',
            url: `https://example.com/${c.user}/${seq}`,
            title: `${TITLE}${Date.now()}`,
          }),
        );
        pageSwitches += 1;
        switchesSent += 1;
      };
      const hbOffset = Math.random() * options.heartbeatSeconds * 1000;
      const psOffset = Math.random() * options.pageSwitchSeconds * 1000;
      c.timers.push(
        setTimeout(() => {
          beat();
          c.timers.push(setInterval(beat, options.heartbeatSeconds * 1000));
        }, hbOffset),
        setTimeout(() => {
          pageSwitch();
          c.timers.push(setInterval(pageSwitch, options.pageSwitchSeconds * 1000));
        }, psOffset),
      );
    }
    await new Promise((r) => setTimeout(r, options.seconds * 1000));
    for (const c of clients) for (const t of c.timers) clearTimeout(t);
    const wall = (Date.now() - start) / 1000;
    const cpu1 = cpuSeconds(stack.child.pid);
    const redisCpu1 = cpuSeconds(redisPid);
    // Drain in-flight deliveries.
    await new Promise((r) => setTimeout(r, Math.min(3000, options.seconds * 300)));
    measuring = false;
    clearInterval(sampler);
    const expected = switchesSent * options.friendsEach;
    return {
      skipped: null,
      clients: n,
      friendsEach: options.friendsEach,
      seconds: wall,
      rampSeconds,
      connectionsPostFloor: floor,
      delivery: summarize(latencies),
      pageSwitches,
      heartbeats,
      deliveriesExpected: expected,
      deliveriesReceived: received,
      messagesPerSecond: { sent: (pageSwitches + heartbeats) / wall, received: received / wall },
      errors: {
        connectFailures,
        unexpectedCloses,
        serverErrorMessages,
        serverErrorLogLines: stack.errorLines(),
        lostDeliveries: Math.max(0, expected - received),
      },
      errorSamples: stack.errorSamples(),
      server: {
        cpuPercent: cpu0 !== null && cpu1 !== null ? ((cpu1 - cpu0) / wall) * 100 : null,
        peakRssMb: peakRss || null,
        redisCpuPercent: redisCpu0 !== null && redisCpu1 !== null ? ((redisCpu1 - redisCpu0) / wall) * 100 : null,
      },
    };
  } finally {
    for (const c of clients) {
      c.closedByUs = true;
      for (const t of c.timers) clearTimeout(t);
      c.ws?.terminate();
    }
    await stack.stop();
  }
}
