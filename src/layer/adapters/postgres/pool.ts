// Creates the pg Pool: from DATABASE_URL, or from a Secrets Manager secret and an RDS Proxy host (TLS).
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { QueryResultRow } from 'pg';
import { Pool } from 'pg';
import { withDeadline } from '../../shared/async';
import type { CoreConfig } from '../../shared/config';
import { UnavailableError } from '../../shared/errors';

/**
 * Pool settings that fail fast: a dead database answers within `timeoutMs`, never at the Lambda timeout.
 *
 * Every deadline is enforced by the client (`connectionTimeoutMillis`, `query_timeout`, and `withDeadline` in the
 * directory). Nothing is sent as a startup parameter (no `statement_timeout`, no `options`): RDS Proxy and PgBouncer
 * refuse startup parameters they do not know, which would fail every connection. A query that timed out on the
 * client makes the pool discard that connection; the server-side cap is a role setting
 * (`ALTER ROLE ... SET statement_timeout`, see docs/deployment.md), which poolers leave alone.
 */
function poolDefaults(timeoutMs: number, max: number) {
  return {
    max,
    idleTimeoutMillis: 60_000,
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
    allowExitOnIdle: true,
  };
}

/** Creates the pool described by `database` (fetching the secret first when needed). */
export async function createPool(database: CoreConfig['database'], timeoutMs: number, max: number): Promise<Pool> {
  let pool: Pool;
  if (database.kind === 'url') {
    pool = new Pool({ connectionString: database.url, ...poolDefaults(timeoutMs, max) });
  } else {
    const secrets = new SecretsManagerClient({});
    const secret = await secrets.send(new GetSecretValueCommand({ SecretId: database.secretArn }));
    const { username, password, dbname } = JSON.parse(secret.SecretString ?? '{}') as Record<string, string>;
    pool = new Pool({
      host: database.host,
      port: database.port,
      database: database.name ?? dbname,
      user: username,
      password,
      ssl: database.ssl ? { rejectUnauthorized: true } : false,
      ...poolDefaults(timeoutMs, max),
    });
  }
  // A broken idle client must not crash the process; the pool replaces it.
  pool.on('error', () => undefined);
  return pool;
}

/**
 * Rows of one query, the pool and the query each under `timeoutMs` (client-side deadlines: RDS Proxy refuses
 * `statement_timeout` as a startup parameter). Any failure is a retryable {@link UnavailableError}.
 */
export async function queryRows<R extends QueryResultRow>(
  pool: () => Promise<Pool>,
  timeoutMs: number,
  sql: string,
  params: unknown[],
): Promise<R[]> {
  const unavailable = () => new UnavailableError('postgres');
  try {
    const ready = await withDeadline(pool(), timeoutMs, unavailable);
    return (await withDeadline(ready.query<R>(sql, params), timeoutMs, unavailable)).rows;
  } catch (error) {
    if (error instanceof UnavailableError) throw error;
    throw new UnavailableError('postgres', { cause: error });
  }
}
