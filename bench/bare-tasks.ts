// The baseline of the tasks benchmark: node:http + pg and nothing else. It sends the statements
// Tandem itself sent for the same requests (recorded by bench/tasks.ts, loaded from the JSON file
// BARE_TASKS_SQL names: same text, same prepared-statement names, same row mode, parameters in the
// same places), in the same order and the same transaction, decides access from the same rows,
// and answers with the same JSON. It has no pipeline: no request id, access log, rate limit,
// token verification (the caller is BARE_USER_ID, whatever the bearer token says), schema
// validation beyond what it must read, or serializer.
//
// Transpiled to plain JavaScript and started by bench/tasks.ts as its own process.
// Environment: DATABASE_URL, PORT, HOST, DATABASE_POOL_MAX, BARE_TASKS_SQL, BARE_USER_ID.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import pg from 'pg';
import { send, serve } from './bare-http.js';
import type { Role, SlotName, Statement, TasksSql } from './tasks-sql.js';

const recorded = JSON.parse(readFileSync(String(process.env.BARE_TASKS_SQL), 'utf8')) as TasksSql;
const userId = String(process.env.BARE_USER_ID);

const pool = new pg.Pool({
  connectionString: process.env.DATABASE_URL,
  max: Number(process.env.DATABASE_POOL_MAX ?? 10),
  application_name: 'bench-bare-tasks',
});
pool.on('error', (err) => process.stderr.write(`idle client error: ${err.message}\n`));

// Dates and timestamps stay text, as Drizzle's driver settings keep them; the presenter formats them.
const RAW_TYPES = new Set([pg.types.builtins.DATE, pg.types.builtins.TIMESTAMP, pg.types.builtins.TIMESTAMPTZ]);
const types = {
  getTypeParser: (oid: number, format?: string) =>
    RAW_TYPES.has(oid) ? (v: string) => v : pg.types.getTypeParser(oid, format as 'text' | undefined),
} as unknown as pg.CustomTypesConfig;

type Values = Partial<Record<SlotName, unknown>>;
type Row = unknown[];
interface Result {
  rows: Row[];
  fields: pg.FieldDef[];
}

function compile(s: Statement): (exec: pg.Pool | pg.PoolClient, v: Values) => Promise<Result> {
  const build = s.params.map((p): ((v: Values) => unknown) => {
    if ('slot' in p) return (v) => v[p.slot];
    if ('titleTemplate' in p) return (v) => p.titleTemplate.split(recorded.titleSentinel).join(JSON.stringify(v.title).slice(1, -1));
    return () => p.value;
  });
  return (exec, v) =>
    exec.query({ name: s.name, text: s.text, rowMode: s.rowMode, types, values: build.map((b) => b(v)) } as pg.QueryConfig) as Promise<
      Result & pg.QueryResult
    >;
}

const run = Object.fromEntries(Object.entries(recorded.statements).map(([role, s]) => [role, compile(s)])) as Record<
  Role,
  ReturnType<typeof compile>
>;

// ---------------------------------------------------------------- rows → the API's task

const TASK_COLUMNS = [
  'id',
  'number',
  'project_id',
  'workspace_id',
  'title',
  'description',
  'status',
  'priority',
  'assignee_id',
  'reporter_id',
  'due_date',
  'labels',
  'estimate_minutes',
  'position',
  'version',
  'completed_at',
  'created_at',
  'updated_at',
] as const;

/** Where each column is in a statement's rows (the first of a name: joins put the task's columns first). */
interface Layout {
  byName: Map<string, number>;
  /** TASK_COLUMNS' positions (-1 when the statement has no such column). */
  task: number[];
  last: number;
}
const layouts = new Map<Role, Layout>();
function layoutOf(role: Role, fields: pg.FieldDef[]): Layout {
  let layout = layouts.get(role);
  if (!layout) {
    const byName = new Map<string, number>();
    for (const [i, f] of fields.entries()) if (!byName.has(f.name)) byName.set(f.name, i);
    layout = { byName, task: TASK_COLUMNS.map((c) => byName.get(c) ?? -1), last: fields.length - 1 };
    layouts.set(role, layout);
  }
  return layout;
}
const col = (layout: Layout, name: string): number => {
  const i = layout.byName.get(name);
  if (i === undefined) throw new Error(`no column ${name} in the result`);
  return i;
};
const iso = (v: unknown) => (v === null ? null : new Date(v as string).toISOString());

/** tasks.schemas.ts toTaskResponse, field for field. */
function toTask(row: Row, { task: t }: Layout, projectKey: string) {
  const at = (i: number) => row[t[i] ?? -1];
  return {
    id: at(0) as string,
    key: `${projectKey}-${at(1)}`,
    number: at(1),
    projectId: at(2),
    workspaceId: at(3),
    title: at(4),
    description: at(5),
    status: at(6),
    priority: at(7),
    assigneeId: at(8),
    reporterId: at(9),
    dueDate: at(10),
    labels: at(11),
    estimateMinutes: at(12),
    position: at(13),
    version: at(14),
    completedAt: iso(at(15)),
    createdAt: iso(at(16)),
    updatedAt: iso(at(17)),
  };
}

// ---------------------------------------------------------------- access (workspaces.policy.ts)

const RANK: Record<string, number> = { guest: 0, member: 1, admin: 2, owner: 3 };
const MEMBER = 1;

/** The status to refuse with, or 0: hidden → 404, read needs guest, write needs member and a live project. */
function refusal(row: Row | undefined, ix: Layout, action: 'read' | 'write'): number {
  if (!row) return 404;
  const role = String(row[col(ix, 'role')]);
  if (role === 'guest' && row[ix.last] !== true) return 404;
  if (action === 'write' && (RANK[role] ?? -1) < MEMBER) return 403;
  if (action === 'write' && row[col(ix, 'archived_at')] !== null) return 409;
  return 0;
}

