import { z } from 'zod';
import { cursorEnvelope, cursorQuery, dataEnvelope, idParam, pageQuery, timeZone } from '../../platform/http/schemas.js';
import { TASK_SORT_KEYS, type TaskSort } from './tasks.list.js';
import { TASK_PRIORITIES, TASK_STATUSES, type TaskRow } from './tasks.table.js';

export const taskStatus = z.enum(TASK_STATUSES);
export const taskPriority = z.enum(TASK_PRIORITIES);
const title = z.string().trim().min(1).max(500);
const description = z.string().max(100_000).describe('Markdown, stored as written');
export const label = z
  .string()
  .trim()
  .min(1)
  .max(50)
  .regex(/^[^,\s][^,]*$/, { message: 'must not contain commas' });
const labels = z
  .array(label)
  .max(20)
  .transform((l) => [...new Set(l)]);
export const dateOnly = z.iso.date();
const estimate = z.number().int().min(0).max(1_000_000).describe('Minutes');
const userId = idParam('user');

export const taskIdParams = z.strictObject({ taskId: idParam('task') });
export const taskKeyParams = z.strictObject({
  projectId: idParam('project'),
  taskKey: z
    .string()
    .max(20)
    .regex(/^(?:[A-Z]{2,10}-)?[1-9][0-9]{0,8}$/, { message: 'must be a task key like WEB-42 (or just its number, 42)' }),
});

/**
 * Cross-field rules run only once every field parsed: otherwise a malformed `sort` reaches
 * them as its raw string (a TypeError, so a 500), and a body of unknown fields is reported
 * as empty as well.
 */
const fieldsValid = (payload: { issues: readonly unknown[] }) => payload.issues.length === 0;

const writable = {
  title,
  description,
  status: taskStatus,
  priority: taskPriority,
  assigneeId: userId.nullable(),
  dueDate: dateOnly.nullable(),
  labels,
  estimateMinutes: estimate.nullable(),
};

export const createTaskBody = z.strictObject({
  title,
  description: description.optional(),
  status: taskStatus.optional(),
  priority: taskPriority.optional(),
  assigneeId: userId.nullable().optional(),
  dueDate: dateOnly.nullable().optional(),
  labels: labels.optional(),
  estimateMinutes: estimate.nullable().optional(),
});

export const patchTaskBody = z
  .strictObject(
    Object.fromEntries(Object.entries(writable).map(([k, v]) => [k, v.optional()])) as {
      [K in keyof typeof writable]: z.ZodOptional<(typeof writable)[K]>;
    },
  )
  .refine((b) => Object.keys(b).length > 0, {
    message: `must name at least one field to change (${Object.keys(writable).join(', ')})`,
    when: fieldsValid,
  });

export const replaceTaskBody = z.strictObject(writable);

export const moveTaskBody = z
  .strictObject({ status: taskStatus.optional(), afterId: idParam('task').optional(), beforeId: idParam('task').optional() })
  .refine((b) => !(b.afterId && b.beforeId), { message: 'give afterId or beforeId, not both', when: fieldsValid });

export const bulkUpdateBody = z.strictObject({
  ids: z.array(idParam('task')).min(1).max(100),
  set: z
    .strictObject({
      status: taskStatus.optional(),
      assigneeId: userId.nullable().optional(),
      addLabels: z.array(label).max(20).optional(),
      removeLabels: z.array(label).max(20).optional(),
    })
    .refine((s) => Object.keys(s).length > 0, {
      message: 'must name at least one change (status, assigneeId, addLabels, removeLabels)',
      when: fieldsValid,
    }),
});

const commaList = <T extends string>(values: readonly T[], what: string) =>
  z
    .string()
    .max(200)
    .transform((s) => s.split(',').map((v) => v.trim()))
    .refine((list) => list.every((v) => (values as readonly string[]).includes(v)), {
      message: `must be a comma-separated list of ${what}: ${values.join(', ')}`,
    })
    .transform((list) => list as T[]);

const sortPattern = new RegExp(`^-?(${TASK_SORT_KEYS.join('|')})(,-?(${TASK_SORT_KEYS.join('|')})){0,3}$`);
const sortParam = z
  .string()
  .regex(sortPattern, {
    message: `must be a comma-separated list (up to 4) of ${TASK_SORT_KEYS.join(', ')}, each optionally prefixed with -`,
  })
  .transform((s): TaskSort[] =>
    s.split(',').map((part) => ({ key: part.replace(/^-/, '') as TaskSort['key'], desc: part.startsWith('-') })),
  );

