import { z } from 'zod';
import { dataEnvelope, pagedEnvelope, pageQuery, timeZone } from '../../platform/http/schemas.js';
import { taskResponse } from '../tasks/tasks.schemas.js';
import { TASK_PRIORITIES, TASK_STATUSES } from '../tasks/tasks.table.js';

const reportTimeZone = timeZone.default('UTC').describe('IANA time zone that decides calendar days and weeks (default UTC)');

// Bounded years keep date arithmetic and PostgreSQL's date range out of trouble.
const reportDate = z.iso
  .date()
  .refine((d) => d >= '1970-01-01' && d <= '2999-12-31', { message: 'must be a date between 1970-01-01 and 2999-12-31' });

const range = (what: string) => ({
  from: reportDate.optional().describe(`First day (YYYY-MM-DD in tz), included. Default: ${what}`),
  to: reportDate.optional().describe('Last day (YYYY-MM-DD in tz), included. Default: today in tz'),
  tz: reportTimeZone,
});

export const summaryQuery = z.strictObject({ tz: reportTimeZone });
export const overdueQuery = z.strictObject({ ...pageQuery, tz: reportTimeZone });
export const weeklyQuery = z.strictObject(range('the 12 ISO weeks ending with the week of to'));
export const cycleTimeQuery = z.strictObject(range('the 84 days (12 weeks) ending on to'));
export const burndownQuery = z.strictObject(range('the 30 days ending on to'));

const countsOf = <T extends readonly string[]>(keys: T) =>
  z.object(Object.fromEntries(keys.map((k) => [k, z.number().int()])) as { [K in T[number]]: z.ZodNumber });

const window = { from: z.string(), to: z.string(), tz: z.string() };

export const summaryResponse = z
  .object({
    tz: z.string(),
    today: z.string().describe('Today in tz: tasks due before it that are not done or cancelled are overdue'),
    total: z.number().int(),
    open: z.number().int().describe('Not done or cancelled'),
    overdue: z.number().int(),
    byStatus: countsOf(TASK_STATUSES),
    byPriority: countsOf(TASK_PRIORITIES),
    byAssignee: z
      .array(z.object({ assigneeId: z.string().nullable(), name: z.string().nullable(), count: z.number().int(), open: z.number().int() }))
      .describe('Most tasks first; the last entry (assigneeId null) is the unassigned tasks, always present'),
  })
  .meta({ id: 'ReportSummary' });

export const throughputResponse = z
  .object({
    ...window,
    total: z.number().int(),
    weeks: z.array(z.object({ weekStart: z.string().describe('Monday of the ISO week'), completed: z.number().int() })),
  })
  .meta({ id: 'ReportThroughput' });

export const cycleTimeResponse = z
  .object({
    ...window,
    count: z.number().int().describe('Tasks completed in the range that were in progress before'),
    medianHours: z.number().nullable(),
    p90Hours: z.number().nullable(),
  })
  .meta({ id: 'ReportCycleTime' });

export const burndownResponse = z
  .object({
    ...window,
    startOpen: z.number().int().describe('Open tasks when the range began (the end of the day before from)'),
    days: z.array(
      z.object({
        date: z.string(),
        open: z.number().int().describe('Tasks open (todo, in progress, in review) at the end of the day'),
        ideal: z.number().describe('A straight line from startOpen down to zero at the end of to'),
      }),
    ),
  })
  .meta({ id: 'ReportBurndown' });

export const timeReportResponse = z
  .object({
    ...window,
    totalMinutes: z.number().int(),
    users: z.array(z.object({ userId: z.string(), name: z.string().nullable(), minutes: z.number().int() })),
    weeks: z.array(
      z.object({
        weekStart: z.string().describe('Monday of the ISO week'),
        minutes: z.number().int(),
        users: z.array(z.object({ userId: z.string(), minutes: z.number().int() })),
      }),
    ),
  })
  .meta({ id: 'ReportTimeTracked' });

export const summaryEnvelope = dataEnvelope(summaryResponse);
export const overdueEnvelope = pagedEnvelope(taskResponse);
export const throughputEnvelope = dataEnvelope(throughputResponse);
export const cycleTimeEnvelope = dataEnvelope(cycleTimeResponse);
export const burndownEnvelope = dataEnvelope(burndownResponse);
export const timeReportEnvelope = dataEnvelope(timeReportResponse);
