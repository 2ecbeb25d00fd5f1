import { and, asc, desc, eq, getTableColumns, gt, inArray, lt, ne, type SQL, sql } from 'drizzle-orm';
import type { PgColumn, PgSession, SelectedFieldsOrdered } from 'drizzle-orm/pg-core';
import type { Executor } from '../../platform/db/client.js';
import { translateDbError } from '../../platform/db/errors.js';
import { projectMembers, projects } from '../projects/projects.table.js';
import { type WorkspaceRole, workspaceMembers } from '../workspaces/workspaces.table.js';
import { createTaskListQueries, taskSelection } from './tasks.list.js';
import { type ActivityRow, activities, type NewTaskRow, type TaskRow, type TaskStatus, tasks } from './tasks.table.js';

export interface TaskWithGrant {
  task: TaskRow;
  project: { id: string; workspaceId: string; key: string; archivedAt: Date | null };
  role: WorkspaceRole;
  added: boolean;
}

/** Positions in a column are this far apart after creation or rebalancing. */
export const POSITION_GAP = 1024;

/**
 * A statement of the create path, built once and run as a named prepared statement on whatever
 * executor it is given: the pool or a transaction's connection. Drizzle binds its own prepared
 * statements to the pool, so a transaction cannot use them (drizzle-orm#613), and building these
 * four writes on every create cost Tandem more CPU than everything else it does for a create
 * (bench/README.md, "Tasks API").
 */
function reusable<R>(name: string, built: { toSQL(): { sql: string; params: unknown[] } }, selection?: Record<string, PgColumn | SQL>) {
  const query = built.toSQL();
  const fields: SelectedFieldsOrdered | undefined = selection && Object.entries(selection).map(([key, field]) => ({ path: [key], field }));
  return (exec: Executor, values: Record<string, unknown>) =>
    (exec._.session as PgSession).prepareQuery(query, fields, name, true).execute(values) as Promise<R[]>;
}

/** The table's defaults (tasks.table.ts) for the columns a one-row insert may leave out: its statement names them all. */
const TASK_DEFAULTS: Partial<NewTaskRow> = {
  description: '',
  priority: 'none',
  assigneeId: null,
  reporterId: null,
  dueDate: null,
  labels: [],
  estimateMinutes: null,
  version: 1,
  completedAt: null,
};
const taskColumnKeys = Object.keys(taskSelection) as (keyof NewTaskRow)[];
const activityColumnKeys = Object.keys(getTableColumns(activities)) as (keyof typeof activities.$inferInsert)[];
const defined = <T extends object>(row: T): Partial<T> =>
  Object.fromEntries(Object.entries(row).filter(([, v]) => v !== undefined)) as Partial<T>;

