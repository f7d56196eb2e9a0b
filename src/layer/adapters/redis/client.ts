// Creates the ioredis client (standalone or cluster) with fail-fast settings, and the counting executor all Redis I/O uses.
import calculateSlot from 'cluster-key-slot';
import { Cluster, Redis } from 'ioredis';
import type { RedisOptions } from 'ioredis';
import { withDeadline } from '../../shared/async';
import { UnavailableError } from '../../shared/errors';
import { SCRIPTS } from './scripts';

/** A command: its name (a Redis command or a script name) and arguments. */
export type RedisCommand = readonly [string, ...(string | number)[]];

/** Connection settings of {@link createRedisClient}. */
export interface RedisClientOptions {
  readonly url: string;
  readonly mode: 'standalone' | 'cluster';
  /** Upper bound of one round trip; also the connect timeout. */
  readonly timeoutMs: number;
}

/** Creates a client whose commands fail fast while Redis is away and which reconnects by itself. */
export function createRedisClient(options: RedisClientOptions): Redis | Cluster {
  const url = new URL(options.url);
  const common: RedisOptions = {
    connectTimeout: Math.min(options.timeoutMs, 2000),
    commandTimeout: options.timeoutMs,
    maxRetriesPerRequest: 1,
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    ...(url.protocol === 'rediss:' ? { tls: {} } : {}),
  };
  let client: Redis | Cluster;
  if (options.mode === 'cluster') {
    client = new Cluster([{ host: url.hostname, port: Number(url.port || 6379) }], {
      slotsRefreshTimeout: options.timeoutMs,
      clusterRetryStrategy: (times) => Math.min(100 * times, 2000),
      // ElastiCache with TLS presents certificates for the configuration endpoint name, not node IPs.
      dnsLookup: (address, callback) => callback(null, address),
      redisOptions: common,
    });
  } else {
    client = new Redis(options.url, {
      ...common,
      retryStrategy: (times) => Math.min(50 * 2 ** times, 2000),
    });
  }
  // Errors surface on the commands that fail; an unhandled 'error' event would crash the process.
  client.on('error', () => undefined);
  for (const [name, lua] of Object.entries(SCRIPTS)) client.defineCommand(name, { lua });
  return client;
}

/**
 * The only way the store talks to Redis: every `run` is one round trip (a pipeline on a standalone server; in cluster
 * mode one pipeline per node, sent at the same time). `roundTrips` counts them.
 */
export class RedisExecutor {
  /** Round trips made so far (tests and benchmarks read it). */
  roundTrips = 0;

  constructor(
    readonly client: Redis | Cluster,
    private readonly timeoutMs: number,
  ) {}

  /** Runs `commands` in one round trip and returns their replies in order. */
  async run(commands: readonly RedisCommand[]): Promise<unknown[]> {
    if (commands.length === 0) return [];
    this.roundTrips += 1;
    try {
      return await withDeadline(this.send(commands), this.timeoutMs, () => new UnavailableError('redis'));
    } catch (error) {
      if (error instanceof UnavailableError) throw error;
      throw new UnavailableError('redis', { cause: error });
    }
  }

  /** Whether keys of different slots must go to different commands (Redis Cluster). */
  get isCluster(): boolean {
    return this.client instanceof Cluster;
  }

  /** Runs one command in one round trip. */
  async one<T = unknown>(command: RedisCommand): Promise<T> {
    const [reply] = await this.run([command]);
    return reply as T;
  }

  private async send(commands: readonly RedisCommand[]): Promise<unknown[]> {
    if (commands.length === 1) {
      // One command needs no pipeline object (the hot path: heartbeat, update, connect, close).
      const [name, ...args] = commands[0] as RedisCommand;
      const method = (this.client as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[name];
      if (!method) throw new Error(`unknown Redis command ${name}`);
      return [await method.apply(this.client, args)];
    }
    if (!(this.client instanceof Cluster)) return pipeline(this.client, commands);
    // A cluster pipeline must stay on one node: group by the node that serves each command's slot.
    const groups = new Map<string, { indexes: number[]; commands: RedisCommand[] }>();
    commands.forEach((command, index) => {
      const slot = calculateSlot(String(firstKey(command)));
      const node = (this.client as Cluster).slots[slot]?.[0] ?? `slot:${slot}`;
      const group = groups.get(node) ?? { indexes: [], commands: [] };
      group.indexes.push(index);
      group.commands.push(command);
      groups.set(node, group);
    });
    const replies = new Array<unknown>(commands.length);
    await Promise.all(
      [...groups.values()].map(async (group) => {
        const results = await pipeline(this.client, group.commands);
        results.forEach((reply, i) => (replies[group.indexes[i] as number] = reply));
      }),
    );
    return replies;
  }
}

/** The first key of a command: scripts take `numkeys` first, plain commands start with the key. */
function firstKey(command: RedisCommand): string | number | undefined {
  return command[0] in SCRIPTS ? command[2] : command[1];
}

async function pipeline(client: Redis | Cluster, commands: readonly RedisCommand[]): Promise<unknown[]> {
  const results = await client.pipeline(commands.map((command) => [...command])).exec();
  if (!results) throw new Error('pipeline was discarded');
  return results.map(([error, reply]) => {
    if (error) throw error;
    return reply;
  });
}
