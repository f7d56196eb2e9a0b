// Removes a test file's keys (its unique prefix) from a shared Redis, standalone or cluster, so no run leaves keys behind.
import { Cluster, Redis } from 'ioredis';

/** A Redis with test keys: the URL, standalone or cluster. */
export interface RedisTarget {
  readonly url: string;
  readonly mode: 'standalone' | 'cluster';
}

/** `prefix` as a SCAN MATCH pattern prefix: glob characters escaped. */
const globPrefix = (prefix: string): string => `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;

async function withNodes<T>(target: RedisTarget, work: (nodes: Redis[]) => Promise<T>): Promise<T> {
  const { hostname, port } = new URL(target.url);
  const options = { lazyConnect: false, maxRetriesPerRequest: 2, connectTimeout: 3000 };
  if (target.mode === 'cluster') {
    const cluster = new Cluster([{ host: hostname, port: Number(port) }], { redisOptions: options });
    try {
      await new Promise<void>((resolve, reject) => {
        cluster.once('ready', () => resolve());
        cluster.once('error', reject);
      });
      return await work(cluster.nodes('master'));
    } finally {
      cluster.disconnect();
    }
  }
  const client = new Redis(target.url, options);
  try {
    return await work([client]);
  } finally {
    client.disconnect();
  }
}

async function scanNode(node: Redis, prefix: string, onKeys: (keys: string[]) => Promise<void>): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await node.scan(cursor, 'MATCH', globPrefix(prefix), 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await onKeys(keys);
  } while (cursor !== '0');
}

/** The keys under `prefix` (on every master of a cluster). */
export async function keysWithPrefix(target: RedisTarget, prefix: string): Promise<string[]> {
  if (!prefix) throw new Error('refusing to scan for an empty prefix');
  return withNodes(target, async (nodes) => {
    const found: string[] = [];
    for (const node of nodes) await scanNode(node, prefix, async (keys) => void found.push(...keys));
    return found;
  });
}

/**
 * Deletes every key under `prefix` (on every master of a cluster); returns how many. Keys are unlinked one by one:
 * in a cluster the keys a node holds span many slots, and a multi-key UNLINK must stay in one.
 */
export async function deleteKeysWithPrefix(target: RedisTarget, prefix: string): Promise<number> {
  if (!prefix) throw new Error('refusing to delete keys for an empty prefix');
  return withNodes(target, async (nodes) => {
    let deleted = 0;
    for (const node of nodes) {
      await scanNode(node, prefix, async (keys) => {
        const results = await node.pipeline(keys.map((key) => ['unlink', key])).exec();
        for (const [error] of results ?? []) if (error) throw error;
        deleted += keys.length;
      });
    }
    return deleted;
  });
}
