import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { validationFailed } from '../../platform/errors.js';
import { ifMatchVersions, notModified, sendNotModified } from '../../platform/http/conditional.js';
import { actorOf } from '../../platform/http/context.js';
import { decodeCursor, encodeCursor, errorResponses, messageSchema, offsetPagination } from '../../platform/http/schemas.js';
import { isUuid } from '../../platform/ids.js';
import { dateIn } from '../../platform/time.js';
import { projectIdParams } from '../projects/projects.schemas.js';
import type { TaskListFilter, TaskListRow, TaskSort } from './tasks.list.js';
import {
  activityListEnvelope,
  activityQuery,
  bulkUpdateBody,
  createTaskBody,
  listMyTasksQuery,
  listTasksQuery,
  moveTaskBody,
  patchTaskBody,
  replaceTaskBody,
  taskEnvelope,
  taskIdParams,
  taskKeyParams,
  taskListEnvelope,
  toTaskResponse,
} from './tasks.schemas.js';
import type { TasksService, TaskView } from './tasks.service.js';

const tags = ['tasks'];
const one = (view: TaskView) => ({ success: true as const, data: toTaskResponse(view.task, view.projectKey) });
const badCursor = () => validationFailed([{ path: 'cursor', message: 'is invalid or belongs to another sort order' }]);

interface ListQuery {
  status?: TaskListFilter['statuses'];
  priority?: TaskListFilter['priorities'];
  assignee?: string;
  reporter?: string;
  label?: string;
  dueBefore?: string;
  dueAfter?: string;
  overdue?: 'true';
  tz: string;
  q?: string;
  sort?: TaskSort[];
  page?: number;
  limit: number;
  cursor?: string;
}

const sortSpec = (sort: TaskSort[]) => sort.map((s) => `${s.desc ? '-' : ''}${s.key}`).join(',');

/** Query string → repository filter; `me` means the caller. Cursors carry their sort order. */
function toFilter(query: ListQuery, userId: string, now: Date): Omit<TaskListFilter, 'projectId' | 'viewerId'> {
  const sort = query.sort ?? (query.q ? [{ key: 'relevance' as const, desc: true }] : [{ key: 'number' as const, desc: false }]);
  let after: string[] | undefined;
  if (query.cursor !== undefined) {
    const parts = decodeCursor(query.cursor);
    if (
      !parts ||
      parts[0] !== sortSpec(sort) ||
      parts.length !== sort.length + 2 ||
      !parts.every((p) => typeof p === 'string') ||
      !isUuid(parts.at(-1) as string)
    )
      throw badCursor();
    after = parts.slice(1) as string[];
  }
  const person = (v: string | undefined) => (v === 'me' ? userId : v);
  return {
    statuses: query.status,
    priorities: query.priority,
    assigneeId: query.assignee === 'none' ? null : person(query.assignee),
    reporterId: person(query.reporter),
    label: query.label,
    dueBefore: query.dueBefore,
    dueAfter: query.dueAfter,
    overdueBefore: query.overdue ? dateIn(query.tz, now) : undefined,
    q: query.q,
    sort,
    limit: query.limit,
    offset: after ? undefined : ((query.page ?? 1) - 1) * query.limit,
    after,
  };
}

function listReply(
  query: ListQuery,
  filter: ReturnType<typeof toFilter>,
  result: { rows: TaskListRow[]; hasMore: boolean; total?: number },
  key: (row: TaskListRow) => string,
) {
  const last = result.rows.at(-1);
  const nextCursor = result.hasMore && last ? encodeCursor([sortSpec(filter.sort), ...last.sortValues, last.id]) : null;
  const cursor = { nextCursor, hasMore: result.hasMore };
  const pagination =
    result.total === undefined
      ? { limit: query.limit, ...cursor }
      : { ...offsetPagination(query.page ?? 1, query.limit, result.total), ...cursor };
  return { success: true as const, data: result.rows.map((row) => toTaskResponse(row, key(row))), pagination };
}

