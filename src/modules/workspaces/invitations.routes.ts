import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { actorOf, requestMeta } from '../../platform/http/context.js';
import { errorResponses, messageSchema, offsetPagination } from '../../platform/http/schemas.js';
import type { InvitationsService } from './invitations.service.js';
import {
  invitationEnvelope,
  invitationListEnvelope,
  invitationParams,
  invitationPreviewEnvelope,
  invitationTokenBody,
  inviteBody,
  listWorkspacesQuery,
  toInvitationResponse,
  toWorkspaceResponse,
  workspaceEnvelope,
  workspaceIdParams,
} from './workspaces.schemas.js';

export const invitationsRoutes =
  (service: InvitationsService): FastifyPluginAsyncZod =>
  async (app) => {
    app.post(
      '/workspaces/:workspaceId/invitations',
      {
        config: { idempotent: true },
        schema: {
          tags: ['invitations'],
          summary:
            'Invite someone by e-mail (admin or owner); the link works once and expires in 7 days. Inviting an address with an open invitation renews it (new link, role and expiry).',
          params: workspaceIdParams,
          body: inviteBody,
          response: { 201: invitationEnvelope, ...errorResponses(400, 401, 403, 404, 409, 422) },
        },
      },
      async (req, reply) => {
        const invitation = await service.invite(actorOf(req), req.params.workspaceId, req.body, requestMeta(req));
        reply.code(201).header('location', `/api/v1/workspaces/${invitation.workspaceId}/invitations/${invitation.id}`);
        return { success: true as const, data: toInvitationResponse(invitation) };
      },
    );

    app.get(
      '/workspaces/:workspaceId/invitations',
      {
        schema: {
          tags: ['invitations'],
          summary: 'Open invitations (admin or owner)',
          params: workspaceIdParams,
          querystring: listWorkspacesQuery,
          response: { 200: invitationListEnvelope, ...errorResponses(400, 401, 403, 404) },
        },
      },
      async (req) => {
        const { page, limit } = req.query;
        const { rows, total } = await service.listInvitations(actorOf(req), req.params.workspaceId, { limit, offset: (page - 1) * limit });
        return { success: true as const, data: rows.map(toInvitationResponse), pagination: offsetPagination(page, limit, total) };
      },
    );

    app.get(
      '/workspaces/:workspaceId/invitations/:invitationId',
      {
        schema: {
          tags: ['invitations'],
          summary: 'One invitation, open or not (admin or owner)',
          params: invitationParams,
          response: { 200: invitationEnvelope, ...errorResponses(400, 401, 403, 404) },
        },
      },
      async (req) => {
        const invitation = await service.getInvitation(actorOf(req), req.params.workspaceId, req.params.invitationId);
        return { success: true as const, data: toInvitationResponse(invitation) };
      },
    );

    app.delete(
      '/workspaces/:workspaceId/invitations/:invitationId',
      {
        schema: {
          tags: ['invitations'],
          summary: 'Revoke an open invitation (its link stops working)',
          params: invitationParams,
          response: { 200: messageSchema, ...errorResponses(400, 401, 403, 404, 409) },
        },
      },
      async (req) => {
        await service.revokeInvitation(actorOf(req), req.params.workspaceId, req.params.invitationId, requestMeta(req));
        return { success: true as const, message: 'Invitation deleted successfully' };
      },
    );

    app.post(
      '/workspaces/:workspaceId/invitations/:invitationId/resend',
      {
        schema: {
          tags: ['invitations'],
          summary: 'Send an invitation again with a new link and expiry (the old link stops working)',
          params: invitationParams,
          response: { 200: invitationEnvelope, ...errorResponses(400, 401, 403, 404, 409) },
        },
      },
      async (req) => {
        const invitation = await service.resendInvitation(actorOf(req), req.params.workspaceId, req.params.invitationId, requestMeta(req));
        return { success: true as const, data: toInvitationResponse(invitation) };
      },
    );

    // POST with the token in the body, not GET /invitations/:token: a path ends up in access
    // logs, proxies and browser history, and this token lets someone join a workspace.
    app.post(
      '/invitations/lookup',
      {
        config: { auth: 'none' },
        schema: {
          tags: ['invitations'],
          summary: 'What an invitation link offers: workspace, role, inviter (no sign-in: the token is the secret)',
          body: invitationTokenBody,
          response: { 200: invitationPreviewEnvelope, ...errorResponses(400) },
        },
      },
      async (req, reply) => {
        const { invitation, workspace, inviter } = await service.previewInvitation(req.body.token);
        reply.header('cache-control', 'no-store');
        return {
          success: true as const,
          data: {
            workspace: { id: workspace.id, name: workspace.name, slug: workspace.slug },
            email: invitation.email,
            role: invitation.role,
            invitedBy: inviter,
            expiresAt: invitation.expiresAt.toISOString(),
          },
        };
      },
    );

    app.post(
      '/invitations/accept',
      {
        schema: {
          tags: ['invitations'],
          summary:
            'Accept an invitation as the signed-in user (the invitation must be for your address). New users register with `invitationToken` instead.',
          body: invitationTokenBody,
          response: { 200: workspaceEnvelope, ...errorResponses(400, 401, 403, 409) },
        },
      },
      async (req) => {
        const joined = await service.acceptInvitation(actorOf(req), req.body.token, requestMeta(req));
        return { success: true as const, data: toWorkspaceResponse(joined) };
      },
    );
  };
