// Creates the pg Pool: from DATABASE_URL, or from a Secrets Manager secret and an RDS Proxy host (TLS).
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Pool } from 'pg';
import type { CoreConfig } from '../../shared/config';

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
