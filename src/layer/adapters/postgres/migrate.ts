// Applies the schema migrations (and optionally the demo seed) to a database: for local runs, tests and demos.
import type { Pool } from 'pg';
import { MIGRATIONS, SEED_SQL } from './schema';

/**
 * Applies pending migrations in order, each once, with the demo data when `seed` is set. Everything runs in one
 * transaction under a transaction-scoped advisory lock, so it is safe through a transaction-pooling proxy
 * (PgBouncer, RDS Proxy): no session lock or setting outlives the transaction, and nothing pins a connection.
 */
export async function migrate(pool: Pool, options: { seed?: boolean } = {}): Promise<string[]> {
  const client = await pool.connect();
  const applied: string[] = [];
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock(727274)');
    await client.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())',
    );
    const done = new Set(
      (await client.query<{ id: string }>('SELECT id FROM schema_migrations')).rows.map((r) => r.id),
    );
    for (const migration of MIGRATIONS) {
      if (done.has(migration.id)) continue;
      await client.query(migration.sql);
      await client.query('INSERT INTO schema_migrations (id) VALUES ($1)', [migration.id]);
      applied.push(migration.id);
    }
    if (options.seed) await client.query(SEED_SQL);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
  return applied;
}
