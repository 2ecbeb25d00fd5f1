import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { actorOf } from '../../platform/http/context.js';
import { errorResponses, offsetPagination } from '../../platform/http/schemas.js';
import { projectIdParams } from '../projects/projects.schemas.js';
import { toTaskResponse } from '../tasks/tasks.schemas.js';
import {
  burndownEnvelope,
  burndownQuery,
  cycleTimeEnvelope,
  cycleTimeQuery,
  overdueEnvelope,
  overdueQuery,
  summaryEnvelope,
  summaryQuery,
  throughputEnvelope,
  timeReportEnvelope,
  weeklyQuery,
} from './reports.schemas.js';
import type { ReportsService } from './reports.service.js';

const tags = ['reports'];
const params = projectIdParams;
const failures = errorResponses(400, 401, 404);

export const reportsRoutes =
  (service: ReportsService): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/projects/:projectId/reports/summary',
      {
        schema: {
          tags,
          summary: 'Counts of the tasks now: by status, priority and assignee (with unassigned), open, overdue (before today in tz)',
          params,
          querystring: summaryQuery,
          response: { 200: summaryEnvelope, ...failures },
        },
      },
      async (req) => ({ success: true as const, data: await service.summary(actorOf(req), req.params.projectId, req.query.tz) }),
    );

    app.get(
      '/projects/:projectId/reports/overdue',
      {
        schema: {
          tags,
          summary: 'Overdue tasks (due before today in tz, not done or cancelled), oldest due first; offset pages',
          params,
          querystring: overdueQuery,
          response: { 200: overdueEnvelope, ...failures },
        },
      },
      async (req) => {
        const { rows, total, projectKey } = await service.listOverdueTasks(actorOf(req), req.params.projectId, req.query);
        return {
          success: true as const,
          data: rows.map((t) => toTaskResponse(t, projectKey)),
          pagination: offsetPagination(req.query.page, req.query.limit, total),
        };
      },
    );

    app.get(
      '/projects/:projectId/reports/throughput',
      {
        schema: {
          tags,
          summary:
            'Tasks completed per ISO week (Monday to Sunday in tz), every week of the range included; from the history, so a task reopened and completed again counts in both weeks. At most 731 days',
          params,
          querystring: weeklyQuery,
          response: { 200: throughputEnvelope, ...failures },
        },
      },
      async (req) => ({ success: true as const, data: await service.throughput(actorOf(req), req.params.projectId, req.query) }),
    );

    app.get(
      '/projects/:projectId/reports/cycle-time',
      {
        schema: {
          tags,
          summary:
            'Median and 90th percentile hours from first entering in_progress to the last completion in the range, over tasks completed in the range (null when none). At most 731 days',
          params,
          querystring: cycleTimeQuery,
          response: { 200: cycleTimeEnvelope, ...failures },
        },
      },
      async (req) => ({ success: true as const, data: await service.cycleTime(actorOf(req), req.params.projectId, req.query) }),
    );

    app.get(
      '/projects/:projectId/reports/burndown',
      {
        schema: {
          tags,
          summary:
            'Open tasks at the end of each day of the range (in tz), replayed from the history, with an ideal line. At most 366 days',
          params,
          querystring: burndownQuery,
          response: { 200: burndownEnvelope, ...failures },
        },
      },
      async (req) => ({ success: true as const, data: await service.burndown(actorOf(req), req.params.projectId, req.query) }),
    );

    app.get(
      '/projects/:projectId/reports/time',
      {
        schema: {
          tags,
          summary:
            'Minutes tracked (ended entries, by the day they started in tz) per user and per ISO week, every week of the range included. At most 731 days',
          params,
          querystring: weeklyQuery,
          response: { 200: timeReportEnvelope, ...failures },
        },
      },
      async (req) => ({ success: true as const, data: await service.timeTracked(actorOf(req), req.params.projectId, req.query) }),
    );
  };
