// Report queries: every number is computed by PostgreSQL in one statement per report, over one
// project (which implies its workspace). Calendar days and ISO weeks are those of the caller's
// time zone: instants are turned into local dates with `at time zone`, and local midnights back
// into instants the same way, so DST days are 23 or 25 hours long as they should be.
import { and, asc, count, eq, getTableColumns, lt, notInArray, type SQL, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import {
  activities,
  TASK_PRIORITIES,
  TASK_STATUSES,
  type TaskPriority,
  type TaskRow,
  type TaskStatus,
  tasks,
} from '../tasks/tasks.table.js';
import { timeEntries } from '../time/time.table.js';
import { users } from '../users/users.table.js';

const { search: _search, ...taskColumns } = getTableColumns(tasks);
const OPEN = sql`('todo', 'in_progress', 'in_review')`;
const CLOSED: TaskStatus[] = ['done', 'cancelled'];

export interface ReportWindow {
  projectId: string;
  /** First and last local date, both included. */
  from: string;
  to: string;
  tz: string;
}

export interface SummaryRow {
  total: number;
  open: number;
  overdue: number;
  byStatus: Record<TaskStatus, number>;
  byPriority: Record<TaskPriority, number>;
  byAssignee: { assigneeId: string | null; name: string | null; count: number; open: number }[];
}

const textArray = (values: readonly string[]) =>
  sql`array[${sql.join(
    values.map((v) => sql`${v}`),
    sql`, `,
  )}]::text[]`;
/** The instant a local date starts in `tz`. */
const startOf = (date: string | SQL, tz: string) => sql`((${date})::date::timestamp at time zone ${tz}::text)`;
const localDate = (instant: SQL, tz: string) => sql`(${instant} at time zone ${tz}::text)::date`;
const weekOf = (instant: SQL, tz: string) => sql`date_trunc('week', ${instant} at time zone ${tz}::text)::date`;
/** Every Monday from the one of `from` to the one of `to`. */
const weeks = (w: ReportWindow) =>
  sql`select m::date as week_start from generate_series(date_trunc('week', ${w.from}::date::timestamp), date_trunc('week', ${w.to}::date::timestamp), interval '7 days') m`;

/**
 * Every status a project's tasks entered, as (task_id, at, seq, status), from the activity
 * history, which survives reopening and deletion: creation (the service records the status only
 * when it is not todo), status changes by update, bulk update or move, and deletion as the
 * pseudo-status 'deleted'. A task without a 'created' record (written straight into the table,
 * as seed and benchmark data are) starts at its created_at in the status its first recorded
 * change left, or its current one. `seq` orders events of one instant (activity ids are time-ordered UUIDv7).
 */
const statusEvents = (projectId: string) => sql`
  select a.task_id, a.created_at as at, a.id as seq,
         case a.verb when 'deleted' then 'deleted'
                     when 'created' then coalesce(a.changes -> 'status' ->> 'after', 'todo')
                     else a.changes -> 'status' ->> 'after' end as status
  from ${activities} a
  where a.project_id = ${projectId}
    and (a.verb in ('created', 'deleted') or (a.verb in ('updated', 'moved') and (a.changes -> 'status') is not null))
  union all
  select t.id, t.created_at, null,
         coalesce((select f.changes -> 'status' ->> 'before' from ${activities} f
                   where f.task_id = t.id and (f.changes -> 'status') is not null order by f.created_at, f.id limit 1), t.status)
  from ${tasks} t
  where t.project_id = ${projectId}
    and not exists (select 1 from ${activities} c where c.task_id = t.id and c.verb = 'created')`;

export function createReportsRepository(db: Executor) {
  const rows = async <T extends Record<string, unknown>>(query: SQL): Promise<T[]> => (await db.execute<T>(query)).rows;

  return {
    /** Counts over the project's tasks as they are now; `today` decides what is overdue. */
    async summary(projectId: string, today: string): Promise<SummaryRow> {
      const [row] = await rows<Record<string, unknown>>(sql`
        with t as (select status, priority, assignee_id, due_date from ${tasks} where project_id = ${projectId}),
        by_assignee as (
          select assignee_id, count(*)::int as n, (count(*) filter (where status in ${OPEN}))::int as open from t group by assignee_id
          union all
          select null, 0, 0 where not exists (select 1 from t where assignee_id is null)
        )
        select
          (select count(*)::int from t) as total,
          (select count(*)::int from t where status in ${OPEN}) as open,
          (select count(*)::int from t where due_date < ${today}::date and status in ${OPEN}) as overdue,
          (select json_object_agg(s.v, (select count(*) from t where t.status = s.v)) from unnest(${textArray(TASK_STATUSES)}) s(v)) as "byStatus",
          (select json_object_agg(s.v, (select count(*) from t where t.priority = s.v)) from unnest(${textArray(TASK_PRIORITIES)}) s(v)) as "byPriority",
          (select json_agg(json_build_object('assigneeId', a.assignee_id, 'name', u.name, 'count', a.n, 'open', a.open)
                           order by a.assignee_id is null, a.n desc, u.name, a.assignee_id)
             from by_assignee a left join ${users} u on u.id = a.assignee_id) as "byAssignee"`);
      if (!row) throw new Error('summary query returned no row');
      return row as unknown as SummaryRow;
    },

    /** Due before `today` and neither done nor cancelled: oldest due first, then by number. */
    async listOverdue(
      projectId: string,
      today: string,
      page: { limit: number; offset: number },
    ): Promise<{ rows: TaskRow[]; total: number }> {
      const where = and(eq(tasks.projectId, projectId), lt(tasks.dueDate, today), notInArray(tasks.status, CLOSED));
      const [found, totals] = await Promise.all([
        db
          .select(taskColumns)
          .from(tasks)
          .where(where)
          .orderBy(asc(tasks.dueDate), asc(tasks.number))
          .limit(page.limit)
          .offset(page.offset),
        db.select({ n: count() }).from(tasks).where(where),
      ]);
      return { rows: found as TaskRow[], total: totals[0]?.n ?? 0 };
    },

    /**
     * Tasks that entered done, per ISO week of the window (whole weeks expected), zeros included.
     * A task counts once per week it was completed in: reopened and completed again in a later
     * week, it counts in both, so past weeks never change.
     */
    throughput: (w: ReportWindow) =>
      rows<{ weekStart: string; completed: number; total: number }>(sql`
        with completed as (
          select distinct e.task_id, ${weekOf(sql`e.at`, w.tz)} as week_start
          from (${statusEvents(w.projectId)}) e
          where e.status = 'done' and e.at >= ${startOf(w.from, w.tz)} and e.at < ${startOf(sql`${w.to}::date + 1`, w.tz)}
        )
        select wk.week_start::text as "weekStart", count(c.task_id)::int as completed, (sum(count(c.task_id)) over ())::int as total
        from (${weeks(w)}) wk left join completed c on c.week_start = wk.week_start
        group by wk.week_start order by wk.week_start`),

    /**
     * Hours from a task's first entry into in_progress to its last entry into done inside the
     * window, for tasks completed in the window that were ever in progress before that.
     */
    async cycleTime(w: ReportWindow): Promise<{ count: number; medianHours: number | null; p90Hours: number | null }> {
      const [row] = await rows<{ count: number; medianHours: number | null; p90Hours: number | null }>(sql`
        with marked as (
          select task_id, at, status,
                 max(at) filter (where status = 'done' and at >= ${startOf(w.from, w.tz)} and at < ${startOf(sql`${w.to}::date + 1`, w.tz)})
                   over (partition by task_id) as done_at
          from (${statusEvents(w.projectId)}) e
        ),
        cycles as (
          select (extract(epoch from done_at - min(at) filter (where status = 'in_progress' and at <= done_at)) / 3600)::float8 as hours
          from marked where done_at is not null
          group by task_id, done_at
        )
        select count(*)::int as count,
               round((percentile_cont(0.5) within group (order by hours))::numeric, 2)::float8 as "medianHours",
               round((percentile_cont(0.9) within group (order by hours))::numeric, 2)::float8 as "p90Hours"
        from cycles where hours is not null`);
      return row ?? { count: 0, medianHours: null, p90Hours: null };
    },

    /**
     * Open tasks (todo, in progress, in review) at the end of each day of the window, replayed
     * from the history: each stretch a task spent open adds one from the day it began and takes
     * it away from the day it ended. The day before `from` is the baseline the ideal line starts
     * from; the ideal reaches zero at the end of `to`.
     */
    burndown: (w: ReportWindow) =>
      rows<{ date: string; open: number; ideal: number; startOpen: number }>(sql`
        with events as (${statusEvents(w.projectId)}),
        spans as (
          select status, at as since, lead(at) over (partition by task_id order by at, seq nulls first) as until from events
        ),
        deltas as (
          select greatest(${localDate(sql`since`, w.tz)}, ${w.from}::date - 1) as day, 1 as delta from spans where status in ${OPEN}
          union all
          select greatest(${localDate(sql`until`, w.tz)}, ${w.from}::date - 1), -1 from spans where status in ${OPEN} and until is not null
        ),
        per_day as (select day, sum(delta) as delta from deltas where day <= ${w.to}::date group by day),
        series as (
          select d::date as day, (sum(coalesce(p.delta, 0)) over (order by d))::int as open
          from generate_series(${w.from}::date::timestamp - interval '1 day', ${w.to}::date::timestamp, interval '1 day') d
          left join per_day p on p.day = d::date
        )
        select s.day::text as date, s.open, b.open as "startOpen",
               round(b.open * (${w.to}::date - s.day)::numeric / (${w.to}::date - ${w.from}::date + 1), 2)::float8 as ideal
        from series s cross join (select open from series where day = ${w.from}::date - 1) b
        where s.day >= ${w.from}::date
        order by s.day`),

    /** Minutes of ended time entries by the ISO week they started in, per user and in total. */
    async timeTracked(w: ReportWindow) {
      const [row] = await rows<{
        totalMinutes: number;
        users: { userId: string; name: string | null; minutes: number }[];
        weeks: { weekStart: string; minutes: number; users: { userId: string; minutes: number }[] }[];
      }>(sql`
        with entries as (
          select e.user_id, ${weekOf(sql`e.started_at`, w.tz)} as week_start, e.minutes
          from ${timeEntries} e
          where e.project_id = ${w.projectId} and e.ended_at is not null and e.minutes is not null
            and e.started_at >= ${startOf(w.from, w.tz)} and e.started_at < ${startOf(sql`${w.to}::date + 1`, w.tz)}
        ),
        per_user_week as (select week_start, user_id, sum(minutes)::int as minutes from entries group by week_start, user_id),
        by_week as (
          select wk.week_start, coalesce(sum(p.minutes), 0)::int as minutes,
                 coalesce(json_agg(json_build_object('userId', p.user_id, 'minutes', p.minutes) order by p.minutes desc, p.user_id)
                            filter (where p.user_id is not null), '[]'::json) as users
          from (${weeks(w)}) wk left join per_user_week p on p.week_start = wk.week_start
          group by wk.week_start
        ),
        by_user as (select user_id, sum(minutes)::int as minutes from per_user_week group by user_id)
        select
          (select coalesce(sum(minutes), 0)::int from entries) as "totalMinutes",
          (select coalesce(json_agg(json_build_object('userId', b.user_id, 'name', u.name, 'minutes', b.minutes)
                                    order by b.minutes desc, b.user_id), '[]'::json)
             from by_user b left join ${users} u on u.id = b.user_id) as users,
          (select json_agg(json_build_object('weekStart', week_start, 'minutes', minutes, 'users', users) order by week_start)
             from by_week) as weeks`);
      if (!row) throw new Error('time report query returned no row');
      return row;
    },
  };
}

export type ReportsRepository = ReturnType<typeof createReportsRepository>;
