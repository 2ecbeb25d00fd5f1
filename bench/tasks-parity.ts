// How bench/tasks.ts makes sure the bare server does Tandem's work: it records the statements a
// Tandem process sends for one request of each kind (bench/record-sql.ts loaded into it), and,
// before measuring, checks that both servers answer alike: GET and LIST with byte-identical
// bodies; CREATE with 201, a Location, the same fields, and a task that the other server then
// returns byte for byte as it was created, with the same activity recorded.
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { POSITION_GAP } from '../src/modules/tasks/tasks.repository.js';
import { type BenchSettings, login, startTandem } from './harness.js';
import { type Server, say, stopServer, workDir } from './lib.js';
import type { TasksSeed } from './tasks-seed.js';
import {
  describeStatements,
  EXPECTED,
  learnStatements,
  type RecordedQuery,
  type Role,
  type Statement,
  type TasksSql,
} from './tasks-sql.js';

export const LIST_QUERY = 'status=todo&sort=dueDate&limit=20';
const TITLE_SENTINEL = 'bench-sentinel-title-5c1d';

interface Answer {
  status: number;
  text: string;
  location: string | null;
}

async function call(server: Server, token: string, method: 'GET' | 'POST', p: string, body?: unknown): Promise<Answer> {
  const res = await fetch(`${server.url}${p}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, text: await res.text(), location: res.headers.get('location') };
}

function expectStatus(a: Answer, status: number, what: string): void {
  if (a.status !== status) throw new Error(`${what}: expected ${status}, got ${a.status}: ${a.text.slice(0, 500)}`);
}

/** Starts a recording Tandem, makes one GET, LIST and CREATE, and learns the statements each sent. */
export async function recordTandemSql(
  settings: BenchSettings,
  databaseUrl: string,
  recordScript: string,
  login_: { email: string; password: string },
  data: TasksSeed,
): Promise<TasksSql> {
  const file = path.join(workDir, 'recorded-sql.jsonl');
  writeFileSync(file, '');
  const recorder = await startTandem(settings, databaseUrl, {
    name: 'Tandem-recording',
    nodeArgs: ['--import', pathToFileURL(recordScript).href],
    env: { BENCH_RECORD_SQL: file },
    profile: false,
  });
  const learned: Statement[] = [];
  try {
    const token = await login(recorder, login_.email, login_.password);
    const during = async (what: string, fn: () => Promise<Answer>): Promise<{ answer: Answer; queries: RecordedQuery[] }> => {
      const from = statSync(file).size;
      const answer = await fn();
      const lines = readFileSync(file).subarray(from).toString('utf8').split('\n').filter(Boolean);
      say(`  ${what}: ${answer.status}, ${lines.length} statements`);
      return { answer, queries: lines.map((l) => JSON.parse(l) as RecordedQuery) };
    };
    const [taskId, projectId] = [data.taskIds[0], data.projectIds[0]];
    if (!taskId || !projectId) throw new Error('nothing seeded');
    const common = { userId: data.userId };
    say('recording what Tandem sends to PostgreSQL:');
    const get = await during('GET', () => call(recorder, token, 'GET', `/api/v1/tasks/${taskId}`));
    expectStatus(get.answer, 200, 'recording GET');
    learned.push(...learnStatements('get', get.queries, { ...common, taskId }, TITLE_SENTINEL));
    const list = await during('LIST', () => call(recorder, token, 'GET', `/api/v1/projects/${projectId}/tasks?${LIST_QUERY}`));
    expectStatus(list.answer, 200, 'recording LIST');
    const listKnown = { ...common, projectId, statuses: ['todo'], fetchLimit: 21, offset: 0 };
    learned.push(...learnStatements('list', list.queries, listKnown, TITLE_SENTINEL));
    const create = await during('CREATE', () =>
      call(recorder, token, 'POST', `/api/v1/projects/${projectId}/tasks`, { title: TITLE_SENTINEL }),
    );
    expectStatus(create.answer, 201, 'recording CREATE');
    const task = (JSON.parse(create.answer.text) as { data: { id: string; number: number; position: number } }).data;
    const createKnown = {
      ...common,
      projectId,
      workspaceId: data.workspaceId,
      title: TITLE_SENTINEL,
      newTaskId: task.id,
      number: task.number,
      position: task.position,
    };
    learned.push(...learnStatements('create', create.queries, createKnown, TITLE_SENTINEL));
  } finally {
    await stopServer(recorder);
  }
  const statements = {} as Record<Role, Statement>;
  for (const s of learned) {
    const seen = statements[s.role];
    if (seen && JSON.stringify(seen) !== JSON.stringify(s))
      throw new Error(`${s.role} differs between requests:\n${JSON.stringify([seen, s])}`);
    statements[s.role] = s;
  }
  const order = [...new Set(Object.values(EXPECTED).flat())];
  say(describeStatements(order.map((r) => statements[r])));
  return { titleSentinel: TITLE_SENTINEL, positionGap: POSITION_GAP, statements };
}

/** Both servers answer alike (see the top of this file); the response sizes by endpoint label. */
export async function checkParity(
  tandem: Server,
  bare: Server,
  token: string,
  databaseUrl: string,
  data: TasksSeed,
  labels: { get: string; list: string; create: string },
): Promise<Record<string, number[]>> {
  const both = async (method: 'GET' | 'POST', p: string, body?: unknown) =>
    Promise.all([call(tandem, token, method, p, body), call(bare, token, method, p, body)]);
  const sizes: Record<string, number[]> = {};
  const reads: [string, string][] = [
    ...data.taskIds.slice(0, 5).map((id): [string, string] => [labels.get, `/api/v1/tasks/${id}`]),
    ...data.projectIds.slice(0, 5).map((id): [string, string] => [labels.list, `/api/v1/projects/${id}/tasks?${LIST_QUERY}`]),
  ];
  for (const [label, p] of reads) {
    const [a, b] = await both('GET', p);
    expectStatus(a, 200, `Tandem ${p}`);
    expectStatus(b, 200, `bare ${p}`);
    if (a.text !== b.text) throw new Error(`${p}: the two servers disagree\nTandem: ${a.text}\nbare:   ${b.text}`);
    sizes[label] ??= [Buffer.byteLength(a.text), Buffer.byteLength(b.text)];
  }

  // A title that needs escaping, in JSON and in the activity's changes.
  const p = `/api/v1/projects/${data.projectIds[1]}/tasks`;
  const body = { title: '  Parity "check" — ünïcode \\ tab\t ' };
  const a = await call(tandem, token, 'POST', p, body);
  const b = await call(bare, token, 'POST', p, body);
  expectStatus(a, 201, `Tandem POST ${p}`);
  expectStatus(b, 201, `bare POST ${p}`);
  const [ta, tb] = [a, b].map((x) => (JSON.parse(x.text) as { data: Record<string, unknown> }).data) as [
    Record<string, unknown>,
    Record<string, unknown>,
  ];
  for (const [name, x, t] of [
    ['Tandem', a, ta],
    ['bare', b, tb],
  ] as const) {
    if (x.location !== `/api/v1/tasks/${t.id}`) throw new Error(`${name}'s create answered Location ${x.location} for task ${t.id}`);
  }
  const shape = (t: Record<string, unknown>) => Object.entries(t).map(([k, v]) => `${k}:${v === null ? 'null' : typeof v}`);
  if (JSON.stringify(shape(ta)) !== JSON.stringify(shape(tb))) {
    throw new Error(`the created tasks differ in shape\nTandem: ${a.text}\nbare:   ${b.text}`);
  }
  const generated = new Set(['id', 'key', 'number', 'position', 'createdAt', 'updatedAt']);
  for (const k of Object.keys(ta).filter((k) => !generated.has(k))) {
    if (JSON.stringify(ta[k]) !== JSON.stringify(tb[k])) throw new Error(`created tasks differ in ${k}: ${a.text} / ${b.text}`);
  }
  // Each server returns the other's new task byte for byte as it was created.
  const fromTandem = await call(tandem, token, 'GET', `/api/v1/tasks/${tb.id}`);
  const fromBare = await call(bare, token, 'GET', `/api/v1/tasks/${ta.id}`);
  if (fromTandem.text !== b.text || fromBare.text !== a.text) {
    throw new Error(
      `a created task reads back differently\nbare created:   ${b.text}\nTandem reads:   ${fromTandem.text}\nTandem created: ${a.text}\nbare reads:     ${fromBare.text}`,
    );
  }
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ task_id: string; row: string }>(
      `select task_id, jsonb_build_object('verb', verb, 'actor', actor_id, 'project', project_id, 'workspace', workspace_id, 'changes', changes)::text as row
       from activities where task_id = any($1::uuid[])`,
      [[ta.id, tb.id]],
    );
    const act = (id: unknown) => rows.filter((r) => r.task_id === id).map((r) => r.row);
    if (act(ta.id).length !== 1 || JSON.stringify(act(ta.id)) !== JSON.stringify(act(tb.id))) {
      throw new Error(`the creates recorded different activity:\nTandem: ${act(ta.id)}\nbare:   ${act(tb.id)}`);
    }
  } finally {
    await client.end();
  }
  sizes[labels.create] = [Buffer.byteLength(a.text), Buffer.byteLength(b.text)];
  say('both servers answer GET and LIST byte for byte alike, and CREATE alike (shape, Location, read back by the other, activity)');
  return sizes;
}
