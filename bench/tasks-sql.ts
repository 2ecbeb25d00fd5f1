// What Tandem really sends to PostgreSQL for the three benchmarked task requests, so the bare
// server can send the same. bench/tasks.ts starts a Tandem process with bench/record-sql.ts
// loaded, makes one real request of each kind, and hands the statements each request sent to
// `learnStatements`, which names them (by role) and turns every parameter value into either a
// slot the bare server fills per request (the project id, the title, a fresh id …) or a
// constant. The result is saved as JSON and loaded by bench/bare-tasks.ts. If Tandem sends
// statements the bare server does not know, or in another order, the run stops here.

/** A statement as bench/record-sql.ts saw it leave Tandem. */
export interface RecordedQuery {
  name?: string;
  text: string;
  rowMode?: string;
  values: unknown[];
}

export type Role =
  | 'taskForMember'
  | 'projectForMember'
  | 'listPage'
  | 'listCount'
  | 'begin'
  | 'reserveNumber'
  | 'endOfColumn'
  | 'insertTask'
  | 'insertActivity'
  | 'commit';

export type SlotName =
  | 'userId'
  | 'taskId'
  | 'projectId'
  | 'workspaceId'
  | 'statuses'
  | 'fetchLimit'
  | 'offset'
  | 'title'
  | 'newTaskId'
  | 'newId'
  | 'number'
  | 'position'
  | 'now';

/** A parameter: filled from a slot, a JSON text with the title in it (the activity's changes), or a constant. */
export type Param = { slot: SlotName } | { titleTemplate: string } | { value: unknown };

export interface Statement {
  role: Role;
  /** Set when Tandem sends it as a named prepared statement. */
  name?: string;
  text: string;
  rowMode?: string;
  params: Param[];
}

export interface TasksSql {
  /** The placeholder title of the recorded create, as it appears inside `titleTemplate` parameters. */
  titleSentinel: string;
  /** Tandem's gap between board positions (tasks.repository.ts POSITION_GAP). */
  positionGap: number;
  statements: Record<Role, Statement>;
}

/** The statements each request must send, in this order (the list's page and count run in parallel). */
export const EXPECTED: Record<'get' | 'list' | 'create', Role[]> = {
  get: ['taskForMember'],
  list: ['projectForMember', 'listPage', 'listCount'],
  create: ['projectForMember', 'begin', 'reserveNumber', 'endOfColumn', 'insertTask', 'insertActivity', 'commit'],
};

function roleOf(q: RecordedQuery): Role | undefined {
  const t = q.text.trim().toLowerCase();
  if (t === 'begin') return 'begin';
  if (t === 'commit') return 'commit';
  if (t.startsWith('update "projects" set "task_seq"')) return 'reserveNumber';
  if (t.startsWith('insert into "tasks"')) return 'insertTask';
  if (t.startsWith('insert into "activities"')) return 'insertActivity';
  if (t.startsWith('select max("position") from "tasks"')) return 'endOfColumn';
  if (t.includes('from "tasks" inner join "projects"')) return 'taskForMember';
  if (t.includes('from "projects" inner join "workspace_members"')) return 'projectForMember';
  if (t.startsWith('select count(*)') && t.includes('from "tasks"')) return 'listCount';
  if (t.includes('from "tasks"') && t.includes('order by')) return 'listPage';
  return undefined;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * Names one request's statements and their parameters. `known` holds the values of the request
 * (ids, title, limits) and of what it created (the new task's id, number and position): a
 * parameter equal to one of them becomes that slot. In a create, other ids are fresh ids and
 * other ISO timestamps are "now"; everything else is a constant.
 */
export function learnStatements(
  kind: keyof typeof EXPECTED,
  queries: RecordedQuery[],
  known: Partial<Record<SlotName, unknown>>,
  titleSentinel: string,
): Statement[] {
  const roles = queries.map(roleOf);
  const expected = EXPECTED[kind];
  const sorted = (r: (Role | undefined)[]) => [...r].map(String).sort().join();
  // The list's page and count are issued together; only their set matters.
  const matches = kind === 'list' ? sorted(roles) === sorted(expected) && roles[0] === expected[0] : same(roles, expected);
  if (!matches) {
    throw new Error(
      `SQL drift: Tandem's ${kind} request now sends ${JSON.stringify(
        queries.map((q, i) => ({ role: roles[i] ?? 'UNKNOWN', name: q.name, text: q.text })),
        null,
        2,
      )}\nbut bench/bare-tasks.ts replays ${JSON.stringify(expected)}: update bench/tasks-sql.ts and bench/bare-tasks.ts so the baseline does the same work.`,
    );
  }
  return queries.map((q, i) => ({
    role: roles[i] as Role,
    ...(q.name ? { name: q.name } : {}),
    text: q.text,
    ...(q.rowMode ? { rowMode: q.rowMode } : {}),
    params: q.values.map((value, j): Param => {
      const slots = (Object.keys(known) as SlotName[]).filter((s) => known[s] !== undefined && same(known[s], value));
      if (slots.length > 1) throw new Error(`${roles[i]} parameter $${j + 1} (${JSON.stringify(value)}) is ambiguous: ${slots.join(', ')}`);
      if (slots[0]) return { slot: slots[0] };
      if (typeof value === 'string' && value.includes(titleSentinel)) return { titleTemplate: value };
      if (kind === 'create' && typeof value === 'string' && UUID.test(value)) return { slot: 'newId' };
      if (kind === 'create' && typeof value === 'string' && ISO_TIME.test(value)) return { slot: 'now' };
      return { value };
    }),
  }));
}

/** One line per statement and parameter, for the run's output. */
export function describeStatements(statements: Statement[]): string {
  return statements
    .map((s) => {
      const params = s.params.map((p) => ('slot' in p ? p.slot : 'titleTemplate' in p ? 'json(title)' : JSON.stringify(p.value)));
      return `    ${s.role.padEnd(16)} ${s.name ? `prepared ${s.name}` : 'unnamed'}${s.rowMode ? `, rows as ${s.rowMode}s` : ''}; $n = ${params.join(', ') || '-'}`;
    })
    .join('\n');
}