// ---------------------------------------------------------------- handlers

class Refused extends Error {
  constructor(readonly status: number) {
    super(`refused with ${status}`);
  }
}

async function project(projectId: string, action: 'read' | 'write') {
  const r = await run.projectForMember(pool, { userId, projectId });
  const ix = layoutOf('projectForMember', r.fields);
  const status = refusal(r.rows[0], ix, action);
  const row = r.rows[0];
  if (status || !row) throw new Refused(status || 404);
  return { workspaceId: row[col(ix, 'workspace_id')], key: String(row[col(ix, 'key')]) };
}

async function getTask(taskId: string) {
  const r = await run.taskForMember(pool, { userId, taskId });
  const ix = layoutOf('taskForMember', r.fields);
  const row = r.rows[0];
  const status = refusal(row, ix, 'read');
  if (status || !row) throw new Refused(status || 404);
  return { success: true, data: toTask(row, ix, String(row[col(ix, 'key')])) };
}

async function listTasks(projectId: string, query: URLSearchParams) {
  // Only the benchmarked shape: one or more statuses, by due date, offset pages.
  const unknown = [...query.keys()].filter((k) => !['status', 'sort', 'limit', 'page'].includes(k));
  const statuses = query.get('status')?.split(',');
  if (unknown.length > 0 || !statuses || query.get('sort') !== 'dueDate') throw new Refused(400);
  const limit = Math.min(100, Math.max(1, Number(query.get('limit') ?? 20) || 20));
  const page = Math.max(1, Number(query.get('page') ?? 1) || 1);
  const { key } = await project(projectId, 'read');
  const [p, c] = await Promise.all([
    run.listPage(pool, { projectId, statuses, fetchLimit: limit + 1, offset: (page - 1) * limit }),
    run.listCount(pool, { projectId, statuses }),
  ]);
  const ix = layoutOf('listPage', p.fields);
  const rows = p.rows.slice(0, limit);
  const hasMore = p.rows.length > limit;
  const last = rows.at(-1);
  const total = Number(c.rows[0]?.[0] ?? 0);
  const nextCursor =
    hasMore && last
      ? Buffer.from(JSON.stringify(['dueDate', ...(last[col(ix, 'array')] as string[]), last[col(ix, 'id')]])).toString('base64url')
      : null;
  return {
    success: true,
    data: rows.map((row) => toTask(row, ix, key)),
    pagination: { page, limit, total, totalPages: Math.ceil(total / limit), nextCursor, hasMore },
  };
}

/** A UUIDv7 like Tandem's ids (time-ordered, so the primary key index grows at its right edge). */
function uuidv7(): string {
  const b = randomBytes(16);
  b.writeUIntBE(Date.now(), 0, 6);
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x70;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

async function createTask(projectId: string, body: string) {
  let title: unknown;
  try {
    const parsed = JSON.parse(body) as Record<string, unknown>;
    if (Object.keys(parsed).some((k) => k !== 'title')) throw new Refused(400); // only the benchmarked body
    title = typeof parsed.title === 'string' ? parsed.title.trim() : undefined;
  } catch {
    throw new Refused(400);
  }
  if (typeof title !== 'string' || title.length < 1 || title.length > 500) throw new Refused(400);
  const { workspaceId, key } = await project(projectId, 'write');
  const client = await pool.connect();
  try {
    await run.begin(client, {});
    const reserved = await run.reserveNumber(client, { projectId });
    const end = await run.endOfColumn(client, { projectId });
    const values: Values = {
      userId,
      projectId,
      workspaceId,
      title,
      now: new Date().toISOString(),
      newTaskId: uuidv7(),
      newId: uuidv7(),
      number: reserved.rows[0]?.[0],
      position: ((end.rows[0]?.[0] as number | null) ?? 0) + recorded.positionGap,
    };
    const inserted = await run.insertTask(client, values);
    await run.insertActivity(client, values);
    await run.commit(client, {});
    const row = inserted.rows[0];
    if (!row) throw new Error('insert returned no task');
    return toTask(row, layoutOf('insertTask', inserted.fields), key);
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

// ---------------------------------------------------------------- HTTP

const TASK_PATH = /^\/api\/v1\/tasks\/([0-9a-fA-F-]{36})$/;
const PROJECT_TASKS_PATH = /^\/api\/v1\/projects\/([0-9a-fA-F-]{36})\/tasks$/;

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  if (path === '/health') return send(res, 200, { success: true });
  const task = TASK_PATH.exec(path);
  if (task?.[1] && req.method === 'GET') return send(res, 200, await getTask(task[1]));
  const projectTasks = PROJECT_TASKS_PATH.exec(path);
  if (projectTasks?.[1] && req.method === 'GET') {
    return send(res, 200, await listTasks(projectTasks[1], new URLSearchParams(q === -1 ? '' : url.slice(q + 1))));
  }
  if (projectTasks?.[1] && req.method === 'POST') {
    const created = await createTask(projectTasks[1], await readBody(req));
    return send(res, 201, { success: true, data: created }, { location: `/api/v1/tasks/${created.id}` });
  }
  return send(res, 404, { success: false, error: 'not found' });
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((err: unknown) => {
    if (err instanceof Refused) return send(res, err.status, { success: false, error: err.message });
    process.stderr.write(`request failed: ${err instanceof Error ? err.message : String(err)}\n`);
    if (!res.headersSent) send(res, 500, { success: false, error: 'internal error' });
  });
});
serve(server, pool, 'bare tasks server');
