import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { actorOf } from '../../platform/http/context.js';
import { errorResponses, messageSchema, offsetPagination } from '../../platform/http/schemas.js';
import { projectIdParams } from '../projects/projects.schemas.js';
import { taskIdParams } from '../tasks/tasks.schemas.js';
import type { TimeEntryView } from './time.repository.js';
import {
  entryIdParams,
  listTaskEntriesQuery,
  logTimeBody,
  myEntriesQuery,
  patchEntryBody,
  projectSummaryQuery,
  projectTimeSummaryEnvelope,
  startTimerBody,
  taskTimeSummaryEnvelope,
  timeEntryEnvelope,
  timeEntryListEnvelope,
  toTimeEntryResponse,
} from './time.schemas.js';
import type { TimeService } from './time.service.js';

const tags = ['time'];
const one = (entry: TimeEntryView) => ({ success: true as const, data: toTimeEntryResponse(entry) });
const list = (page: number, limit: number, result: { rows: TimeEntryView[]; total: number; totalMinutes: number }) => ({
  success: true as const,
  data: result.rows.map(toTimeEntryResponse),
  pagination: offsetPagination(page, limit, result.total),
  totalMinutes: result.totalMinutes,
});

export const timeRoutes =
  (service: TimeService): FastifyPluginAsyncZod =>
  async (app) => {
    app.post(
      '/tasks/:taskId/timer',
      {
        config: { idempotent: true },
        schema: {
          tags,
          summary:
            'Start your timer on a task (member or above). One timer per person: 409 naming the task while another runs. Accepts Idempotency-Key.',
          params: taskIdParams,
          body: startTimerBody,
          response: { 201: timeEntryEnvelope, ...errorResponses(400, 401, 403, 404, 409, 422) },
        },
      },
      async (req, reply) => {
        const entry = await service.startTimer(actorOf(req), req.params.taskId, req.body?.note);
        reply.code(201).header('location', `/api/v1/time-entries/${entry.id}`);
        return one(entry);
      },
    );

    app.get(
      '/users/me/timer',
      {
        schema: {
          tags,
          summary: 'Your running timer (404 when none runs)',
          response: { 200: timeEntryEnvelope, ...errorResponses(401, 404) },
        },
      },
      async (req) => one(await service.getRunningTimer(actorOf(req))),
    );

    app.post(
      '/users/me/timer/stop',
      {
        schema: {
          tags,
          summary: 'Stop your running timer: the entry gets its end and its whole minutes, rounded down (404 when none runs)',
          response: { 200: timeEntryEnvelope, ...errorResponses(401, 404) },
        },
      },
      async (req) => one(await service.stopTimer(actorOf(req))),
    );

    app.post(
      '/tasks/:taskId/time-entries',
      {
        config: { idempotent: true },
        schema: {
          tags,
          summary:
            'Log time by hand (member or above): startedAt and either endedAt or minutes; at most 24 hours, not in the future. Accepts Idempotency-Key.',
          params: taskIdParams,
          body: logTimeBody,
          response: { 201: timeEntryEnvelope, ...errorResponses(400, 401, 403, 404, 409, 422) },
        },
      },
      async (req, reply) => {
        const entry = await service.logTime(actorOf(req), req.params.taskId, req.body);
        reply.code(201).header('location', `/api/v1/time-entries/${entry.id}`);
        return one(entry);
      },
    );

    app.get(
      '/tasks/:taskId/time-entries',
      {
        schema: {
          tags,
          summary: "Everyone's time entries on a task, newest first (offset pages), with totalMinutes of the finished ones",
          params: taskIdParams,
          querystring: listTaskEntriesQuery,
          response: { 200: timeEntryListEnvelope, ...errorResponses(400, 401, 404) },
        },
      },
      async (req) => {
        const { page, limit } = req.query;
        return list(page, limit, await service.listTaskEntries(actorOf(req), req.params.taskId, { limit, offset: (page - 1) * limit }));
      },
    );

    app.get(
      '/tasks/:taskId/time-summary',
      {
        schema: {
          tags,
          summary: 'Time tracked on a task: total minutes and minutes per person (finished entries)',
          params: taskIdParams,
          response: { 200: taskTimeSummaryEnvelope, ...errorResponses(400, 401, 404) },
        },
      },
      async (req) => ({
        success: true as const,
        data: { taskId: req.params.taskId, ...(await service.taskSummary(actorOf(req), req.params.taskId)) },
      }),
    );

    app.get(
      '/time-entries/:entryId',
      {
        schema: {
          tags,
          summary: 'One time entry (anyone who can see its project)',
          params: entryIdParams,
          response: { 200: timeEntryEnvelope, ...errorResponses(400, 401, 404) },
        },
      },
      async (req) => one(await service.getEntry(actorOf(req), req.params.entryId)),
    );

    app.patch(
      '/time-entries/:entryId',
      {
        schema: {
          tags,
          summary:
            'Change your own entry. Moving only startedAt keeps the length; endedAt or minutes change it. A running timer takes only startedAt and note',
          params: entryIdParams,
          body: patchEntryBody,
          response: { 200: timeEntryEnvelope, ...errorResponses(400, 401, 403, 404, 409) },
        },
      },
      async (req) => one(await service.updateEntry(actorOf(req), req.params.entryId, req.body)),
    );

    app.delete(
      '/time-entries/:entryId',
      {
        schema: {
          tags,
          summary: 'Delete your own entry (a running timer is discarded)',
          params: entryIdParams,
          response: { 200: messageSchema, ...errorResponses(400, 401, 403, 404, 409) },
        },
      },
      async (req) => {
        await service.deleteEntry(actorOf(req), req.params.entryId);
        return { success: true as const, message: 'Time entry deleted successfully' };
      },
    );

    app.get(
      '/projects/:projectId/time-summary',
      {
        schema: {
          tags,
          summary: 'Time tracked in a project between two days (in tz, by entry start): total, per person, and the top tasks',
          params: projectIdParams,
          querystring: projectSummaryQuery,
          response: { 200: projectTimeSummaryEnvelope, ...errorResponses(400, 401, 404) },
        },
      },
      async (req) => {
        const { from, to, tz, top } = req.query;
        const summary = await service.projectSummary(actorOf(req), req.params.projectId, { from, to, tz }, top);
        return { success: true as const, data: { projectId: req.params.projectId, from: from ?? null, to: to ?? null, tz, ...summary } };
      },
    );

    app.get(
      '/users/me/time-entries',
      {
        schema: {
          tags,
          summary: 'Your time entries across the workspaces and projects you can see, newest first, with totalMinutes',
          querystring: myEntriesQuery,
          response: { 200: timeEntryListEnvelope, ...errorResponses(400, 401) },
        },
      },
      async (req) => {
        const { from, to, tz, page, limit } = req.query;
        return list(page, limit, await service.listMyEntries(actorOf(req), { from, to, tz }, { limit, offset: (page - 1) * limit }));
      },
    );
  };
