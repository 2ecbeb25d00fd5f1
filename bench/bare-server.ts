// The baseline of the users benchmark: node:http + pg and nothing else. It runs the same
// statements Tandem's users repository sends (bench/queries.ts: same SQL text, named prepared
// statements like Drizzle's `.prepare()`) on a pool of the same size, and answers in the same envelope shape, but has no pipeline at all: no request id,
// no access log, no rate limit, no authentication, no validation, no schema serializer.
//
// Started by bench/run.ts as its own process (transpiled to plain JS first, with queries.ts and bare-http.ts, so
// the process is plain `node` like Tandem's, with no TypeScript loader in it).
// Environment: DATABASE_URL, PORT, HOST, DATABASE_POOL_MAX.
import http from 'node:http';
import pg from 'pg';
import { send, serve } from './bare-http.js';
import { FIND_BY_ID, LIST_COUNT, LIST_PAGE, type Statement } from './queries.js';

interface UserRecord {
  id: string;
  email: string;
  name: string;
  role: string;
  email_verified_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

const toUser = (u: UserRecord) => ({
  id: u.id,
  email: u.email,
  name: u.name,
  role: u.role,
  emailVerified: u.email_verified_at !== null,
  emailVerifiedAt: u.email_verified_at ? u.email_verified_at.toISOString() : null,
  createdAt: u.created_at.toISOString(),
  updatedAt: u.updated_at.toISOString(),
});

const pool = new pg.Pool({
  connectionString: process.env.DATABASE_URL,
  max: Number(process.env.DATABASE_POOL_MAX ?? 10),
  application_name: 'bench-bare',
});
pool.on('error', (err) => process.stderr.write(`idle client error: ${err.message}\n`));

type Query = <R extends pg.QueryResultRow>(statement: Statement, values?: unknown[]) => Promise<{ rows: R[] }>;

/**
 * BARE_STATIC=1 (bench/costs.ts only): the same answers from rows loaded at start, no query per
 * request, to measure node:http's own floor. `npm run bench` never sets it.
 */
async function staticQuery(): Promise<Query> {
  const all = await pool.query<UserRecord>('select * from users where deleted_at is null');
  const byId = new Map(all.rows.map((r) => [r.id, r]));
  const page = await pool.query<UserRecord>(LIST_PAGE.text, [20, 0]);
  const count = await pool.query(LIST_COUNT.text);
  const answers = new Map<string, (values?: unknown[]) => unknown[]>([
    [FIND_BY_ID.name, (values) => [byId.get(String(values?.[0]))].filter(Boolean)],
    [LIST_PAGE.name, () => page.rows],
    [LIST_COUNT.name, () => count.rows],
  ]);
  return async <R extends pg.QueryResultRow>(statement: Statement, values?: unknown[]) => {
    const answer = answers.get(statement.name);
    if (!answer) throw new Error(`BARE_STATIC has no answer for ${statement.name}`);
    return { rows: answer(values) as R[] };
  };
}

const query: Query =
  process.env.BARE_STATIC === '1'
    ? await staticQuery()
    : <R extends pg.QueryResultRow>(statement: Statement, values?: unknown[]) =>
        pool.query<R>({ name: statement.name, text: statement.text, values });

const USER_PATH = /^\/api\/v1\/users\/([0-9a-fA-F-]{36})$/;

async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  if (req.method !== 'GET') return send(res, 405, { success: false, error: 'method not allowed' });
  if (path === '/health') return send(res, 200, { success: true });

  const byId = USER_PATH.exec(path);
  if (byId) {
    const { rows } = await query<UserRecord>(FIND_BY_ID, [byId[1], 1]);
    const row = rows[0];
    if (!row) return send(res, 404, { success: false, error: 'user not found' });
    return send(res, 200, { success: true, data: toUser(row) });
  }

  if (path === '/api/v1/users') {
    const params = new URLSearchParams(q === -1 ? '' : url.slice(q + 1));
    const page = Math.max(1, Number(params.get('page') ?? 1) || 1);
    const limit = Math.min(100, Math.max(1, Number(params.get('limit') ?? 20) || 20));
    const offset = (page - 1) * limit;
    const [list, count] = await Promise.all([query<UserRecord>(LIST_PAGE, [limit, offset]), query<{ count: string }>(LIST_COUNT)]);
    const total = Number(count.rows[0]?.count ?? 0);
    return send(res, 200, {
      success: true,
      data: list.rows.map(toUser),
      pagination: { page, limit, total, totalPages: Math.ceil(total / limit) },
    });
  }
  return send(res, 404, { success: false, error: 'not found' });
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((err: unknown) => {
    process.stderr.write(`request failed: ${err instanceof Error ? err.message : String(err)}\n`);
    if (!res.headersSent) send(res, 500, { success: false, error: 'internal error' });
  });
});
serve(server, pool, 'bare server');
