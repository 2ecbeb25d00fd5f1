// Reports over one project: what is where now (summary, overdue), and what happened over a range
// of days in the caller's time zone (throughput, cycle time, burndown, time tracked), replayed
// from the activity history so that reopening or deleting a task later does not rewrite the past.
// Read-only: anyone who may read the project may read its reports.
import type { Actor } from '../../platform/http/context.js';
import { dateIn } from '../../platform/time.js';
import type { ProjectAccess } from '../projects/projects.access.js';
import type { TaskRow } from '../tasks/tasks.table.js';
import { type DateRange, DEFAULT_FROM, MAX_RANGE_DAYS, resolveRange, wholeWeeks } from './reports.range.js';
import type { ReportsRepository, ReportWindow } from './reports.repository.js';

export interface ReportsServiceDeps {
  reports: ReportsRepository;
  projectAccess: ProjectAccess;
  clock?: () => Date;
}

export interface RangeQuery extends Partial<DateRange> {
  tz: string;
}

/** Reports of a project; every method checks that the caller may read the project first. */
export function createReportsService(deps: ReportsServiceDeps) {
  const { reports: repo, projectAccess, clock = () => new Date() } = deps;

  const today = (tz: string) => dateIn(tz, clock());

  async function window(
    actor: Actor,
    projectId: string,
    query: RangeQuery,
    defaultFrom: (to: string) => string,
    maxDays: number,
  ): Promise<ReportWindow> {
    await projectAccess.requireProject(actor, projectId, 'read');
    return { projectId, tz: query.tz, ...resolveRange(query, today(query.tz), defaultFrom, maxDays) };
  }

  return {
    async summary(actor: Actor, projectId: string, tz: string) {
      await projectAccess.requireProject(actor, projectId, 'read');
      const day = today(tz);
      return { tz, today: day, ...(await repo.summary(projectId, day)) };
    },

    async listOverdueTasks(
      actor: Actor,
      projectId: string,
      query: { tz: string; page: number; limit: number },
    ): Promise<{ rows: TaskRow[]; total: number; projectKey: string }> {
      const { project } = await projectAccess.requireProject(actor, projectId, 'read');
      const found = await repo.listOverdue(projectId, today(query.tz), { limit: query.limit, offset: (query.page - 1) * query.limit });
      return { ...found, projectKey: project.key };
    },

    /** Completions per ISO week; the range is widened to whole weeks (Monday to Sunday). */
    async throughput(actor: Actor, projectId: string, query: RangeQuery) {
      const w = await window(actor, projectId, query, DEFAULT_FROM.weeks12, MAX_RANGE_DAYS.weekly);
      const weekly = { ...w, ...wholeWeeks(w) };
      const rows = await repo.throughput(weekly);
      return {
        from: weekly.from,
        to: weekly.to,
        tz: weekly.tz,
        total: rows[0]?.total ?? 0,
        weeks: rows.map((r) => ({ weekStart: r.weekStart, completed: r.completed })),
      };
    },

    async cycleTime(actor: Actor, projectId: string, query: RangeQuery) {
      const w = await window(actor, projectId, query, DEFAULT_FROM.days84, MAX_RANGE_DAYS.weekly);
      return { from: w.from, to: w.to, tz: w.tz, ...(await repo.cycleTime(w)) };
    },

    async burndown(actor: Actor, projectId: string, query: RangeQuery) {
      const w = await window(actor, projectId, query, DEFAULT_FROM.days30, MAX_RANGE_DAYS.daily);
      const rows = await repo.burndown(w);
      const days = rows.map((r) => ({ date: r.date, open: r.open, ideal: r.ideal }));
      return { from: w.from, to: w.to, tz: w.tz, startOpen: rows[0]?.startOpen ?? 0, days };
    },

    /** Tracked minutes per user and per ISO week; the range is widened to whole weeks. */
    async timeTracked(actor: Actor, projectId: string, query: RangeQuery) {
      const w = await window(actor, projectId, query, DEFAULT_FROM.weeks12, MAX_RANGE_DAYS.weekly);
      const weekly = { ...w, ...wholeWeeks(w) };
      return { from: weekly.from, to: weekly.to, tz: weekly.tz, ...(await repo.timeTracked(weekly)) };
    },
  };
}

export type ReportsService = ReturnType<typeof createReportsService>;
