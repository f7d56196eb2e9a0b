// The floors, measured in the same run: a Redis PING round trip, a trivial Postgres query, one @connections POST.
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { Agent, request } from 'node:http';
import { Redis } from 'ioredis';
import { Pool } from 'pg';
import { ApiGatewayConnectionGateway } from '@presence/layer';
import { barePost, cpuPerCall } from './support/post-loop';
import type { LatencyStats } from './support/stats';
import { median, summarize, timeLoopCpu } from './support/stats';

/** Every floor of one run. */
export interface Floors {
  /** PING over a bare TCP socket (RESP by hand): what the network and Redis cost, nothing else. */
  readonly redisPingRaw: LatencyStats;
  /** PING through ioredis, the client the handlers use: the floor for every Redis round trip of a handler. */
  readonly redisPing: LatencyStats;
  /** `SELECT 1` through a pg Pool, the client the handlers use. */
  readonly postgresQuery: LatencyStats;
  /** One bare HTTP POST (keep-alive) to the stand-in @connections API. */
  readonly connectionsPostRaw: LatencyStats;
  /** One PostToConnection through the AWS SDK client the handlers use, to the stand-in @connections API. */
  readonly connectionsPost: LatencyStats;
  /** This process's CPU per call of each floor, µs (the client side: Redis, Postgres and the API run elsewhere). */
  readonly cpuUs: {
    readonly redisPingRaw: number;
    readonly redisPing: number;
    readonly postgresQuery: number;
    readonly connectionsPostRaw: number;
    readonly connectionsPost: number;
    /**
     * The same two calls with 16 in flight (as fan-outs and the sweep make them): the process stays busy, so the
     * figure is the call's own CPU, not the wake-up after each idle wait that one call at a time pays (bare HTTP too).
     */
    readonly connectionsPostRawInFlight: number;
    readonly connectionsPostInFlight: number;
  };
}

function rawPing(socket: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    let got = '';
    const onData = (chunk: Buffer): void => {
      got += chunk.toString('latin1');
      if (got.endsWith('\r\n')) {
        socket.off('data', onData);
        if (got.startsWith('+PONG')) resolve();
        else reject(new Error(`unexpected reply ${got}`));
      }
    };
    socket.on('data', onData);
    socket.write('PING\r\n');
  });
}

function rawPost(agent: Agent, url: URL, body: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        path: `${url.pathname}/@connections/floor`,
        method: 'POST',
        headers: { 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Measures the floors against the given Redis, Postgres and @connections endpoint. */
export async function measureFloors(options: {
  redisUrl: string;
  databaseUrl: string;
  connectionsEndpoint: string;
  iterations: number;
}): Promise<Floors> {
  const n = options.iterations;
  const warm = Math.max(5, Math.floor(n / 10));

  const redisAddress = new URL(options.redisUrl);
  const socket = connect({ host: redisAddress.hostname, port: Number(redisAddress.port || 6379), noDelay: true });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  if (redisAddress.password)
    await new Promise<void>((resolve) => {
      socket.write(`AUTH ${decodeURIComponent(redisAddress.password)}\r\n`);
      socket.once('data', () => resolve());
    });
  const pingRaw = await timeLoopCpu(n, warm, () => rawPing(socket));
  const redisPingRaw = summarize(pingRaw.samples);
  socket.destroy();

  const redis = new Redis(options.redisUrl);
  const ping = await timeLoopCpu(n, warm, () => redis.ping());
  const redisPing = summarize(ping.samples);
  redis.disconnect();

  const pool = new Pool({ connectionString: options.databaseUrl, max: 1 });
  const select = await timeLoopCpu(n, warm, () => pool.query('SELECT 1'));
  const postgresQuery = summarize(select.samples);
  await pool.end();

  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const endpoint = new URL(options.connectionsEndpoint);
  const payload = JSON.stringify({ type: 'update-presence', userId: 'floor', status: 'online' });
  const postRaw = await timeLoopCpu(n, warm, () => rawPost(agent, endpoint, payload));
  const connectionsPostRaw = summarize(postRaw.samples);
  agent.destroy();

  const gateway = new ApiGatewayConnectionGateway();
  const post = await timeLoopCpu(n, warm, () => gateway.post(options.connectionsEndpoint, 'floor-connection', payload));
  const connectionsPost = summarize(post.samples);

  // 16 in flight, after as many calls again to warm up; the median of 3 rounds, bare and SDK taking turns, so load on
  // the machine hits both alike (bench:sdk measures the same way, step by step).
  const inFlightCalls = Math.max(200, n);
  const bare = barePost(options.connectionsEndpoint, Buffer.from(payload));
  const gatewayPost = async (): Promise<void> => {
    const outcome = await gateway.post(options.connectionsEndpoint, 'floor-connection', payload);
    if (outcome !== 'sent') throw new Error(`@connections floor post: ${outcome}`);
  };
  await cpuPerCall(bare.post, inFlightCalls, 16);
  await cpuPerCall(gatewayPost, inFlightCalls, 16);
  const rounds: [number[], number[]] = [[], []];
  for (let round = 0; round < 3; round += 1) {
    rounds[0].push(await cpuPerCall(bare.post, inFlightCalls, 16));
    rounds[1].push(await cpuPerCall(gatewayPost, inFlightCalls, 16));
  }
  bare.close();
  const connectionsPostRawInFlight = median(rounds[0]);
  const connectionsPostInFlight = median(rounds[1]);
  return {
    redisPingRaw,
    redisPing,
    postgresQuery,
    connectionsPostRaw,
    connectionsPost,
    cpuUs: {
      redisPingRaw: pingRaw.cpuUs,
      redisPing: ping.cpuUs,
      postgresQuery: select.cpuUs,
      connectionsPostRaw: postRaw.cpuUs,
      connectionsPost: post.cpuUs,
      connectionsPostRawInFlight,
      connectionsPostInFlight,
    },
  };
}
