// Postgres through PgBouncer in transaction pooling mode, the stand-in for RDS Proxy: the adapter, the pool, the handlers.
import type { APIGatewayProxyResult } from 'aws-lambda';
import { Pool } from 'pg';
import { handler as close } from '../../src/functions/close/handler';
import { handler as connect } from '../../src/functions/connect/handler';
import { handler as getPresence } from '../../src/functions/get-presence/handler';
import { handler as getUserPresence } from '../../src/functions/get-user-presence/handler';
import { handler as timeout } from '../../src/functions/timeout/handler';
import { handler as updatePresence } from '../../src/functions/update-presence/handler';
import { PostgresFriendDirectory } from '../../src/layer/adapters/postgres/friend-directory';
import { createPool } from '../../src/layer/adapters/postgres/pool';
import { getRuntime } from '../../src/layer/runtime';
import { loadEvent, restEvent, wsEvent } from '../../events/sample-events';
import { advance, useFakeDate } from '../support/clock';
import { GRAPH, handlerEnvironment } from '../support/runtime-env';
import { createPooledTestDatabase, pgBouncerUrl, seedSocialGraph, type TestDatabase } from '../support/stores';

const TIMEOUT_MS = 1500;

describe('the Postgres adapter through PgBouncer (transaction pooling)', () => {
  let db: TestDatabase & { directUrl: string };
  const pools: Pool[] = [];
  /** A pool as the runtime creates it, on the PgBouncer URL; ended after the tests. */
  const ourPool = async (timeoutMs = TIMEOUT_MS, max = 2) => {
    const pool = await createPool({ kind: 'url', url: db.url }, timeoutMs, max);
    pools.push(pool);
    return pool;
  };
  /** A pool with extra pg settings, on the PgBouncer URL; ended after the tests. */
  const otherPool = (settings: Record<string, unknown>) => {
    const pool = new Pool({ connectionString: db.url, max: 1, connectionTimeoutMillis: TIMEOUT_MS, ...settings });
    pool.on('error', () => undefined);
    pools.push(pool);
    return pool;
  };

  beforeAll(async () => {
    db = await createPooledTestDatabase();
    await seedSocialGraph(db.pool, GRAPH.users, GRAPH.friendships);
  });
  afterAll(async () => {
    await Promise.all(pools.map((pool) => pool.end().catch(() => undefined)));
    await db.drop();
  });

  it('goes through PgBouncer, not straight to Postgres', () => {
    expect(new URL(db.url).port).toBe(new URL(pgBouncerUrl()).port);
    expect(new URL(db.url).port).not.toBe(new URL(db.directUrl).port);
  });

  it('refuses a pool that sends statement_timeout as a startup parameter, as RDS Proxy does (the old pool settings)', async () => {
    const withStartupTimeout = otherPool({ query_timeout: TIMEOUT_MS, statement_timeout: TIMEOUT_MS });
    await expect(withStartupTimeout.query('SELECT 1')).rejects.toThrow(
      /unsupported startup parameter.*statement_timeout/i,
    );
  });

  it('refuses a schema chosen with options=-c search_path (a startup parameter too)', async () => {
    const withOptions = otherPool({ options: '-c search_path=public' });
    await expect(withOptions.query('SELECT 1')).rejects.toThrow(/unsupported startup parameter.*options/i);
  });

  it('the runtime pool connects, and PostgresFriendDirectory loads settings, friends and user info through it', async () => {
    const pool = await ourPool();
    const directory = new PostgresFriendDirectory(async () => pool, TIMEOUT_MS);

    const contexts = await directory.loadContexts(['alice', 'bob', 'dave', 'nobody']);

    expect(contexts.get('alice')).toMatchObject({
      settings: { shareMode: 'default_all', domains: ['facebook.com'] },
      friendIds: ['bob', 'carol'],
      info: expect.any(Map),
    });
    expect(contexts.get('bob')).toMatchObject({
      settings: { shareMode: 'default_none', domains: ['wikipedia.org'] },
      friendIds: ['alice'],
    });
    expect(contexts.get('dave')?.friendIds).toEqual([]);
    expect(contexts.get('nobody')).toMatchObject({
      friendIds: [],
      settings: { shareMode: 'default_none', domains: [] },
    });
    expect(directory.queries).toBe(1);
  });

  it('serves many containers concurrently over the few server connections PgBouncer shares between them', async () => {
    const containers = await Promise.all(Array.from({ length: 6 }, () => ourPool()));
    const directories = containers.map((pool) => new PostgresFriendDirectory(async () => pool, TIMEOUT_MS));

    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) => directories[i % directories.length]!.loadContexts(['alice', 'carol'])),
    );

    for (const contexts of results) expect(contexts.get('carol')?.friendIds).toEqual(['alice']);
    const admin = new Pool({ connectionString: db.directUrl, max: 1 });
    try {
      const { rows } = await admin.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'",
      );
      // 6 containers x 2 clients each, multiplexed onto PgBouncer's default_pool_size (4) server connections.
      expect(rows[0]?.n).toBeLessThanOrEqual(4);
    } finally {
      await admin.end();
    }
  });

  it('enforces the deadline on the client: a slow query fails after query_timeout and the pool recovers', async () => {
    const pool = await ourPool(200, 1);
    const started = Date.now();

    await expect(pool.query('SELECT pg_sleep(2)')).rejects.toThrow(/timeout/i);

    expect(Date.now() - started).toBeLessThan(1500);
    await expect(pool.query('SELECT 1 AS one')).resolves.toMatchObject({ rows: [{ one: 1 }] });
  });
});

