import { z } from 'zod';
import { dataEnvelope, idParam, iso, pageQuery, pageSchema, timeZone } from '../../platform/http/schemas.js';
import { dateOnly } from '../tasks/tasks.schemas.js';
import type { TimeEntryView } from './time.repository.js';
import { MAX_ENTRY_MINUTES } from './time.rules.js';

export const entryIdParams = z.strictObject({ entryId: idParam('time entry') });

const instant = z.iso
  .datetime({ offset: true })
  .transform((s) => new Date(s))
  .describe('ISO 8601 date-time with a time zone (Z or ±hh:mm)');
const minutes = z.number().int().min(1).max(MAX_ENTRY_MINUTES).describe('Whole minutes, at most 24 hours');
const note = z.string().max(1000);

// Fastify hands a request without a body to validation as null.
export const startTimerBody = z.strictObject({ note: note.optional() }).nullish().describe('Optional');

export const logTimeBody = z
  .strictObject({
    startedAt: instant,
    endedAt: instant.optional().describe('At least a minute after startedAt, at most 24 hours, not in the future'),
    minutes: minutes.optional(),
    note: note.optional(),
  })
  .refine((b) => (b.endedAt === undefined) !== (b.minutes === undefined), {
    message: 'give either endedAt or minutes (one of them)',
    path: ['endedAt'],
  });

export const patchEntryBody = z
  .strictObject({ startedAt: instant.optional(), endedAt: instant.optional(), minutes: minutes.optional(), note: note.optional() })
  .refine((b) => Object.keys(b).length > 0, { message: 'must name at least one field to change (startedAt, endedAt, minutes, note)' })
  .refine((b) => b.endedAt === undefined || b.minutes === undefined, { message: 'give endedAt or minutes, not both', path: ['minutes'] });

const dayRange = {
  from: dateOnly.optional().describe('First day (in tz) whose entries count, by their start'),
  to: dateOnly.optional().describe('Last day (in tz) whose entries count, inclusive'),
  tz: timeZone.default('UTC').describe('Time zone of from and to'),
};
const rangeInOrder = (q: { from?: string; to?: string }) => !(q.from && q.to && q.from > q.to);
const rangeMessage = { message: 'must not be before from', path: ['to'] };

export const listTaskEntriesQuery = z.strictObject({ ...pageQuery });
export const myEntriesQuery = z.strictObject({ ...dayRange, ...pageQuery }).refine(rangeInOrder, rangeMessage);
export const projectSummaryQuery = z
  .strictObject({
    ...dayRange,
    top: z.coerce.number().int().min(1).max(100).default(10).describe('How many tasks to list, most time first'),
  })
  .refine(rangeInOrder, rangeMessage);

export const timeEntryResponse = z
  .object({
    id: z.string(),
    taskId: z.string(),
    taskKey: z.string().describe('e.g. WEB-12'),
    projectId: z.string(),
    workspaceId: z.string(),
    userId: z.string(),
    startedAt: z.string(),
    endedAt: z.string().nullable().describe('Null while the timer runs'),
    minutes: z.number().int().nullable().describe('Whole minutes (rounded down); null while the timer runs'),
    running: z.boolean(),
    note: z.string(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'TimeEntry' });

export const toTimeEntryResponse = (e: TimeEntryView): z.infer<typeof timeEntryResponse> => ({
  id: e.id,
  taskId: e.taskId,
  taskKey: e.taskKey,
  projectId: e.projectId,
  workspaceId: e.workspaceId,
  userId: e.userId,
  startedAt: e.startedAt.toISOString(),
  endedAt: iso(e.endedAt),
  minutes: e.minutes,
  running: e.endedAt === null,
  note: e.note,
  createdAt: e.createdAt.toISOString(),
  updatedAt: e.updatedAt.toISOString(),
});

const perUser = z.array(z.object({ userId: z.string(), minutes: z.number().int() })).describe('Most time first');

export const timeEntryEnvelope = dataEnvelope(timeEntryResponse);
export const timeEntryListEnvelope = z.object({
  success: z.literal(true),
  data: z.array(timeEntryResponse),
  pagination: pageSchema,
  totalMinutes: z.number().int().describe('Minutes of every finished entry the list covers (all pages)'),
});
export const taskTimeSummaryEnvelope = dataEnvelope(
  z.object({ taskId: z.string(), totalMinutes: z.number().int(), users: perUser }).meta({ id: 'TaskTimeSummary' }),
);
export const projectTimeSummaryEnvelope = dataEnvelope(
  z
    .object({
      projectId: z.string(),
      from: z.string().nullable(),
      to: z.string().nullable(),
      tz: z.string(),
      totalMinutes: z.number().int(),
      users: perUser,
      tasks: z.array(z.object({ taskId: z.string(), taskKey: z.string(), title: z.string(), minutes: z.number().int() })),
    })
    .meta({ id: 'ProjectTimeSummary' }),
);
