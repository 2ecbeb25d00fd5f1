// Tasks: numbered per project without gaps (WEB-42), edited with optimistic versions, moved on
// the board without rewriting the column, updated in bulk, and every change recorded as
// activity in the same transaction and published as a domain event after commit.
import type { Db, Executor } from '../../platform/db/client.js';
import { inTransaction } from '../../platform/db/transaction.js';
import { AppError, notFound, requireVersion, validationFailed } from '../../platform/errors.js';
import type { DomainEvent, EventBus } from '../../platform/events.js';
import type { Actor } from '../../platform/http/context.js';
import { newId } from '../../platform/ids.js';
import { checkProjectAccess, type ProjectAccess } from '../projects/projects.access.js';
import type { ProjectAction } from '../workspaces/workspaces.policy.js';
import { completionFor, diffTask, positionBetween, type TaskChanges, type TaskFields } from './tasks.changes.js';
import type { TaskListFilter } from './tasks.list.js';
import { POSITION_GAP, type TasksRepository, type TaskWithGrant } from './tasks.repository.js';
import type { TaskRow, TaskStatus } from './tasks.table.js';

export type NewTask = Partial<TaskFields> & { title: string };
export type TaskPatch = Partial<TaskFields>;
export interface TaskMove {
  status?: TaskStatus;
  /** Place right after this task of the target column… */
  afterId?: string;
  /** …or right before this one; neither: the end of the column. */
  beforeId?: string;
}
export interface BulkChange {
  status?: TaskStatus;
  assigneeId?: string | null;
  addLabels?: string[];
  removeLabels?: string[];
}

export interface TasksServiceDeps {
  db: Db;
  tasks: TasksRepository;
  projectAccess: ProjectAccess;
  events: EventBus;
  clock?: () => Date;
}

export interface TaskView {
  task: TaskRow;
  projectKey: string;
}