export const tasksRoutes =
  (service: TasksService, clock: () => Date = () => new Date()): FastifyPluginAsyncZod =>
  async (app) => {
    app.post(
      '/projects/:projectId/tasks',
      {
        config: { idempotent: true },
        schema: {
          tags,
          summary: 'Create a task (member or above); it gets the next number of the project (WEB-42). Accepts Idempotency-Key.',
          params: projectIdParams,
          body: createTaskBody,
          response: { 201: taskEnvelope, ...errorResponses(400, 401, 403, 404, 409, 422) },
        },
      },
      async (req, reply) => {
        const view = await service.createTask(actorOf(req), req.params.projectId, req.body);
        reply.code(201).header('location', `/api/v1/tasks/${view.task.id}`);
        notModified(req, reply, view.task.version);
        return one(view);
      },
    );

    app.get(
      '/projects/:projectId/tasks',
      {
        schema: {
          tags,
          summary: 'Tasks of a project: filters, sort, full-text search; offset pages (with nextCursor) or cursor pages',
          params: projectIdParams,
          querystring: listTasksQuery,
          response: { 200: taskListEnvelope, ...errorResponses(400, 401, 404) },
        },
      },
      async (req) => {
        const actor = actorOf(req);
        const filter = toFilter(req.query, actor.userId, clock());
        const result = await service.listTasks(actor, req.params.projectId, filter);
        return listReply(req.query, filter, result, () => result.projectKey);
      },
    );

    app.get(
      '/users/me/tasks',
      {
        schema: {
          tags,
          summary: 'My tasks: assigned to you, across every workspace and project you can see',
          querystring: listMyTasksQuery,
          response: { 200: taskListEnvelope, ...errorResponses(400, 401) },
        },
      },
      async (req) => {
        const actor = actorOf(req);
        const filter = toFilter(req.query, actor.userId, clock());
        const result = await service.listMyTasks(actor, filter);
        return listReply(req.query, filter, result, (row) => row.projectKey ?? '');
      },
    );

    app.get(
      '/projects/:projectId/tasks/:taskKey',
      {
        schema: {
          tags,
          summary: 'One task by its key (WEB-42) or number (42) within a project (ETag; If-None-Match → 304)',
          params: taskKeyParams,
          response: { 200: taskEnvelope, ...errorResponses(400, 401, 404) },
        },
      },
      async (req, reply) => {
        const [prefix, digits] = req.params.taskKey.includes('-') ? req.params.taskKey.split('-') : [undefined, req.params.taskKey];
        const view = await service.getTaskByNumber(actorOf(req), req.params.projectId, Number(digits), prefix);
        if (notModified(req, reply, view.task.version)) return sendNotModified(reply);
        return one(view);
      },
    );

    app.post(
      '/projects/:projectId/tasks/bulk-update',
      {
        schema: {
          tags,
          summary: 'Change status, assignee or labels of up to 100 tasks at once: all change, or none',
          params: projectIdParams,
          body: bulkUpdateBody,
          response: { 200: taskListEnvelope.pick({ success: true, data: true }), ...errorResponses(400, 401, 403, 404, 409) },
        },
      },
      async (req) => {
        const views = await service.bulkUpdate(actorOf(req), req.params.projectId, req.body.ids, req.body.set);
        return { success: true as const, data: views.map((v) => toTaskResponse(v.task, v.projectKey)) };
      },
    );

    app.get(
      '/tasks/:taskId',
      {
        schema: {
          tags,
          summary: 'One task (ETag; If-None-Match → 304)',
          params: taskIdParams,
          response: { 200: taskEnvelope, ...errorResponses(400, 401, 404) },
        },
      },
      async (req, reply) => {
        const view = await service.getTask(actorOf(req), req.params.taskId);
        if (notModified(req, reply, view.task.version)) return sendNotModified(reply);
        return one(view);
      },
    );

    for (const [method, body, summary] of [
      ['PATCH', patchTaskBody, 'Change the given fields of a task (If-Match → 412)'],
      ['PUT', replaceTaskBody, 'Replace every writable field of a task (If-Match → 412)'],
    ] as const) {
      app.route({
        method,
        url: '/tasks/:taskId',
        schema: {
          tags,
          summary,
          params: taskIdParams,
          body,
          response: { 200: taskEnvelope, ...errorResponses(400, 401, 403, 404, 409, 412) },
        },
        handler: async (req, reply) => {
          const view = await service.updateTask(actorOf(req), req.params.taskId, req.body, ifMatchVersions(req));
          notModified(req, reply, view.task.version);
          return one(view);
        },
      });
    }

    app.post(
      '/tasks/:taskId/move',
      {
        schema: {
          tags,
          summary: 'Move a task on the board: to another status column and/or after or before a neighbour (If-Match → 412)',
          params: taskIdParams,
          body: moveTaskBody,
          response: { 200: taskEnvelope, ...errorResponses(400, 401, 403, 404, 409, 412) },
        },
      },
      async (req, reply) => {
        const view = await service.moveTask(actorOf(req), req.params.taskId, req.body, ifMatchVersions(req));
        notModified(req, reply, view.task.version);
        return one(view);
      },
    );

    app.delete(
      '/tasks/:taskId',
      {
        schema: {
          tags,
          summary: 'Delete a task (its activity stays for reports; If-Match → 412)',
          params: taskIdParams,
          response: { 200: messageSchema, ...errorResponses(400, 401, 403, 404, 409, 412) },
        },
      },
      async (req) => {
        await service.deleteTask(actorOf(req), req.params.taskId, ifMatchVersions(req));
        return { success: true as const, message: 'Task deleted successfully' };
      },
    );

    app.get(
      '/tasks/:taskId/activity',
      {
        schema: {
          tags,
          summary: 'History of a task, oldest first: who changed what, with before and after (cursor pages)',
          params: taskIdParams,
          querystring: activityQuery,
          response: { 200: activityListEnvelope, ...errorResponses(400, 401, 404) },
        },
      },
      async (req) => {
        let afterId: string | undefined;
        if (req.query.cursor !== undefined) {
          const parts = decodeCursor(req.query.cursor);
          if (!parts || typeof parts[0] !== 'string' || !isUuid(parts[0])) throw badCursor();
          afterId = parts[0];
        }
        const { rows, hasMore } = await service.listActivity(actorOf(req), req.params.taskId, { limit: req.query.limit, afterId });
        const last = rows.at(-1);
        return {
          success: true as const,
          data: rows.map((a) => ({
            id: a.id,
            taskId: a.taskId,
            actorId: a.actorId,
            verb: a.verb,
            changes: a.changes,
            createdAt: a.createdAt.toISOString(),
          })),
          pagination: { limit: req.query.limit, nextCursor: hasMore && last ? encodeCursor([last.id]) : null, hasMore },
        };
      },
    );
  };
