// Applies the committed SQL migrations under a PostgreSQL advisory lock, so processes that
// start together take turns and each migration runs exactly once.
import { fileURLToPath } from 'node:url';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import type { Logger } from 'pino';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../../migrations', import.meta.url));
// An arbitrary constant that names "Tandem schema migrations" among advisory locks.
const MIGRATION_LOCK_KEY = 7_263_001;

export async function runMigrations(url: string, log: Logger, migrationsFolder = MIGRATIONS_DIR): Promise<void> {
  const client = new pg.Client({ connectionString: url, application_name: 'tandem-migrate' });
  client.on('error', (err) => log.warn({ err: err.message }, 'migration connection error'));
  await client.connect();
  const started = Date.now();
  try {
    await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      await migrate(drizzle({ client }), { migrationsFolder });
    } finally {
      await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
    log.info({ ms: Date.now() - started }, 'database migrations applied');
  } finally {
    await client.end();
  }
}