export function createTasksService(deps: TasksServiceDeps) {
  const { db, tasks: repo, projectAccess, events, clock = () => new Date() } = deps;

  async function requireTask(actor: Actor, taskId: string, action: ProjectAction): Promise<TaskWithGrant> {
    return checkProjectAccess(await repo.findForMember(taskId, actor.userId), action, 'task');
  }

  /** An assignee must be able to see the task: a workspace member, or a guest added to the project. */
  async function assertAssignable(projectId: string, assigneeId: string | null | undefined): Promise<void> {
    if (!assigneeId) return;
    const viewers = await projectAccess.viewerIds(projectId, [assigneeId]);
    if (!viewers.has(assigneeId)) {
      throw validationFailed([{ path: 'assigneeId', message: 'must be a member of the workspace who can see this project' }]);
    }
  }

  const taskEvent = (type: string, task: TaskRow, actorId: string, data: Record<string, unknown> = {}): DomainEvent => ({
    type,
    workspaceId: task.workspaceId,
    projectId: task.projectId,
    actorId,
    occurredAt: clock(),
    data: { task, ...data },
  });

  const activity = (task: TaskRow, actorId: string, verb: string, changes: TaskChanges) => ({
    id: newId(),
    workspaceId: task.workspaceId,
    projectId: task.projectId,
    taskId: task.id,
    actorId,
    verb,
    changes,
    createdAt: clock(),
  });

  /** Events for one changed task: always `task.updated`, plus `task.assigned` when the assignee changed. */
  function updateEvents(task: TaskRow, actorId: string, changes: TaskChanges): DomainEvent[] {
    const out = [taskEvent('task.updated', task, actorId, { changes })];
    if (changes.assigneeId && task.assigneeId) out.push(taskEvent('task.assigned', task, actorId, { assigneeId: task.assigneeId }));
    return out;
  }

  /** Locks a task for the transaction and checks the caller's If-Match versions, if any. */
  async function lockTask(tx: Executor, taskId: string, expectedVersions?: number[]): Promise<TaskRow> {
    const current = await repo.lock(tx, taskId);
    if (!current) throw notFound('task');
    requireVersion(current.version, expectedVersions);
    return current;
  }

  /** Applies a change to a locked task: completion, column end on a status change, activity. */
  async function applyChange(tx: Executor, actor: Actor, current: TaskRow, next: TaskPatch) {
    const changes = diffTask(current, next);
    if (Object.keys(changes).length === 0) return { task: current, changes };
    const status = next.status ?? current.status;
    const extra = {
      ...completionFor(current.status, status, clock()),
      ...(status !== current.status ? { position: await repo.endOfColumn(tx, current.projectId, status) } : {}),
    };
    const patch = Object.fromEntries(Object.entries(changes).map(([field, change]) => [field, change.after]));
    const task = await repo.update(tx, current.id, { ...patch, ...extra });
    await repo.insertActivities(tx, [activity(task, actor.userId, 'updated', changes)]);
    return { task, changes };
  }

  return {
    async createTask(actor: Actor, projectId: string, input: NewTask): Promise<TaskView> {
      const { project } = await projectAccess.requireProject(actor, projectId, 'write');
      await assertAssignable(projectId, input.assigneeId);
      const now = clock();
      const task = await inTransaction(db, async (tx) => {
        const number = await repo.reserveNumbers(tx, projectId);
        const status = input.status ?? 'todo';
        const [created] = await repo.insert(tx, [
          {
            ...input,
            id: newId(),
            workspaceId: project.workspaceId,
            projectId,
            number,
            status,
            reporterId: actor.userId,
            position: await repo.endOfColumn(tx, projectId, status),
            completedAt: status === 'done' ? now : null,
            createdAt: now,
            updatedAt: now,
          },
        ]);
        if (!created) throw new Error('insert returned no task');
        // Creation records every field it set, from nothing: status and priority always, so
        // reports can tell the status a task started in.
        const blank = {
          ...created,
          title: '',
          description: '',
          labels: [],
          status: null,
          priority: null,
          assigneeId: null,
          dueDate: null,
          estimateMinutes: null,
        };
        const after = diffTask(blank as unknown as TaskRow, created);
        await repo.insertActivities(tx, [activity(created, actor.userId, 'created', after)]);
        return created;
      });
      const published = [taskEvent('task.created', task, actor.userId)];
      if (task.assigneeId) published.push(taskEvent('task.assigned', task, actor.userId, { assigneeId: task.assigneeId }));
      events.publish(published);
      return { task, projectKey: project.key };
    },

    async getTask(actor: Actor, taskId: string): Promise<TaskView> {
      const found = await requireTask(actor, taskId, 'read');
      return { task: found.task, projectKey: found.project.key };
    },

    /** By number within a project; a key prefix (WEB in WEB-42) must be the project's. */
    async getTaskByNumber(actor: Actor, projectId: string, number: number, keyPrefix?: string): Promise<TaskView> {
      const found = checkProjectAccess(await repo.findByNumberForMember(projectId, number, actor.userId), 'read', 'task');
      if (keyPrefix !== undefined && keyPrefix !== found.project.key) throw notFound('task');
      return { task: found.task, projectKey: found.project.key };
    },

    /** PATCH (the given fields) and PUT (all writable fields) alike. */
    async updateTask(actor: Actor, taskId: string, next: TaskPatch, expectedVersions?: number[]): Promise<TaskView> {
      const found = await requireTask(actor, taskId, 'write');
      await assertAssignable(found.task.projectId, next.assigneeId);
      const { task, changes } = await inTransaction(db, async (tx) => {
        return applyChange(tx, actor, await lockTask(tx, taskId, expectedVersions), next);
      });
      if (Object.keys(changes).length > 0) events.publish(updateEvents(task, actor.userId, changes));
      return { task, projectKey: found.project.key };
    },

    /** Moves a task on the board: into another column and/or between two neighbours. */
    async moveTask(actor: Actor, taskId: string, move: TaskMove, expectedVersions?: number[]): Promise<TaskView> {
      const found = await requireTask(actor, taskId, 'write');
      const anchorId = move.afterId ?? move.beforeId;
      if (anchorId === taskId)
        throw validationFailed([{ path: move.afterId ? 'afterId' : 'beforeId', message: 'cannot be the task being moved' }]);
      const { task, changes } = await inTransaction(db, async (tx) => {
        const current = await lockTask(tx, taskId, expectedVersions);
        const status = move.status ?? current.status;
        await repo.lockColumn(tx, current.projectId, status);
        const place = async (): Promise<number | undefined> => {
          if (!anchorId)
            return positionBetween(
              await repo.neighbour(tx, current.projectId, status, Number.MAX_VALUE, 'before', taskId),
              undefined,
              POSITION_GAP,
            );
          const anchor = (await repo.lockMany(tx, current.projectId, [anchorId]))[0];
          if (!anchor || anchor.status !== status) {
            throw validationFailed([
              { path: move.afterId ? 'afterId' : 'beforeId', message: 'must be a task in the target column of the same project' },
            ]);
          }
          return move.afterId
            ? positionBetween(
                anchor.position,
                await repo.neighbour(tx, current.projectId, status, anchor.position, 'after', taskId),
                POSITION_GAP,
              )
            : positionBetween(
                await repo.neighbour(tx, current.projectId, status, anchor.position, 'before', taskId),
                anchor.position,
                POSITION_GAP,
              );
        };
        let position = await place();
        if (position === undefined) {
          await repo.rebalanceColumn(tx, current.projectId, status);
          position = await place();
          if (position === undefined) throw new Error('no room in the column even after rebalancing');
        }
        const statusChanges = diffTask(current, { status });
        const changes: TaskChanges = { ...statusChanges, position: { before: current.position, after: position } };
        const task = await repo.update(tx, taskId, { status, position, ...completionFor(current.status, status, clock()) });
        await repo.insertActivities(tx, [activity(task, actor.userId, 'moved', changes)]);
        return { task, changes };
      });
      events.publish(updateEvents(task, actor.userId, changes));
      return { task, projectKey: found.project.key };
    },

    async deleteTask(actor: Actor, taskId: string, expectedVersions?: number[]): Promise<void> {
      await requireTask(actor, taskId, 'write');
      const task = await inTransaction(db, async (tx) => {
        const current = await lockTask(tx, taskId, expectedVersions);
        await repo.delete(tx, taskId);
        await repo.insertActivities(tx, [activity(current, actor.userId, 'deleted', { title: { before: current.title, after: null } })]);
        return current;
      });
      events.publish([taskEvent('task.deleted', task, actor.userId)]);
    },

    /** Up to 100 tasks of one project in one transaction: all change, or none (an unknown id is a 404). */
    async bulkUpdate(actor: Actor, projectId: string, ids: string[], change: BulkChange): Promise<TaskView[]> {
      const { project } = await projectAccess.requireProject(actor, projectId, 'write');
      await assertAssignable(projectId, change.assigneeId);
      const unique = [...new Set(ids)];
      const results = await inTransaction(db, async (tx) => {
        const locked = await repo.lockMany(tx, projectId, unique);
        if (locked.length !== unique.length) {
          const missing = unique.filter((id) => !locked.some((t) => t.id === id));
          throw new AppError(
            'NOT_FOUND',
            'Task not found',
            missing.map((id) => ({ path: 'ids', message: `${id} is not a task of this project` })),
          );
        }
        const out = [];
        for (const current of locked) {
          const labels =
            change.addLabels || change.removeLabels
              ? [...new Set([...current.labels, ...(change.addLabels ?? [])])].filter((l) => !change.removeLabels?.includes(l))
              : undefined;
          if (labels && labels.length > 20)
            throw validationFailed([
              { path: 'addLabels', message: `would give task ${project.key}-${current.number} more than 20 labels` },
            ]);
          out.push(await applyChange(tx, actor, current, { status: change.status, assigneeId: change.assigneeId, labels }));
        }
        return out;
      });
      events.publish(results.flatMap((r) => (Object.keys(r.changes).length > 0 ? updateEvents(r.task, actor.userId, r.changes) : [])));
      return results.map((r) => ({ task: r.task, projectKey: project.key }));
    },

    async listTasks(actor: Actor, projectId: string, filter: Omit<TaskListFilter, 'projectId' | 'viewerId'>) {
      const { project } = await projectAccess.requireProject(actor, projectId, 'read');
      return { ...(await repo.list({ ...filter, projectId })), projectKey: project.key };
    },

    /** The caller's assigned tasks across every workspace and project they can see. */
    listMyTasks: (actor: Actor, filter: Omit<TaskListFilter, 'projectId' | 'viewerId' | 'assigneeId'>) =>
      repo.list({ ...filter, viewerId: actor.userId }),

    async listActivity(actor: Actor, taskId: string, page: { limit: number; afterId?: string }) {
      await requireTask(actor, taskId, 'read');
      const rows = await repo.listActivity(taskId, { ...page, limit: page.limit + 1 });
      return { rows: rows.slice(0, page.limit), hasMore: rows.length > page.limit };
    },
  };
}

export type TasksService = ReturnType<typeof createTasksService>;
