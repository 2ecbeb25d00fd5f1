// Reading an import: NDJSON lines or CSV records, each turned into one validated task or into
// errors that name its line. Streamed, so a large file is never held as parsed objects.
import { pipeline, type Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { parse as parseCsv } from 'csv-parse';
import type { ErrorDetail } from '../../platform/errors.js';
import { issuesToDetails } from '../../platform/http/validation.js';
import { type ImportedTask, importedTask, MAX_IMPORT_ERRORS, TASK_COLUMNS } from './exports.schemas.js';
import { splitLabels, unescapeCell } from './exports.streams.js';

export type ParsedRow = { line: number; task: ImportedTask } | { line: number; errors: ErrorDetail[] };

/** Longer than any valid row: a 100,000-character description escaped as JSON is ~600 kB. */
const MAX_LINE_CHARS = 2 * 1024 * 1024;

const at = (line: number, path = '') => (path ? `line ${line}: ${path}` : `line ${line}`);

function validate(line: number, value: unknown): ParsedRow {
  const result = importedTask.safeParse(value);
  if (result.success) return { line, task: result.data };
  return { line, errors: issuesToDetails(result.error.issues).map((d) => ({ path: at(line, d.path), message: d.message })) };
}

async function* ndjsonRows(input: Readable): AsyncGenerator<ParsedRow> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  let line = 0;
  const row = (text: string): ParsedRow | undefined => {
    line++;
    const trimmed = (line === 1 ? text.replace(/^\uFEFF/, '') : text).trim();
    if (trimmed === '') return undefined;
    try {
      return validate(line, JSON.parse(trimmed));
    } catch {
      return { line, errors: [{ path: at(line), message: 'is not valid JSON' }] };
    }
  };
  for await (const chunk of input) {
    rest += typeof chunk === 'string' ? chunk : decoder.write(chunk as Buffer);
    let start = 0;
    for (let end = rest.indexOf('\n'); end !== -1; end = rest.indexOf('\n', start)) {
      const parsed = row(rest.slice(start, end));
      start = end + 1;
      if (parsed) yield parsed;
    }
    rest = rest.slice(start);
    if (rest.length > MAX_LINE_CHARS) {
      yield { line: line + 1, errors: [{ path: at(line + 1), message: 'is longer than 2 MB; is this NDJSON?' }] };
      return;
    }
  }
  rest += decoder.end();
  const last = row(rest);
  if (last) yield last;
}

const NULLABLE = new Set(['assigneeId', 'reporterId', 'dueDate', 'estimateMinutes', 'completedAt']);
const OMITTED_WHEN_EMPTY = new Set(['status', 'priority']);

/** A CSV cell → the value the task schema expects; everything a CSV holds is text. */
function cellValue(column: string, cell: string): unknown {
  const text = unescapeCell(cell);
  if (text === '' && NULLABLE.has(column)) return null;
  if (text === '' && OMITTED_WHEN_EMPTY.has(column)) return undefined;
  if (column === 'labels') return splitLabels(text);
  if (column === 'estimateMinutes' || column === 'number' || column === 'position' || column === 'version') {
    return /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : text;
  }
  return text;
}

function headerErrors(header: string[]): ErrorDetail[] {
  const errors: ErrorDetail[] = [];
  const known = new Set<string>(TASK_COLUMNS);
  const seen = new Set<string>();
  for (const column of header) {
    if (!known.has(column)) errors.push({ path: at(1, column), message: `is not a column of a task export (${TASK_COLUMNS.join(', ')})` });
    else if (seen.has(column)) errors.push({ path: at(1, column), message: 'appears twice' });
    seen.add(column);
  }
  if (!seen.has('title')) errors.push({ path: at(1), message: 'has no title column' });
  return errors;
}

/** A record's cells, tagged with where it starts and its place in the file. */
type CsvRecord = string[] & { line: number; seq: number };

async function* csvRows(input: Readable): AsyncGenerator<ParsedRow> {
  // Line numbers and malformed records are settled while parsing, which runs ahead of this
  // consumer: each record and each skipped one gets a sequence number, and the errors are
  // merged back in file order. Arrays rather than column objects, so a row with the wrong
  // number of cells is reported with its line instead of ending the parse.
  let lastEnd = 0;
  let lastEmpty = 0;
  let seq = 0;
  const startLine = (context: { empty_lines: number }) => lastEnd + 1 + (context.empty_lines - lastEmpty);
  const skipped: { seq: number; row: ParsedRow }[] = [];
  const parser = pipeline(
    input,
    parseCsv({
      bom: true,
      relax_column_count: true,
      skip_empty_lines: true,
      max_record_size: MAX_LINE_CHARS,
      skip_records_with_error: true,
      on_record: (cells, context): CsvRecord => {
        const line = startLine(context);
        lastEnd = context.lines;
        lastEmpty = context.empty_lines;
        return Object.assign(cells, { line, seq: seq++ });
      },
      on_skip: (err) => {
        // A file of nothing but broken records would otherwise queue one error per record.
        if (skipped.length > MAX_IMPORT_ERRORS) return undefined;
        const where = err as { lines?: number; empty_lines?: number; message?: string } | undefined;
        const line = startLine({ empty_lines: where?.empty_lines ?? lastEmpty });
        lastEnd = Math.max(lastEnd + 1, where?.lines ?? 0);
        const reason = (where?.message ?? 'malformed record').split(':')[0];
        skipped.push({ seq: seq++, row: { line, errors: [{ path: at(line), message: `is not valid CSV (${reason})` }] } });
        return undefined;
      },
    }),
    () => {},
  );
  let header: string[] | undefined;
  for await (const cells of parser as AsyncIterable<CsvRecord>) {
    const { line, seq: position } = cells;
    while (skipped[0] && skipped[0].seq < position) yield (skipped.shift() as { row: ParsedRow }).row;
    if (!header) {
      header = cells.map((c) => c.trim());
      const errors = headerErrors(header);
      if (errors.length > 0) {
        yield { line, errors };
        return;
      }
      continue;
    }
    if (cells.length !== header.length) {
      yield { line, errors: [{ path: at(line), message: `has ${cells.length} cells; the header has ${header.length}` }] };
      continue;
    }
    const columns = header;
    yield validate(
      line,
      Object.fromEntries(cells.map((cell, i) => [columns[i], cellValue(columns[i] ?? '', cell)]).filter(([, v]) => v !== undefined)),
    );
  }
  for (const { row } of skipped) yield row;
  if (!header && skipped.length === 0) yield { line: 1, errors: [{ path: at(1), message: 'has no header row' }] };
}

/** Every row of an import, in file order, validated one by one. */
export const parseRows = (input: Readable, format: 'csv' | 'ndjson'): AsyncGenerator<ParsedRow> =>
  format === 'csv' ? csvRows(input) : ndjsonRows(input);
