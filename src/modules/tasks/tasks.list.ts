// The task list query: filters, an allow-listed sort with a unique tie-breaker (id), offset
// pages with a total, and keyset (cursor) pages. Built once per query shape and run as a
// named prepared statement (the list is the hottest read of the product).
import { and, asc, desc, eq, getTableColumns, type SQL, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import { pgError } from '../../platform/db/errors.js';
import { preparedByShape } from '../../platform/db/prepared.js';
import { validationFailed } from '../../platform/errors.js';
import { projectMembers, projects } from '../projects/projects.table.js';
import { workspaceMembers } from '../workspaces/workspaces.table.js';
import { type TaskPriority, type TaskRow, type TaskStatus, tasks } from './tasks.table.js';

export const TASK_SORT_KEYS = [
  'dueDate',
  'priority',
  'status',
  'createdAt',
  'updatedAt',
  'number',
  'title',
  'position',
  'relevance',
] as const;
export type TaskSortKey = (typeof TASK_SORT_KEYS)[number];
export interface TaskSort {
  key: TaskSortKey;
  desc: boolean;
}

export interface TaskListFilter {
  /** One project's tasks, or (without it) "my tasks": the assignee's across every workspace they can see. */
  projectId?: string;
  viewerId?: string;
  statuses?: TaskStatus[];
  priorities?: TaskPriority[];
  assigneeId?: string | null;
  reporterId?: string;
  label?: string;
  dueBefore?: string;
  dueAfter?: string;
  /** Due before this date (the caller's today) and not done or cancelled. */
  overdueBefore?: string;
  q?: string;
  sort: TaskSort[];
  limit: number;
  offset?: number;
  /** Sort values and id of the last row of the previous page (cursor pagination). */
  after?: string[];
}

/** Every column but the search vector, which is only ever matched against. */
const { search: _search, ...taskColumns } = getTableColumns(tasks);
export const taskSelection = taskColumns;

const sortExpressions: Record<Exclude<TaskSortKey, 'dueDate'>, SQL> = {
  priority: sql`array_position(array['none','low','medium','high','urgent']::text[], ${tasks.priority})`,
  status: sql`array_position(array['todo','in_progress','in_review','done','cancelled']::text[], ${tasks.status})`,
  createdAt: sql`${tasks.createdAt}`,
  updatedAt: sql`${tasks.updatedAt}`,
  number: sql`${tasks.number}`,
  title: sql`${tasks.title}`,
  position: sql`${tasks.position}`,
  relevance: sql`ts_rank(${tasks.search}, websearch_to_tsquery('english', ${sql.placeholder('q')}))`,
};

/** Tasks without a due date come last in both directions, so "soonest" and "latest" both lead with dated work. */
const sortExpression = (s: TaskSort): SQL =>
  s.key === 'dueDate'
    ? s.desc
      ? sql`coalesce(${tasks.dueDate}, '-infinity'::date)`
      : sql`coalesce(${tasks.dueDate}, 'infinity'::date)`
    : sortExpressions[s.key];

const p = (name: string) => sql.placeholder(name);

/** Rows after the cursor: (k1 > v1) or (k1 = v1 and k2 > v2) … ending with the id. */
function afterCursor(sort: TaskSort[]): SQL {
  const keys = [
    ...sort.map((s, i) => ({ expr: sortExpression(s), desc: s.desc, param: `c${i}` })),
    { expr: sql`${tasks.id}`, desc: false, param: 'cid' },
  ];
  const branches = keys.map((k, i) => {
    const equalBefore = keys.slice(0, i).map((e) => sql`${e.expr} = ${p(e.param)}`);
    const beyond = k.desc ? sql`${k.expr} < ${p(k.param)}` : sql`${k.expr} > ${p(k.param)}`;
    return sql`(${sql.join([...equalBefore, beyond], sql` and `)})`;
  });
  return sql`(${sql.join(branches, sql` or `)})`;
}

function conditions(flags: Set<string>, sort: TaskSort[]): SQL | undefined {
  const where: SQL[] = [];
  if (flags.has('project')) where.push(eq(tasks.projectId, p('projectId')));
  if (flags.has('mine')) {
    // Across workspaces: only where the viewer is still a member, and guests only in their projects.
    where.push(eq(tasks.assigneeId, p('viewerId')));
    where.push(sql`exists (select 1 from ${workspaceMembers} wm where wm.workspace_id = ${tasks.workspaceId} and wm.user_id = ${p('viewerId')}
      and (wm.role <> 'guest' or exists (select 1 from ${projectMembers} pm where pm.project_id = ${tasks.projectId} and pm.user_id = ${p('viewerId')})))`);
  }
  if (flags.has('status')) where.push(sql`${tasks.status} = any(${p('statuses')}::text[])`);
  if (flags.has('priority')) where.push(sql`${tasks.priority} = any(${p('priorities')}::text[])`);
  if (flags.has('assignee')) where.push(eq(tasks.assigneeId, p('assigneeId')));
  if (flags.has('unassigned')) where.push(sql`${tasks.assigneeId} is null`);
  if (flags.has('reporter')) where.push(eq(tasks.reporterId, p('reporterId')));
  if (flags.has('label')) where.push(sql`${tasks.labels} @> array[${p('label')}]::text[]`);
  if (flags.has('dueBefore')) where.push(sql`${tasks.dueDate} < ${p('dueBefore')}::date`);
  if (flags.has('dueAfter')) where.push(sql`${tasks.dueDate} > ${p('dueAfter')}::date`);
  if (flags.has('overdue'))
    where.push(sql`${tasks.dueDate} < ${p('overdueBefore')}::date and ${tasks.status} not in ('done', 'cancelled')`);
  if (flags.has('q')) where.push(sql`${tasks.search} @@ websearch_to_tsquery('english', ${p('q')})`);
  if (flags.has('after')) where.push(afterCursor(sort));
  return where.length > 0 ? and(...where) : undefined;
}

/**
 * A cursor's sort values are only text until PostgreSQL casts them to the sort key's type; a
 * tampered one (not a date, a number out of range) is a data exception (SQLSTATE class 22),
 * which is the client's mistake, not a 500.
 */
function rejectBadCursor(err: unknown): never {
  if (pgError(err)?.code.startsWith('22'))
    throw validationFailed([{ path: 'cursor', message: 'is invalid or belongs to another sort order' }]);
  throw err;
}

export type TaskListRow = TaskRow & { sortValues: string[]; projectKey: string | null };

export function createTaskListQueries(db: Executor) {
  const statements = preparedByShape('tasks_list', (name, shape) => {
    const [flagList = '', sortSpec = ''] = shape.split(':');
    const flags = new Set(flagList.split(',').filter(Boolean));
    const sort = sortSpec.split(',').map((part) => ({ key: part.replace(/^-/, '') as TaskSortKey, desc: part.startsWith('-') }));
    const where = conditions(flags, sort);
    const order = [...sort.map((s) => (s.desc ? desc(sortExpression(s)) : asc(sortExpression(s)))), asc(tasks.id)];
    const sortValues = sql<string[]>`array[${sql.join(
      sort.map((s) => sql`(${sortExpression(s)})::text`),
      sql`, `,
    )}]::text[]`;
    // "My tasks" spans projects, so each row names its project's key; a project's list knows it.
    const projectKey = flags.has('mine') ? sql<string>`(select key from ${projects} where id = ${tasks.projectId})` : sql<null>`null`;
    const page = db
      .select({ ...taskColumns, sortValues, projectKey })
      .from(tasks)
      .where(where)
      .orderBy(...order)
      .limit(p('limit'));
    return {
      page: (flags.has('offset') ? page.offset(p('offset')) : page).prepare(`${name}_page`),
      total: db.select({ n: sql<number>`count(*)::int` }).from(tasks).where(where).prepare(`${name}_count`),
    };
  });

  function shapeOf(f: TaskListFilter, withCursor: boolean): { shape: string; params: Record<string, unknown> } {
    const flags: string[] = [];
    const params: Record<string, unknown> = { limit: f.limit };
    const flag = (name: string, value?: Record<string, unknown>) => {
      flags.push(name);
      Object.assign(params, value);
    };
    if (f.projectId) flag('project', { projectId: f.projectId });
    else flag('mine', { viewerId: f.viewerId });
    if (f.statuses?.length) flag('status', { statuses: f.statuses });
    if (f.priorities?.length) flag('priority', { priorities: f.priorities });
    if (f.assigneeId === null) flag('unassigned');
    else if (f.assigneeId) flag('assignee', { assigneeId: f.assigneeId });
    if (f.reporterId) flag('reporter', { reporterId: f.reporterId });
    if (f.label) flag('label', { label: f.label });
    if (f.dueBefore) flag('dueBefore', { dueBefore: f.dueBefore });
    if (f.dueAfter) flag('dueAfter', { dueAfter: f.dueAfter });
    if (f.overdueBefore) flag('overdue', { overdueBefore: f.overdueBefore });
    if (f.q !== undefined) flag('q', { q: f.q });
    if (withCursor && f.after) {
      flag('after');
      f.sort.forEach((_, i) => {
        params[`c${i}`] = f.after?.[i];
      });
      params.cid = f.after[f.sort.length];
    }
    if (!withCursor && f.offset !== undefined) flag('offset', { offset: f.offset });
    return { shape: `${flags.join(',')}:${f.sort.map((s) => `${s.desc ? '-' : ''}${s.key}`).join(',')}`, params };
  }

  return {
    /** One page; `total` only for offset pages. Fetches one extra row to know whether more follow. */
    async list(f: TaskListFilter): Promise<{ rows: TaskListRow[]; hasMore: boolean; total?: number }> {
      const cursorMode = f.after !== undefined;
      const { shape, params } = shapeOf({ ...f, limit: f.limit + 1 }, cursorMode);
      const { page, total } = statements(shape);
      if (cursorMode) {
        const rows = (await page.execute(params).catch(rejectBadCursor)) as TaskListRow[];
        return { rows: rows.slice(0, f.limit), hasMore: rows.length > f.limit };
      }
      const countParams = { ...params };
      const [rows, totals] = await Promise.all([page.execute(params) as Promise<TaskListRow[]>, total.execute(countParams)]);
      return { rows: rows.slice(0, f.limit), hasMore: rows.length > f.limit, total: totals[0]?.n ?? 0 };
    },
  };
}
