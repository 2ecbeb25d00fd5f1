// The stream pieces of export: batches of records → NDJSON or CSV text, with backpressure all
// the way back to the database cursor (stream.pipeline). Whole batches travel through the
// pipeline, so a row costs no stream bookkeeping of its own.
import { pipeline, type Readable, Transform } from 'node:stream';
import { stringify } from 'csv-stringify/sync';
import { TASK_COLUMNS } from './exports.schemas.js';

// Spreadsheets run a cell that starts with one of these as a formula (CSV injection). Such a
// cell is written with a leading apostrophe, as OWASP advises; the importer removes exactly
// one, and a cell that already starts with apostrophes before one of them gets one more, so
// every text survives the round trip unchanged.
const FORMULA = /^'*[=+\-@\t\r]/;
export const escapeCell = (value: string): string => (FORMULA.test(value) ? `'${value}` : value);
export const unescapeCell = (value: string): string => (value.startsWith("'") && FORMULA.test(value) ? value.slice(1) : value);

/** Labels cannot contain commas (the task schema forbids them), so a comma list is unambiguous. */
export const joinLabels = (labels: readonly string[]): string => labels.join(', ');
export const splitLabels = (cell: string): string[] =>
  cell
    .split(',')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);

const csvOptions = {
  columns: TASK_COLUMNS.map((key) => ({ key, header: key })),
  cast: {
    string: escapeCell,
    object: (value: object) => (Array.isArray(value) ? escapeCell(joinLabels(value as string[])) : JSON.stringify(value)),
  },
};

/**
 * Rows per chunk of text: ~20 kB. A string over 128 kB would be allocated straight into V8's
 * old generation and only freed by a full collection, so a large export would grow the heap
 * by its whole size before one happened; small chunks die young, cheaply.
 */
const ROWS_PER_CHUNK = 32;

/** Batches of records → text chunks. The CSV header comes first, also for an empty export. */
function encoder(format: 'csv' | 'ndjson'): Transform {
  let header = format === 'csv';
  const text = (rows: object[]) => {
    if (format === 'ndjson') return rows.map((r) => `${JSON.stringify(r)}\n`).join('');
    const out = stringify(rows, { ...csvOptions, header });
    header = false;
    return out;
  };
  return new Transform({
    writableObjectMode: true,
    // One batch waits here at most; the readable side holds a few chunks.
    writableHighWaterMark: 1,
    readableHighWaterMark: 64 * 1024,
    transform(batch: object[], _enc, done) {
      for (let i = 0; i < batch.length; i += ROWS_PER_CHUNK) this.push(text(batch.slice(i, i + ROWS_PER_CHUNK)));
      done();
    },
    flush(done) {
      done(null, header ? text([]) : undefined);
    },
  });
}

/**
 * Batches of records → file text. Every stream of the pipeline is destroyed when one fails or
 * when the consumer goes away, which is what closes the cursor and gives its connection back.
 */
export function encode(batches: Readable, format: 'csv' | 'ndjson', onError: (err: Error) => void): Readable {
  return pipeline(batches, encoder(format), (err) => {
    if (err && (err as { code?: string }).code !== 'ERR_STREAM_PREMATURE_CLOSE') onError(err);
  });
}

/**
 * Resolves once the stream has its first chunk (or ended), rejects if it failed first: a
 * failure before the first byte can then still be a normal error response.
 */
export function firstChunk(stream: Readable): Promise<void> {
  return new Promise((resolve, reject) => {
    const settle = (err?: Error) => {
      stream.off('readable', onReadable);
      stream.off('error', settle);
      if (err) reject(err);
      else resolve();
    };
    const onReadable = () => settle();
    stream.once('readable', onReadable);
    stream.once('error', settle);
  });
}
