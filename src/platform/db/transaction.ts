import type { Db, Tx } from './client.js';
import { isSerializationFailure } from './errors.js';

/**
 * Runs `fn` in one transaction, retrying serialization failures and deadlocks (40001,
 * 40P01) a few times with jitter, as PostgreSQL asks clients to.
 */
export async function inTransaction<T>(db: Db, fn: (tx: Tx) => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction(fn);
    } catch (err) {
      if (attempt >= attempts || !isSerializationFailure(err)) throw err;
      await new Promise((r) => setTimeout(r, 5 * attempt + Math.random() * 20));
    }
  }
}
