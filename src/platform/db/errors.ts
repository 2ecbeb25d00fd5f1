// SQLSTATE translation, done once: repositories and the transaction helper call this so
// services only ever see AppError values.
import { AppError, conflict, notFound } from '../errors.js';

export interface PgErrorLike {
  code: string;
  constraint?: string;
  detail?: string;
}

/** The PostgreSQL error inside whatever wrapped it (Drizzle wraps driver errors in `cause`). */
export function pgError(err: unknown): PgErrorLike | undefined {
  let e: unknown = err;
  for (let depth = 0; e && depth < 4; depth++) {
    if (typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code)) {
      return e as PgErrorLike;
    }
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

export const isSerializationFailure = (err: unknown) => {
  const code = pgError(err)?.code;
  return code === '40001' || code === '40P01';
};

/** Messages for unique constraints that users can hit; anything else gets a generic sentence. */
export type ConstraintMessages = Record<string, string>;

/**
 * Maps integrity violations to AppErrors: 23505 → CONFLICT, 23503 → NOT_FOUND of the
 * missing parent. Anything else is rethrown untouched (it becomes a 500 with the stack logged).
 */
export function translateDbError(err: unknown, messages: ConstraintMessages = {}): never {
  if (err instanceof AppError) throw err;
  const pgErr = pgError(err);
  if (pgErr?.code === '23505') {
    throw conflict((pgErr.constraint && messages[pgErr.constraint]) ?? 'a record with these values already exists');
  }
  if (pgErr?.code === '23503') {
    throw notFound((pgErr.constraint && messages[pgErr.constraint]) ?? 'referenced record');
  }
  throw err;
}
