import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ifMatchVersions, notModified, sendNotModified } from '../../platform/http/conditional.js';
import { actorOf, requestMeta } from '../../platform/http/context.js';
import { errorResponses, messageSchema, offsetPagination } from '../../platform/http/schemas.js';
import {
  changeRoleBody,
  createWorkspaceBody,
  deleteWorkspaceBody,
  listMembersQuery,
  listWorkspacesQuery,
  memberListEnvelope,
  memberParams,
  toMemberResponse,
  toWorkspaceResponse,
  updateWorkspaceBody,
  workspaceEnvelope,
  workspaceIdParams,
  workspaceListEnvelope,
} from './workspaces.schemas.js';
import type { WorkspacesService } from './workspaces.service.js';

const tags = ['workspaces'];

export const workspacesRoutes =
  (service: WorkspacesService): FastifyPluginAsyncZod =>
  async (app) => {
    app.post(
      '/workspaces',
      {
        config: { idempotent: true },
        schema: {
          tags,
          summary: 'Create a workspace (you become its owner; the slug is derived from the name unless given)',
          body: createWorkspaceBody,
          response: { 201: workspaceEnvelope, ...errorResponses(400, 401, 409, 422) },
        },
      },
      async (req, reply) => {
        const created = await service.createWorkspace(actorOf(req), req.body, requestMeta(req));
        reply.code(201).header('location', `/api/v1/workspaces/${created.workspace.id}`);
        notModified(req, reply, created.workspace.version);
        return { success: true as const, data: toWorkspaceResponse(created) };
      },
    );

    app.get(
      '/workspaces',
      {
        schema: {
          tags,
          summary: 'Workspaces you belong to, with your role in each',
          querystring: listWorkspacesQuery,
          response: { 200: workspaceListEnvelope, ...errorResponses(400, 401) },
        },
      },
      async (req) => {
        const { page, limit } = req.query;
        const { rows, total } = await service.listMyWorkspaces(actorOf(req), { limit, offset: (page - 1) * limit });
        return { success: true as const, data: rows.map(toWorkspaceResponse), pagination: offsetPagination(page, limit, total) };
      },
    );

    app.get(
      '/workspaces/:workspaceId',
      {
        schema: {
          tags,
          summary: 'One workspace (ETag; If-None-Match → 304)',
          params: workspaceIdParams,
          response: { 200: workspaceEnvelope, ...errorResponses(400, 401, 404) },
        },
      },
      async (req, reply) => {
        const found = await service.getWorkspace(actorOf(req), req.params.workspaceId);
        if (notModified(req, reply, found.workspace.version)) return sendNotModified(reply);
        return { success: true as const, data: toWorkspaceResponse(found) };
      },
    );

    app.patch(
      '/workspaces/:workspaceId',
      {
        schema: {
          tags,
          summary: 'Rename a workspace or change its slug (admin or owner; If-Match → 412)',
          params: workspaceIdParams,
          body: updateWorkspaceBody,
          response: { 200: workspaceEnvelope, ...errorResponses(400, 401, 403, 404, 409, 412) },
        },
      },
      async (req, reply) => {
        const updated = await service.updateWorkspace(
          actorOf(req),
          req.params.workspaceId,
          req.body,
          requestMeta(req),
          ifMatchVersions(req),
        );
        notModified(req, reply, updated.workspace.version);
        return { success: true as const, data: toWorkspaceResponse(updated) };
      },
    );

    app.delete(
      '/workspaces/:workspaceId',
      {
        schema: {
          tags,
          summary: 'Delete a workspace and everything in it (owner; body { confirm: "<slug>" })',
          params: workspaceIdParams,
          body: deleteWorkspaceBody,
          response: { 200: messageSchema, ...errorResponses(400, 401, 403, 404, 412) },
        },
      },
      async (req) => {
        await service.deleteWorkspace(actorOf(req), req.params.workspaceId, req.body.confirm, requestMeta(req), ifMatchVersions(req));
        return { success: true as const, message: 'Workspace deleted successfully' };
      },
    );

    app.get(
      '/workspaces/:workspaceId/members',
      {
        schema: {
          tags,
          summary: 'Members of a workspace and their roles',
          params: workspaceIdParams,
          querystring: listMembersQuery,
          response: { 200: memberListEnvelope, ...errorResponses(400, 401, 404) },
        },
      },
      async (req) => {
        const { page, limit, role } = req.query;
        const { rows, total } = await service.listMembers(actorOf(req), req.params.workspaceId, {
          limit,
          offset: (page - 1) * limit,
          role,
        });
        return { success: true as const, data: rows.map(toMemberResponse), pagination: offsetPagination(page, limit, total) };
      },
    );

    app.patch(
      '/workspaces/:workspaceId/members/:userId',
      {
        schema: {
          tags,
          summary: "Change a member's role (admins manage admins, members and guests; only owners make or unmake owners)",
          params: memberParams,
          body: changeRoleBody,
          response: { 200: messageSchema, ...errorResponses(400, 401, 403, 404, 409) },
        },
      },
      async (req) => {
        await service.changeMemberRole(actorOf(req), req.params.workspaceId, req.params.userId, req.body.role, requestMeta(req));
        return { success: true as const, message: 'Member role changed successfully' };
      },
    );

    app.delete(
      '/workspaces/:workspaceId/members/:userId',
      {
        schema: {
          tags,
          summary: 'Remove a member (admin or owner), or leave (your own id); the last owner can do neither',
          params: memberParams,
          response: { 200: messageSchema, ...errorResponses(400, 401, 403, 404, 409) },
        },
      },
      async (req) => {
        await service.removeMember(actorOf(req), req.params.workspaceId, req.params.userId, requestMeta(req));
        return { success: true as const, message: 'Member deleted successfully' };
      },
    );
  };
