// The PostgreSQL pool and its Drizzle handle. A pool `error` handler keeps a database
// restart from crashing the process; readiness pings recover by themselves.
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import type { PgTransaction } from 'drizzle-orm/pg-core';
import pg from 'pg';
import type { Logger } from 'pino';

// Return int8 (counts) as JavaScript numbers and timestamps as Date: counts here never pass 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number.parseInt(v, 10));

export type Db = NodePgDatabase<Record<string, never>>;
// biome-ignore lint/suspicious/noExplicitAny: Drizzle's transaction type is generic over driver internals.
export type Tx = PgTransaction<any, Record<string, never>, any>;
/** Something a repository can run a query on: the pool or an open transaction. */
export type Executor = Db | Tx;

export interface Database {
  readonly pool: pg.Pool;
  readonly db: Db;
  /** Resolves when the database answers `select 1` within the timeout. */
  ping(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  url: string;
  max: number;
  log: Logger;
  applicationName?: string;
}

export function createDatabase({ url, max, log, applicationName = 'tandem' }: DatabaseOptions): Database {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    application_name: applicationName,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    // A runaway query must not hold a connection forever.
    statement_timeout: 30_000,
    idle_in_transaction_session_timeout: 60_000,
  });
  // Idle clients emit `error` when the server goes away (restart, failover). Without a
  // listener Node would crash; the pool drops the client and makes a new one on demand.
  pool.on('error', (err) =>
    log.warn({ err: { message: err.message, code: (err as { code?: string }).code } }, 'idle database connection lost'),
  );
  const db = drizzle({ client: pool }) as Db;
  let closed = false;
  return {
    pool,
    db,
    async ping(timeoutMs = 2_000) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('database ping timed out')), timeoutMs);
      });
      try {
        await Promise.race([pool.query('select 1'), timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
}
