import { sql } from 'drizzle-orm';
import { check, index, integer, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { projects } from '../projects/projects.table.js';
import { tasks } from '../tasks/tasks.table.js';
import { users } from '../users/users.table.js';
import { workspaces } from '../workspaces/workspaces.table.js';

export const timeEntries = pgTable(
  'time_entries',
  {
    id: uuid('id').primaryKey(),
    workspaceId: uuid('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    projectId: uuid('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    taskId: uuid('task_id')
      .notNull()
      .references(() => tasks.id, { onDelete: 'cascade' }),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull(),
    /** Null while the timer runs. */
    endedAt: timestamp('ended_at', { withTimezone: true }),
    /** Whole minutes, set when the entry ends (a running timer has none yet). */
    minutes: integer('minutes'),
    note: text('note').notNull().default(''),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    // One running timer per user, decided by the database, not by a check-then-insert.
    uniqueIndex('time_entries_one_running_key').on(t.userId).where(sql`${t.endedAt} is null`),
    index('time_entries_task_idx').on(t.taskId, t.startedAt),
    index('time_entries_project_idx').on(t.projectId, t.startedAt),
    index('time_entries_user_idx').on(t.userId, t.startedAt),
    check('time_entries_range_check', sql`${t.endedAt} is null or ${t.endedAt} >= ${t.startedAt}`),
    check('time_entries_minutes_check', sql`${t.minutes} is null or ${t.minutes} >= 0`),
  ],
);

export type TimeEntryRow = typeof timeEntries.$inferSelect;
