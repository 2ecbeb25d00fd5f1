import { and, asc, eq, gt, isNull, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import { translateDbError } from '../../platform/db/errors.js';
import { projectMembers, projects } from '../projects/projects.table.js';
import { tasks } from '../tasks/tasks.table.js';
import { type WorkspaceRole, workspaceMembers } from '../workspaces/workspaces.table.js';
import { type TaskCommentRow, taskComments } from './comments.table.js';

/** A comment with what its task's project grants the caller (the shape checkProjectAccess reads). */
export interface CommentWithGrant {
  comment: TaskCommentRow;
  task: { id: string; projectId: string; number: number };
  project: { key: string; archivedAt: Date | null };
  role: WorkspaceRole;
  added: boolean;
}

export function createCommentsRepository(db: Executor) {
  // One round trip answers "does this comment exist for the caller" (a member of its
  // workspace; deleted comments do not) and what their role lets them do with it.
  const byIdForMember = db
    .select({
      comment: taskComments,
      task: { id: tasks.id, projectId: tasks.projectId, number: tasks.number },
      project: { key: projects.key, archivedAt: projects.archivedAt },
      role: workspaceMembers.role,
      added: sql<boolean>`exists (select 1 from ${projectMembers} pm where pm.project_id = ${tasks.projectId} and pm.user_id = ${sql.placeholder('userId')})`,
    })
    .from(taskComments)
    .innerJoin(tasks, eq(tasks.id, taskComments.taskId))
    .innerJoin(projects, eq(projects.id, tasks.projectId))
    .innerJoin(
      workspaceMembers,
      and(eq(workspaceMembers.workspaceId, taskComments.workspaceId), eq(workspaceMembers.userId, sql.placeholder('userId'))),
    )
    .where(and(eq(taskComments.id, sql.placeholder('commentId')), isNull(taskComments.deletedAt)))
    .limit(1)
    .prepare('comments_by_id_for_member');

  return {
    async findForMember(commentId: string, userId: string): Promise<CommentWithGrant | undefined> {
      const [row] = await byIdForMember.execute({ commentId, userId });
      return row;
    },

    /** A task's comments, oldest first (ids are time-ordered), without deleted ones; the task implies the workspace. */
    listByTask(taskId: string, page: { limit: number; afterId?: string }): Promise<TaskCommentRow[]> {
      return db
        .select()
        .from(taskComments)
        .where(
          and(
            eq(taskComments.taskId, taskId),
            isNull(taskComments.deletedAt),
            page.afterId ? gt(taskComments.id, page.afterId) : undefined,
          ),
        )
        .orderBy(asc(taskComments.id))
        .limit(page.limit);
    },

    async insert(exec: Executor, row: typeof taskComments.$inferInsert): Promise<TaskCommentRow> {
      try {
        const [created] = await exec.insert(taskComments).values(row).returning();
        if (!created) throw new Error('insert returned no comment');
        return created;
      } catch (err) {
        // A task deleted between the access check and the insert is that task's 404.
        translateDbError(err, { task_comments_task_id_tasks_id_fk: 'task' });
      }
    },

    /** Undefined when the comment was deleted meanwhile. */
    async update(
      exec: Executor,
      commentId: string,
      patch: Pick<TaskCommentRow, 'body' | 'mentions' | 'editedAt'>,
    ): Promise<TaskCommentRow | undefined> {
      const [row] = await exec
        .update(taskComments)
        .set(patch)
        .where(and(eq(taskComments.id, commentId), isNull(taskComments.deletedAt)))
        .returning();
      return row;
    },

    /** Keeps the row (the thread keeps its shape and activity its reference) but not the words. */
    async softDelete(exec: Executor, commentId: string, at: Date): Promise<TaskCommentRow | undefined> {
      const [row] = await exec
        .update(taskComments)
        .set({ deletedAt: at, body: '', mentions: [] })
        .where(and(eq(taskComments.id, commentId), isNull(taskComments.deletedAt)))
        .returning();
      return row;
    },
  };
}

export type CommentsRepository = ReturnType<typeof createCommentsRepository>;
