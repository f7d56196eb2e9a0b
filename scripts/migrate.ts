// `npm run db:migrate [-- --seed]`: applies the user-api tables (and the demo seed) to DATABASE_URL.
import { existsSync } from 'node:fs';
import { Pool } from 'pg';
import { migrate } from '../src/layer/adapters/postgres/migrate';

async function main(): Promise<void> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is not set');
  const pool = new Pool({ connectionString: url, max: 1 });
  try {
    const applied = await migrate(pool, { seed: process.argv.includes('--seed') });
    console.log(applied.length ? `applied: ${applied.join(', ')}` : 'schema up to date');
  } finally {
    await pool.end();
  }
}

main().catch((error: unknown) => {
  console.error((error as Error).message);
  process.exitCode = 1;
});
