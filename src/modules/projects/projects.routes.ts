import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ifMatchVersions, notModified, sendNotModified } from '../../platform/http/conditional.js';
import { actorOf, requestMeta } from '../../platform/http/context.js';
import { errorResponses, messageSchema, offsetPagination } from '../../platform/http/schemas.js';
import { workspaceIdParams } from '../workspaces/workspaces.schemas.js';
import {
  addProjectMemberBody,
  createProjectBody,
  deleteProjectBody,
  listProjectMembersQuery,
  listProjectsQuery,
  projectEnvelope,
  projectIdParams,
  projectListEnvelope,
  projectMemberListEnvelope,
  projectMemberParams,
  toProjectResponse,
  updateProjectBody,
} from './projects.schemas.js';
import type { ProjectsService } from './projects.service.js';

const tags = ['projects'];

export const projectsRoutes =
  (service: ProjectsService): FastifyPluginAsyncZod =>
  async (app) => {
    app.post(
      '/workspaces/:workspaceId/projects',
      {
        config: { idempotent: true },
        schema: {
          tags,
          summary: 'Create a project (admin or owner); its key prefixes task numbers (WEB-42)',
          params: workspaceIdParams,
          body: createProjectBody,
          response: { 201: projectEnvelope, ...errorResponses(400, 401, 403, 404, 409, 422) },
        },
      },
      async (req, reply) => {
        const grant = await service.createProject(actorOf(req), req.params.workspaceId, req.body, requestMeta(req));
        reply.code(201).header('location', `/api/v1/projects/${grant.project.id}`);
        notModified(req, reply, grant.project.version);
        return { success: true as const, data: toProjectResponse(grant) };
      },
    );

    app.get(
      '/workspaces/:workspaceId/projects',
      {
        schema: {
          tags,
          summary: 'Projects of a workspace (guests see only those they were added to)',
          params: workspaceIdParams,
          querystring: listProjectsQuery,
          response: { 200: projectListEnvelope, ...errorResponses(400, 401, 404) },
        },
      },
      async (req) => {
        const { page, limit, archived, q } = req.query;
        const { rows, total, role } = await service.listProjects(actorOf(req), req.params.workspaceId, {
          archived,
          q,
          limit,
          offset: (page - 1) * limit,
        });
        return {
          success: true as const,
          data: rows.map((project) => toProjectResponse({ project, role })),
          pagination: offsetPagination(page, limit, total),
        };
      },
    );

    app.get(
      '/projects/:projectId',
      {
        schema: {
          tags,
          summary: 'One project (ETag; If-None-Match → 304)',
          params: projectIdParams,
          response: { 200: projectEnvelope, ...errorResponses(400, 401, 404) },
        },
      },
      async (req, reply) => {
        const grant = await service.getProject(actorOf(req), req.params.projectId);
        if (notModified(req, reply, grant.project.version)) return sendNotModified(reply);
        return { success: true as const, data: toProjectResponse(grant) };
      },
    );

    app.patch(
      '/projects/:projectId',
      {
        schema: {
          tags,
          summary: 'Rename a project or change its description (admin or owner; If-Match → 412). The key never changes.',
          params: projectIdParams,
          body: updateProjectBody,
          response: { 200: projectEnvelope, ...errorResponses(400, 401, 403, 404, 409, 412) },
        },
      },
      async (req, reply) => {
        const grant = await service.updateProject(actorOf(req), req.params.projectId, req.body, ifMatchVersions(req));
        notModified(req, reply, grant.project.version);
        return { success: true as const, data: toProjectResponse(grant) };
      },
    );

    for (const [path, archived, summary] of [
      ['/projects/:projectId/archive', true, 'Archive a project: it becomes read-only (admin or owner)'],
      ['/projects/:projectId/unarchive', false, 'Unarchive a project (admin or owner)'],
    ] as const) {
      app.post(
        path,
        {
          schema: {
            tags,
            summary,
            params: projectIdParams,
            response: { 200: projectEnvelope, ...errorResponses(400, 401, 403, 404, 412) },
          },
        },
        async (req, reply) => {
          const grant = await service.setArchived(actorOf(req), req.params.projectId, archived, requestMeta(req), ifMatchVersions(req));
          notModified(req, reply, grant.project.version);
          return { success: true as const, data: toProjectResponse(grant) };
        },
      );
    }

    app.delete(
      '/projects/:projectId',
      {
        schema: {
          tags,
          summary: 'Delete a project with its tasks and history (admin or owner; body { confirm: "<KEY>" })',
          params: projectIdParams,
          body: deleteProjectBody,
          response: { 200: messageSchema, ...errorResponses(400, 401, 403, 404, 412) },
        },
      },
      async (req) => {
        await service.deleteProject(actorOf(req), req.params.projectId, req.body.confirm, requestMeta(req), ifMatchVersions(req));
        return { success: true as const, message: 'Project deleted successfully' };
      },
    );

    app.get(
      '/projects/:projectId/members',
      {
        schema: {
          tags,
          summary: 'People added to a project (how guests get to see it)',
          params: projectIdParams,
          querystring: listProjectMembersQuery,
          response: { 200: projectMemberListEnvelope, ...errorResponses(400, 401, 404) },
        },
      },
      async (req) => {
        const { page, limit } = req.query;
        const { rows, total } = await service.listMembers(actorOf(req), req.params.projectId, { limit, offset: (page - 1) * limit });
        return {
          success: true as const,
          data: rows.map((m) => ({ ...m, addedAt: m.addedAt.toISOString() })),
          pagination: offsetPagination(page, limit, total),
        };
      },
    );

    app.post(
      '/projects/:projectId/members',
      {
        config: { idempotent: true },
        schema: {
          tags,
          summary: 'Add a workspace member to a project (admin or owner)',
          params: projectIdParams,
          body: addProjectMemberBody,
          response: { 201: messageSchema, ...errorResponses(400, 401, 403, 404, 409) },
        },
      },
      async (req, reply) => {
        await service.addMember(actorOf(req), req.params.projectId, req.body.userId);
        reply.code(201).header('location', `/api/v1/projects/${req.params.projectId}/members`);
        return { success: true as const, message: 'Project member added successfully' };
      },
    );

    app.delete(
      '/projects/:projectId/members/:userId',
      {
        schema: {
          tags,
          summary: 'Remove someone from a project (admin or owner)',
          params: projectMemberParams,
          response: { 200: messageSchema, ...errorResponses(400, 401, 403, 404, 409) },
        },
      },
      async (req) => {
        await service.removeMember(actorOf(req), req.params.projectId, req.params.userId);
        return { success: true as const, message: 'Project member deleted successfully' };
      },
    );
  };
