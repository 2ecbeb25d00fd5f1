import { type SQL, sql } from 'drizzle-orm';
import {
  check,
  customType,
  date,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { projects } from '../projects/projects.table.js';
import { users } from '../users/users.table.js';
import { workspaces } from '../workspaces/workspaces.table.js';

export const TASK_STATUSES = ['todo', 'in_progress', 'in_review', 'done', 'cancelled'] as const;
export const TASK_PRIORITIES = ['none', 'low', 'medium', 'high', 'urgent'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];
export type TaskPriority = (typeof TASK_PRIORITIES)[number];

const tsvector = customType<{ data: string }>({ dataType: () => 'tsvector' });

export const tasks = pgTable(
  'tasks',
  {
    id: uuid('id').primaryKey(),
    /** Denormalised from the project so every query can be scoped by workspace directly. */
    workspaceId: uuid('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    projectId: uuid('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    number: integer('number').notNull(),
    title: text('title').notNull(),
    description: text('description').notNull().default(''),
    status: text('status', { enum: TASK_STATUSES }).notNull().default('todo'),
    priority: text('priority', { enum: TASK_PRIORITIES }).notNull().default('none'),
    assigneeId: uuid('assignee_id').references(() => users.id, { onDelete: 'set null' }),
    reporterId: uuid('reporter_id').references(() => users.id, { onDelete: 'set null' }),
    dueDate: date('due_date', { mode: 'string' }),
    labels: text('labels').array().notNull().default(sql`'{}'::text[]`),
    estimateMinutes: integer('estimate_minutes'),
    /** Board order inside a status column: gaps between neighbours, rebalanced when a gap runs out. */
    position: doublePrecision('position').notNull(),
    version: integer('version').notNull().default(1),
    completedAt: timestamp('completed_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    search: tsvector('search').generatedAlwaysAs(
      (): SQL =>
        sql`setweight(to_tsvector('english', coalesce(${tasks.title}, '')), 'A') || setweight(to_tsvector('english', coalesce(${tasks.description}, '')), 'B')`,
    ),
  },
  (t) => [
    uniqueIndex('tasks_project_number_key').on(t.projectId, t.number),
    index('tasks_project_status_position_idx').on(t.projectId, t.status, t.position),
    // The list's hot path: one project and status, by due date (no date sorts last), then id.
    index('tasks_project_status_due_idx').on(t.projectId, t.status, sql`coalesce(${t.dueDate}, 'infinity'::date)`, t.id),
    index('tasks_assignee_idx').on(t.assigneeId, t.status),
    index('tasks_reporter_idx').on(t.reporterId),
    index('tasks_workspace_idx').on(t.workspaceId),
    index('tasks_search_idx').using('gin', t.search),
    index('tasks_labels_idx').using('gin', t.labels),
    check('tasks_status_check', sql`${t.status} in ('todo', 'in_progress', 'in_review', 'done', 'cancelled')`),
    check('tasks_priority_check', sql`${t.priority} in ('none', 'low', 'medium', 'high', 'urgent')`),
    check('tasks_estimate_check', sql`${t.estimateMinutes} is null or ${t.estimateMinutes} >= 0`),
    check('tasks_labels_check', sql`cardinality(${t.labels}) <= 20`),
  ],
);

/**
 * The history of every task: who did what, with before/after of the changed fields, written
 * in the same transaction as the change. Kept when the task is deleted (no foreign key to
 * tasks) because reports read it.
 */
export const activities = pgTable(
  'activities',
  {
    id: uuid('id').primaryKey(),
    workspaceId: uuid('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    projectId: uuid('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    taskId: uuid('task_id').notNull(),
    actorId: uuid('actor_id').references(() => users.id, { onDelete: 'set null' }),
    verb: text('verb').notNull(),
    changes: jsonb('changes').$type<Record<string, { before: unknown; after: unknown }>>().notNull().default({}),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('activities_task_idx').on(t.taskId, t.id), index('activities_project_verb_idx').on(t.projectId, t.verb, t.createdAt)],
);

export type TaskRow = typeof tasks.$inferSelect;
export type NewTaskRow = typeof tasks.$inferInsert;
export type ActivityRow = typeof activities.$inferSelect;
