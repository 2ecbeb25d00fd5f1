// Loaded with `node --import` into a Tandem process that bench/tasks.ts starts only to learn what
// Tandem sends to PostgreSQL, never into the measured one: every statement that goes through
// `pg` (prepared-statement name, text, row mode, parameter values) is appended to the file
// BENCH_RECORD_SQL names, one JSON object per line. Transpiled to plain JavaScript like the bare
// servers, so `pg` resolves from the project's node_modules and is the very module Tandem uses.
import { appendFileSync } from 'node:fs';
import pg from 'pg';

const file = process.env.BENCH_RECORD_SQL;

interface QueryConfig {
  name?: string;
  text: string;
  rowMode?: string;
  values?: unknown[];
}
type QueryFn = (this: pg.Client, config: unknown, values?: unknown, callback?: unknown) => unknown;

if (file) {
  const proto = pg.Client.prototype as unknown as { query: QueryFn };
  const original = proto.query;
  proto.query = function recorded(this: pg.Client, config: unknown, values?: unknown, callback?: unknown) {
    const c: QueryConfig | undefined =
      typeof config === 'string' ? { text: config } : config && typeof config === 'object' ? (config as QueryConfig) : undefined;
    if (c && typeof c.text === 'string') {
      const params = Array.isArray(values) ? values : (c.values ?? []);
      appendFileSync(file, `${JSON.stringify({ name: c.name, text: c.text, rowMode: c.rowMode, values: params })}\n`);
    }
    return original.call(this, config, values, callback);
  };
}