describe('the handlers with DATABASE_URL pointing at PgBouncer', () => {
  type Env = Awaited<ReturnType<typeof handlerEnvironment>>;
  let env: Env;
  let seq = 0;
  const conn = (label: string) => `${label}${(seq += 1)}Pgb=`;
  const open = (userId: string, id: string) => connect(wsEvent('connect', userId, id) as never);
  const hangUp = (userId: string, id: string) => close(wsEvent('close', userId, id) as never);
  const send = (userId: string, id: string, body: unknown) =>
    updatePresence(wsEvent('update-presence', userId, id, body) as never);
  const sweep = () => timeout(loadEvent('timeout') as never, { getRemainingTimeInMillis: () => 60_000 });
  const rest = async (userId: string, target?: string) => {
    const result = (await (target === undefined
      ? getPresence(restEvent('get-presence', userId) as never)
      : getUserPresence(restEvent('get-user-presence', userId, target) as never))) as APIGatewayProxyResult;
    return { status: result.statusCode, body: JSON.parse(result.body) as Record<string, any> };
  };
  /** Lets every cached friend context expire (FRIEND_CACHE_SECONDS=1), so the next use reads Postgres again. */
  const expireCachedContexts = () => new Promise((resolve) => setTimeout(resolve, 1_100));
  /** Postgres queries the runtime makes while `action` runs. */
  const queriesDuring = async (action: () => Promise<unknown>) => {
    const { directory } = await getRuntime();
    const before = directory.queries;
    await action();
    return directory.queries - before;
  };

  beforeAll(async () => {
    env = await handlerEnvironment({ GRACE_SECONDS: '0', FRIEND_CACHE_SECONDS: '1' }, { postgres: 'pgbouncer' });
  });
  afterAll(async () => {
    jest.useRealTimers();
    await env.close();
  });
  beforeEach(() => env.api.reset());
  afterEach(() => jest.useRealTimers());

  it('points the runtime at PgBouncer', () => {
    expect(new URL(process.env.DATABASE_URL as string).port).toBe(new URL(pgBouncerUrl()).port);
  });

  it('connect loads the friend list through PgBouncer and announces the user to accepted friends', async () => {
    const [alice1, bob1] = [conn('A'), conn('B')];
    await open('bob', bob1);
    await expireCachedContexts();
    env.api.reset();

    let status = 0;
    const queries = await queriesDuring(async () => {
      status = (await open('alice', alice1)).statusCode;
    });

    expect(status).toBe(200);
    expect(queries).toBeGreaterThanOrEqual(1);
    expect(env.api.messagesTo(bob1)).toEqual([
      expect.objectContaining({ type: 'update-presence', userId: 'alice', status: 'online' }),
    ]);
    await Promise.all([hangUp('alice', alice1), hangUp('bob', bob1)]);
  });

  it('update-presence reloads expired privacy settings through PgBouncer and shares only what they allow', async () => {
    const [alice1, bob1] = [conn('A'), conn('B')];
    await open('alice', alice1);
    await open('bob', bob1);
    await expireCachedContexts();
    env.api.reset();

    let status = 0;
    const queries = await queriesDuring(async () => {
      status = (
        await send('bob', bob1, { action: 'update-presence', url: 'https://en.wikipedia.org/wiki/Pool', title: 'Pool' })
      ).statusCode;
    });

    expect(status).toBe(200);
    expect(queries).toBeGreaterThanOrEqual(1);
    expect(env.api.messagesTo(alice1)).toEqual([
      expect.objectContaining({
        type: 'update-presence',
        userId: 'bob',
        url: 'https://en.wikipedia.org/wiki/Pool',
        domain: 'wikipedia.org',
      }),
    ]);
    await Promise.all([hangUp('alice', alice1), hangUp('bob', bob1)]);
  });

  it('GET /presence and GET /presence/{userId} answer from Postgres through PgBouncer', async () => {
    const bob1 = conn('B');
    await open('bob', bob1);
    await expireCachedContexts();

    let all = { status: 0, body: {} as Record<string, any> };
    const queries = await queriesDuring(async () => {
      all = await rest('alice');
    });

    expect(all.status).toBe(200);
    expect(queries).toBeGreaterThanOrEqual(1);
    expect(all.body.presenceArr.map((p: { userId: string }) => p.userId).sort()).toEqual(['bob', 'carol']);
    expect(all.body.presenceArr.find((p: { userId: string }) => p.userId === 'bob')).toMatchObject({
      status: 'online',
    });
    expect(all.body.userInfoMap.carol).toMatchObject({ user_id: 'carol', first_name: 'Carol' });
    expect(await rest('alice', 'bob')).toMatchObject({ status: 200, body: { userId: 'bob', status: 'online' } });
    expect(await rest('alice', 'dave')).toMatchObject({ status: 403 });
    await hangUp('bob', bob1);
  });

  it('the sweep (timeout) loads friend lists through PgBouncer, reaps the dead connection and tells friends', async () => {
    useFakeDate();
    const [alice1, bob1] = [conn('A'), conn('B')];
    await open('alice', alice1);
    advance(60_000);
    await open('bob', bob1);
    await expireCachedContexts();
    env.api.reset();

    advance(31_000);
    const queries = await queriesDuring(() => sweep());

    expect(queries).toBeGreaterThanOrEqual(1);
    expect(env.api.deleted()).toEqual([alice1]);
    expect(env.api.messagesTo(bob1)).toEqual([expect.objectContaining({ type: 'presence-timeout', userId: 'alice' })]);
    await hangUp('bob', bob1);
  });
});
