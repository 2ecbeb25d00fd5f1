import { and, asc, count, desc, eq, getTableColumns, isNotNull, isNull, type SQL, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import { translateDbError } from '../../platform/db/errors.js';
import { projectMembers, projects } from '../projects/projects.table.js';
import { tasks } from '../tasks/tasks.table.js';
import { type WorkspaceRole, workspaceMembers } from '../workspaces/workspaces.table.js';
import { type TimeEntryRow, timeEntries } from './time.table.js';

/** An entry as shown: the row and its task's key (WEB-12). */
export type TimeEntryView = TimeEntryRow & { taskKey: string };

export interface EntryWithGrant {
  entry: TimeEntryView;
  project: { archivedAt: Date | null };
  role: WorkspaceRole;
  added: boolean;
}

/** Calendar days in a time zone; `to` is inclusive. */
export interface DayRange {
  from?: string;
  to?: string;
  tz: string;
}

export type NewTimeEntry = Omit<typeof timeEntries.$inferInsert, 'createdAt' | 'updatedAt'>;
export type TimeEntryPatch = Partial<Pick<TimeEntryRow, 'startedAt' | 'endedAt' | 'minutes' | 'note'>>;

// A task deleted between the access check and the insert is that task's 404.
const PARENTS = { time_entries_task_id_tasks_id_fk: 'task', time_entries_project_id_projects_id_fk: 'project' };
const view = { ...getTableColumns(timeEntries), taskKey: sql<string>`${projects.key} || '-' || ${tasks.number}` };
const total = sql<number>`coalesce(sum(${timeEntries.minutes}), 0)::int`;

function inRange(r: DayRange): SQL[] {
  const where: SQL[] = [];
  if (r.from) where.push(sql`${timeEntries.startedAt} >= (${r.from}::date)::timestamp at time zone ${r.tz}`);
  if (r.to) where.push(sql`${timeEntries.startedAt} < (${r.to}::date + 1)::timestamp at time zone ${r.tz}`);
  return where;
}

export function createTimeRepository(db: Executor) {
  const views = (exec: Executor = db) =>
    exec
      .select(view)
      .from(timeEntries)
      .innerJoin(tasks, eq(tasks.id, timeEntries.taskId))
      .innerJoin(projects, eq(projects.id, timeEntries.projectId));

  /** A page of entries, newest first, with how many there are and their minutes in total. */
  async function page(where: SQL | undefined, p: { limit: number; offset: number }) {
    const [rows, totals] = await Promise.all([
      views().where(where).orderBy(desc(timeEntries.startedAt), desc(timeEntries.id)).limit(p.limit).offset(p.offset),
      db.select({ n: count(), minutes: total }).from(timeEntries).where(where),
    ]);
    return { rows, total: totals[0]?.n ?? 0, totalMinutes: totals[0]?.minutes ?? 0 };
  }

  return {
    /** The entry with the caller's grant in its project; undefined outside their workspaces. */
    async findForMember(entryId: string, userId: string): Promise<EntryWithGrant | undefined> {
      const [row] = await db
        .select({
          entry: view,
          project: { archivedAt: projects.archivedAt },
          role: workspaceMembers.role,
          added: sql<boolean>`exists (select 1 from ${projectMembers} pm where pm.project_id = ${timeEntries.projectId} and pm.user_id = ${userId})`,
        })
        .from(timeEntries)
        .innerJoin(tasks, eq(tasks.id, timeEntries.taskId))
        .innerJoin(projects, eq(projects.id, timeEntries.projectId))
        .innerJoin(workspaceMembers, and(eq(workspaceMembers.workspaceId, timeEntries.workspaceId), eq(workspaceMembers.userId, userId)))
        .where(eq(timeEntries.id, entryId))
        .limit(1);
      return row;
    },

    /** Scoped by user, not workspace: a timer is its owner's wherever it runs, even in a workspace they left. */
    async findRunning(userId: string, exec: Executor = db): Promise<TimeEntryView | undefined> {
      const [row] = await views(exec)
        .where(and(eq(timeEntries.userId, userId), isNull(timeEntries.endedAt)))
        .limit(1);
      return row;
    },

    /** `lock`: holds the entry (not its task or project) until the transaction ends. */
    async findView(exec: Executor, entryId: string, options: { lock?: boolean } = {}): Promise<TimeEntryView | undefined> {
      const query = views(exec).where(eq(timeEntries.id, entryId)).limit(1);
      const [row] = await (options.lock ? query.for('update', { of: timeEntries }) : query);
      return row;
    },

    async insert(exec: Executor, row: NewTimeEntry, now: Date): Promise<TimeEntryRow> {
      try {
        const [created] = await exec
          .insert(timeEntries)
          .values({ ...row, createdAt: now, updatedAt: now })
          .returning();
        if (!created) throw new Error('insert returned no time entry');
        return created;
      } catch (err) {
        translateDbError(err, PARENTS);
      }
    },

    /**
     * Starts a timer unless the user has one running: the partial unique index arbitrates, so
     * of two concurrent starts exactly one inserts (the other waits for it, then does nothing).
     * `on conflict do nothing` rather than catching 23505: a refused start is an ordinary
     * answer, not an error for the PostgreSQL log. Undefined when a timer already runs.
     */
    async insertRunning(exec: Executor, row: NewTimeEntry, now: Date): Promise<TimeEntryRow | undefined> {
      try {
        const [created] = await exec
          .insert(timeEntries)
          .values({ ...row, endedAt: null, minutes: null, createdAt: now, updatedAt: now })
          .onConflictDoNothing({ target: timeEntries.userId, where: sql`${timeEntries.endedAt} is null` })
          .returning();
        return created;
      } catch (err) {
        translateDbError(err, PARENTS);
      }
    },

    /** Ends the timer at `now` (never before its start) with its whole minutes; undefined when it already ended. */
    async stop(exec: Executor, entryId: string, now: Date): Promise<TimeEntryRow | undefined> {
      const end = sql`greatest(${timeEntries.startedAt}, ${now.toISOString()}::timestamptz)`;
      const [row] = await exec
        .update(timeEntries)
        .set({
          endedAt: sql`${end}`,
          minutes: sql`floor(extract(epoch from ${end} - ${timeEntries.startedAt}) / 60)::int`,
          updatedAt: now,
        })
        .where(and(eq(timeEntries.id, entryId), isNull(timeEntries.endedAt)))
        .returning();
      return row;
    },

    async update(exec: Executor, entryId: string, patch: TimeEntryPatch, now: Date): Promise<TimeEntryRow | undefined> {
      const [row] = await exec
        .update(timeEntries)
        .set({ ...patch, updatedAt: now })
        .where(eq(timeEntries.id, entryId))
        .returning();
      return row;
    },

    async delete(exec: Executor, entryId: string): Promise<boolean> {
      const rows = await exec.delete(timeEntries).where(eq(timeEntries.id, entryId)).returning({ id: timeEntries.id });
      return rows.length > 0;
    },

    /** The task implies the workspace. */
    listByTask: (taskId: string, p: { limit: number; offset: number }) => page(eq(timeEntries.taskId, taskId), p),

    /** The user's entries in the workspaces they are still in (guests: only projects they were added to). */
    listForUser: (userId: string, range: DayRange, p: { limit: number; offset: number }) =>
      page(
        and(
          eq(timeEntries.userId, userId),
          sql`exists (select 1 from ${workspaceMembers} wm where wm.workspace_id = ${timeEntries.workspaceId} and wm.user_id = ${userId}
            and (wm.role <> 'guest' or exists (select 1 from ${projectMembers} pm where pm.project_id = ${timeEntries.projectId} and pm.user_id = ${userId})))`,
          ...inRange(range),
        ),
        p,
      ),

    /** Minutes of finished entries per user on one task (the task implies the workspace). */
    perUserOfTask(taskId: string) {
      return db
        .select({ userId: timeEntries.userId, minutes: total })
        .from(timeEntries)
        .where(and(eq(timeEntries.taskId, taskId), isNotNull(timeEntries.minutes)))
        .groupBy(timeEntries.userId)
        .orderBy(desc(total), asc(timeEntries.userId));
    },

    /** Minutes of finished entries of a project in a range: in total, per user, and the `top` tasks (the project implies the workspace). */
    async projectSummary(projectId: string, range: DayRange, top: number) {
      const where = and(eq(timeEntries.projectId, projectId), isNotNull(timeEntries.minutes), ...inRange(range));
      const [users, topTasks] = await Promise.all([
        db
          .select({ userId: timeEntries.userId, minutes: total })
          .from(timeEntries)
          .where(where)
          .groupBy(timeEntries.userId)
          .orderBy(desc(total), asc(timeEntries.userId)),
        db
          .select({ taskId: tasks.id, taskKey: view.taskKey, title: tasks.title, minutes: total })
          .from(timeEntries)
          .innerJoin(tasks, eq(tasks.id, timeEntries.taskId))
          .innerJoin(projects, eq(projects.id, timeEntries.projectId))
          .where(where)
          .groupBy(tasks.id, projects.key)
          .orderBy(desc(total), asc(tasks.number))
          .limit(top),
      ]);
      return { totalMinutes: users.reduce((sum, u) => sum + u.minutes, 0), users, tasks: topTasks };
    },
  };
}

export type TimeRepository = ReturnType<typeof createTimeRepository>;