const listFilters = {
  status: commaList(TASK_STATUSES, 'statuses').optional(),
  priority: commaList(TASK_PRIORITIES, 'priorities').optional(),
  reporter: z
    .union([z.literal('me'), userId])
    .optional()
    .describe('A user id or `me`'),
  label: label.optional(),
  dueBefore: dateOnly.optional().describe('Due strictly before this date'),
  dueAfter: dateOnly.optional().describe('Due strictly after this date'),
  overdue: z.enum(['true']).optional().describe('Only tasks due before today (in `tz`) that are not done or cancelled'),
  tz: timeZone.default('UTC').describe('Time zone that decides what "today" is for `overdue`'),
  q: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .optional()
    .describe('Full-text search over title and description (web search syntax: words, "phrases", -exclusions, or)'),
  sort: sortParam.optional().describe(`Default: number (or -relevance with q). Keys: ${TASK_SORT_KEYS.join(', ')}; id breaks ties`),
  page: z.coerce.number().int().min(1).max(100_000).optional().describe('Offset page (default 1)'),
  limit: pageQuery.limit,
  cursor: cursorQuery.cursor.describe('Continue after the page that returned this nextCursor (no total in cursor pages)'),
};

const sortNeedsQuery = (q: { sort?: TaskSort[]; q?: string }) => !(q.sort?.some((s) => s.key === 'relevance') && !q.q);
const notBoth = (q: { page?: number; cursor?: string }) => !(q.page !== undefined && q.cursor !== undefined);

export const listTasksQuery = z
  .strictObject({
    ...listFilters,
    assignee: z
      .union([z.literal('me'), z.literal('none'), userId])
      .optional()
      .describe('A user id, `me` or `none` (unassigned)'),
  })
  .refine(sortNeedsQuery, { message: 'sort by relevance needs a q search', path: ['sort'], when: fieldsValid })
  .refine(notBoth, { message: 'give page or cursor, not both', path: ['cursor'], when: fieldsValid });

export const listMyTasksQuery = z
  .strictObject(listFilters)
  .refine(sortNeedsQuery, { message: 'sort by relevance needs a q search', path: ['sort'], when: fieldsValid })
  .refine(notBoth, { message: 'give page or cursor, not both', path: ['cursor'], when: fieldsValid });

export const activityQuery = z.strictObject({ ...cursorQuery });

export const taskResponse = z
  .object({
    id: z.string(),
    key: z.string().describe('Project key and number, e.g. WEB-42'),
    number: z.number().int(),
    projectId: z.string(),
    workspaceId: z.string(),
    title: z.string(),
    description: z.string(),
    status: taskStatus,
    priority: taskPriority,
    assigneeId: z.string().nullable(),
    reporterId: z.string().nullable(),
    dueDate: z.string().nullable(),
    labels: z.array(z.string()),
    estimateMinutes: z.number().int().nullable(),
    position: z.number(),
    version: z.number().int(),
    completedAt: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Task' });

export type TaskResponse = z.infer<typeof taskResponse>;

export const toTaskResponse = (t: TaskRow, projectKey: string): TaskResponse => ({
  id: t.id,
  key: `${projectKey}-${t.number}`,
  number: t.number,
  projectId: t.projectId,
  workspaceId: t.workspaceId,
  title: t.title,
  description: t.description,
  status: t.status,
  priority: t.priority,
  assigneeId: t.assigneeId,
  reporterId: t.reporterId,
  dueDate: t.dueDate,
  labels: t.labels,
  estimateMinutes: t.estimateMinutes,
  position: t.position,
  version: t.version,
  completedAt: t.completedAt ? t.completedAt.toISOString() : null,
  createdAt: t.createdAt.toISOString(),
  updatedAt: t.updatedAt.toISOString(),
});

export const activityResponse = z
  .object({
    id: z.string(),
    taskId: z.string(),
    actorId: z.string().nullable(),
    verb: z.enum(['created', 'updated', 'moved', 'deleted']).or(z.string()),
    changes: z.record(z.string(), z.object({ before: z.unknown(), after: z.unknown() })),
    createdAt: z.string(),
  })
  .meta({ id: 'TaskActivity' });

const listPagination = z.object({
  page: z.number().int().optional(),
  limit: z.number().int(),
  total: z.number().int().optional(),
  totalPages: z.number().int().optional(),
  nextCursor: z.string().nullable(),
  hasMore: z.boolean(),
});

export const taskEnvelope = dataEnvelope(taskResponse);
export const taskListEnvelope = z.object({ success: z.literal(true), data: z.array(taskResponse), pagination: listPagination });
export const bulkUpdateEnvelope = dataEnvelope(z.array(taskResponse));
export const activityListEnvelope = cursorEnvelope(activityResponse);