export function createTasksRepository(db: Executor) {
  const grantColumns = {
    task: taskSelection,
    project: { id: projects.id, workspaceId: projects.workspaceId, key: projects.key, archivedAt: projects.archivedAt },
    role: workspaceMembers.role,
    added: sql<boolean>`exists (select 1 from ${projectMembers} pm where pm.project_id = ${tasks.projectId} and pm.user_id = ${sql.placeholder('userId')})`,
  };
  const withGrant = () =>
    db
      .select(grantColumns)
      .from(tasks)
      .innerJoin(projects, eq(projects.id, tasks.projectId))
      .innerJoin(
        workspaceMembers,
        and(eq(workspaceMembers.workspaceId, tasks.workspaceId), eq(workspaceMembers.userId, sql.placeholder('userId'))),
      );
  // One round trip answers both "does it exist for this caller" and "what may they do".
  const byIdForMember = withGrant()
    .where(eq(tasks.id, sql.placeholder('taskId')))
    .limit(1)
    .prepare('tasks_by_id_for_member');
  const byNumberForMember = withGrant()
    .where(and(eq(tasks.projectId, sql.placeholder('projectId')), eq(tasks.number, sql.placeholder('number'))))
    .limit(1)
    .prepare('tasks_by_number_for_member');

  const p = sql.placeholder;
  const columnEnd = sql<number | null>`max(${tasks.position})`;
  const reserveStatement = reusable<{ last: number }>(
    'tasks_reserve_numbers',
    db
      .update(projects)
      .set({ taskSeq: sql`${projects.taskSeq} + ${p('count')}` })
      .where(eq(projects.id, p('projectId')))
      .returning({ last: projects.taskSeq }),
    { last: projects.taskSeq },
  );
  const endOfColumnStatement = reusable<{ max: number | null }>(
    'tasks_end_of_column',
    db
      .select({ max: columnEnd })
      .from(tasks)
      .where(and(eq(tasks.projectId, p('projectId')), eq(tasks.status, p('status')))),
    { max: columnEnd },
  );
  // completed_at goes in as it is: Drizzle's timestamp encoder does not take the null most tasks have.
  const insertOneStatement = reusable<TaskRow>(
    'tasks_insert_one',
    db
      .insert(tasks)
      .values(Object.fromEntries(taskColumnKeys.map((k) => [k, k === 'completedAt' ? sql`${p(k)}` : p(k)])) as unknown as NewTaskRow)
      .returning(taskSelection),
    taskSelection,
  );
  const insertActivityStatement = reusable<never>(
    'activities_insert_one',
    db.insert(activities).values(Object.fromEntries(activityColumnKeys.map((k) => [k, p(k)])) as unknown as typeof activities.$inferInsert),
  );

  return {
    ...createTaskListQueries(db),

    async findForMember(taskId: string, userId: string): Promise<TaskWithGrant | undefined> {
      const [row] = await byIdForMember.execute({ taskId, userId });
      return row as TaskWithGrant | undefined;
    },

    async findByNumberForMember(projectId: string, number: number, userId: string): Promise<TaskWithGrant | undefined> {
      const [row] = await byNumberForMember.execute({ projectId, number, userId });
      return row as TaskWithGrant | undefined;
    },

    /** Hands out the next `count` numbers of a project; the row lock serialises concurrent creates. */
    async reserveNumbers(tx: Executor, projectId: string, count = 1): Promise<number> {
      const [row] = await reserveStatement(tx, { projectId, count });
      if (!row) throw new Error('project vanished while reserving task numbers');
      return row.last - count + 1;
    },

    /** The position after the last task of a column. */
    async endOfColumn(exec: Executor, projectId: string, status: TaskStatus): Promise<number> {
      const [row] = await endOfColumnStatement(exec, { projectId, status });
      return (row?.max ?? 0) + POSITION_GAP;
    },

    async insert(exec: Executor, rows: NewTaskRow[]): Promise<TaskRow[]> {
      try {
        // One task with what the database would otherwise fill in (a create): the prepared statement.
        const [only] = rows;
        if (rows.length === 1 && only && only.status && only.createdAt && only.updatedAt) {
          return await insertOneStatement(exec, { ...TASK_DEFAULTS, ...defined(only) });
        }
        return (await exec.insert(tasks).values(rows).returning(taskSelection)) as TaskRow[];
      } catch (err) {
        translateDbError(err, { tasks_project_number_key: 'a task with this number already exists in the project' });
      }
    },

    async lock(tx: Executor, taskId: string): Promise<TaskRow | undefined> {
      const [row] = await tx.select(taskSelection).from(tasks).where(eq(tasks.id, taskId)).limit(1).for('update');
      return row as TaskRow | undefined;
    },

    /** Locks the project's tasks among `ids`, in id order so concurrent bulk updates cannot deadlock. */
    async lockMany(tx: Executor, projectId: string, ids: readonly string[]): Promise<TaskRow[]> {
      return (await tx
        .select(taskSelection)
        .from(tasks)
        .where(and(eq(tasks.projectId, projectId), inArray(tasks.id, [...ids])))
        .orderBy(asc(tasks.id))
        .for('update')) as TaskRow[];
    },

    async update(tx: Executor, taskId: string, patch: Partial<NewTaskRow>): Promise<TaskRow> {
      const [row] = await tx
        .update(tasks)
        .set({ ...patch, updatedAt: new Date(), version: sql`${tasks.version} + 1` })
        .where(eq(tasks.id, taskId))
        .returning(taskSelection);
      if (!row) throw new Error('task vanished under its row lock');
      return row as TaskRow;
    },

    async delete(tx: Executor, taskId: string): Promise<void> {
      await tx.delete(tasks).where(eq(tasks.id, taskId));
    },

    /** The nearest neighbour of `position` in a column, below or above, leaving out one task. */
    async neighbour(
      tx: Executor,
      projectId: string,
      status: TaskStatus,
      position: number,
      direction: 'before' | 'after',
      exceptId: string,
    ): Promise<number | undefined> {
      const [row] = await tx
        .select({ position: tasks.position })
        .from(tasks)
        .where(
          and(
            eq(tasks.projectId, projectId),
            eq(tasks.status, status),
            ne(tasks.id, exceptId),
            direction === 'after' ? gt(tasks.position, position) : lt(tasks.position, position),
          ),
        )
        .orderBy(direction === 'after' ? asc(tasks.position) : desc(tasks.position))
        .limit(1);
      return row?.position;
    },

    /**
     * Spreads a column out again (positions GAP apart, same order). Rare: only when a gap is
     * used up. Moved rows get a new version, so no cache keeps serving the old position.
     */
    async rebalanceColumn(tx: Executor, projectId: string, status: TaskStatus): Promise<void> {
      await tx.execute(sql`
        update ${tasks} t set position = r.rn * ${POSITION_GAP}, version = t.version + 1
        from (select id, row_number() over (order by position, id) as rn from ${tasks}
              where project_id = ${projectId} and status = ${status}) r
        where t.id = r.id and t.position <> r.rn * ${POSITION_GAP}`);
    },

    /** Serialises board moves within one column for the rest of the transaction. */
    async lockColumn(tx: Executor, projectId: string, status: TaskStatus): Promise<void> {
      await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`${projectId}:${status}`}, 0))`);
    },

    async insertActivities(exec: Executor, rows: (typeof activities.$inferInsert)[]): Promise<void> {
      const [only] = rows;
      if (rows.length === 1 && only && activityColumnKeys.every((k) => only[k] !== undefined)) await insertActivityStatement(exec, only);
      else if (rows.length > 0) await exec.insert(activities).values(rows);
    },

    async listActivity(taskId: string, page: { limit: number; afterId?: string }): Promise<ActivityRow[]> {
      return db
        .select()
        .from(activities)
        .where(and(eq(activities.taskId, taskId), page.afterId ? gt(activities.id, page.afterId) : undefined))
        .orderBy(asc(activities.id))
        .limit(page.limit);
    },
  };
}

export type TasksRepository = ReturnType<typeof createTasksRepository>;
