// Comments on tasks: Markdown with `<@id>` mentions resolved to workspace members, edited by
// their author only, deleted (softly) by the author or a workspace admin. A new comment is
// part of the task's history (activity `commented`), and every change is a domain event.
import type { Db, Executor } from '../../platform/db/client.js';
import { inTransaction } from '../../platform/db/transaction.js';
import { forbidden, notFound } from '../../platform/errors.js';
import type { DomainEvent, EventBus } from '../../platform/events.js';
import type { Actor } from '../../platform/http/context.js';
import { newId } from '../../platform/ids.js';
import { checkProjectAccess } from '../projects/projects.access.js';
import type { TaskWithGrant } from '../tasks/tasks.repository.js';
import type { WorkspaceAccess } from '../workspaces/workspaces.access.js';
import type { ProjectAction } from '../workspaces/workspaces.policy.js';
import { extractMentionIds } from './comments.mentions.js';
import { mayDeleteComment, mayEditComment } from './comments.policy.js';
import type { CommentsRepository, CommentWithGrant } from './comments.repository.js';
import type { TaskCommentRow } from './comments.table.js';

/** One row of a task's history, as the tasks module stores it. */
export interface TaskActivity {
  id: string;
  workspaceId: string;
  projectId: string;
  taskId: string;
  actorId: string;
  verb: string;
  changes: Record<string, { before: unknown; after: unknown }>;
  createdAt: Date;
}

/** What comments need from tasks: a task with the caller's grant, and the task's history. */
export interface CommentedTasks {
  findForMember(taskId: string, userId: string): Promise<TaskWithGrant | undefined>;
  insertActivities(exec: Executor, rows: TaskActivity[]): Promise<void>;
}

export interface CommentsServiceDeps {
  db: Db;
  comments: CommentsRepository;
  tasks: CommentedTasks;
  workspaceAccess: Pick<WorkspaceAccess, 'memberIds'>;
  events: EventBus;
  clock?: () => Date;
}

/** Payload of `comment.created`, `comment.updated` (`addedMentions`: mentioned by this edit only) and `comment.deleted`. */
export interface CommentEventData {
  comment: TaskCommentRow;
  taskId: string;
  taskKey: string;
  mentions: string[];
  addedMentions?: string[];
}

export function createCommentsService(deps: CommentsServiceDeps) {
  const { db, comments: repo, tasks, workspaceAccess, events, clock = () => new Date() } = deps;

  const requireTask = async (actor: Actor, taskId: string, action: ProjectAction): Promise<TaskWithGrant> =>
    checkProjectAccess(await tasks.findForMember(taskId, actor.userId), action, 'task');

  const requireComment = async (actor: Actor, commentId: string, action: ProjectAction): Promise<CommentWithGrant> =>
    checkProjectAccess(await repo.findForMember(commentId, actor.userId), action, 'comment');

  /** Mentioned ids that are members of the workspace; anything else stays plain text. */
  async function resolveMentions(workspaceId: string, body: string): Promise<string[]> {
    const ids = extractMentionIds(body);
    if (ids.length === 0) return [];
    const members = await workspaceAccess.memberIds(workspaceId, ids);
    return ids.filter((id) => members.has(id));
  }

  const event = (type: string, projectId: string, actorId: string, data: CommentEventData): DomainEvent<string, CommentEventData> => ({
    type,
    workspaceId: data.comment.workspaceId,
    projectId,
    actorId,
    occurredAt: clock(),
    data,
  });

  return {
    async listComments(actor: Actor, taskId: string, page: { limit: number; afterId?: string }) {
      await requireTask(actor, taskId, 'read');
      const rows = await repo.listByTask(taskId, { ...page, limit: page.limit + 1 });
      return { rows: rows.slice(0, page.limit), hasMore: rows.length > page.limit };
    },

    async getComment(actor: Actor, commentId: string): Promise<TaskCommentRow> {
      return (await requireComment(actor, commentId, 'read')).comment;
    },

    async addComment(actor: Actor, taskId: string, body: string): Promise<TaskCommentRow> {
      const { task, project } = await requireTask(actor, taskId, 'comment');
      const mentions = await resolveMentions(task.workspaceId, body);
      const now = clock();
      const comment = await inTransaction(db, async (tx) => {
        const created = await repo.insert(tx, {
          id: newId(),
          workspaceId: task.workspaceId,
          taskId,
          authorId: actor.userId,
          body,
          mentions,
          createdAt: now,
        });
        await tasks.insertActivities(tx, [
          {
            id: newId(),
            workspaceId: task.workspaceId,
            projectId: task.projectId,
            taskId,
            actorId: actor.userId,
            verb: 'commented',
            changes: { comment: { before: null, after: created.id } },
            createdAt: now,
          },
        ]);
        return created;
      });
      const data: CommentEventData = { comment, taskId, taskKey: `${project.key}-${task.number}`, mentions };
      events.publish([event('comment.created', task.projectId, actor.userId, data)]);
      return comment;
    },

    /** The author rewrites the body; mentions are resolved again and `editedAt` is set. */
    async editComment(actor: Actor, commentId: string, body: string): Promise<TaskCommentRow> {
      const found = await requireComment(actor, commentId, 'comment');
      if (!mayEditComment(actor.userId, found.comment.authorId)) throw forbidden();
      if (body === found.comment.body) return found.comment;
      const mentions = await resolveMentions(found.comment.workspaceId, body);
      const comment = await repo.update(db, commentId, { body, mentions, editedAt: clock() });
      if (!comment) throw notFound('comment');
      const before = new Set(found.comment.mentions);
      const data: CommentEventData = {
        comment,
        taskId: found.task.id,
        taskKey: `${found.project.key}-${found.task.number}`,
        mentions,
        addedMentions: mentions.filter((id) => !before.has(id)),
      };
      events.publish([event('comment.updated', found.task.projectId, actor.userId, data)]);
      return comment;
    },

    /** Soft delete: the row stays for the thread's shape, the body and mentions go. */
    async deleteComment(actor: Actor, commentId: string): Promise<void> {
      const found = await requireComment(actor, commentId, 'comment');
      if (!mayDeleteComment(actor.userId, found.role, found.comment.authorId)) throw forbidden();
      const comment = await repo.softDelete(db, commentId, clock());
      if (!comment) throw notFound('comment');
      events.publish([
        event('comment.deleted', found.task.projectId, actor.userId, {
          comment,
          taskId: found.task.id,
          taskKey: `${found.project.key}-${found.task.number}`,
          mentions: [],
        }),
      ]);
    },
  };
}

export type CommentsService = ReturnType<typeof createCommentsService>;
