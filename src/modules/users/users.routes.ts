import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ifMatchVersions, notModified, sendNotModified } from '../../platform/http/conditional.js';
import { actorOf, requestMeta } from '../../platform/http/context.js';
import { errorResponses, messageSchema, offsetPagination } from '../../platform/http/schemas.js';
import {
  listUsersQuery,
  replaceUserBody,
  toUserResponse,
  updateMeBody,
  userEnvelope,
  userIdParams,
  userListEnvelope,
} from './users.schemas.js';
import type { UsersService } from './users.service.js';

export const usersRoutes =
  (service: UsersService): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/users',
      {
        schema: {
          tags: ['users'],
          summary: 'List users (offset pagination, search, filter, sort)',
          querystring: listUsersQuery,
          response: { 200: userListEnvelope, ...errorResponses(400, 401, 429) },
        },
      },
      async (req) => {
        const { page, limit, q, role, sort } = req.query;
        const { rows, total } = await service.listUsers(actorOf(req), { q, role, sort, limit, offset: (page - 1) * limit });
        return {
          success: true as const,
          data: rows.map(toUserResponse),
          pagination: offsetPagination(page, limit, total),
        };
      },
    );

    app.get(
      '/users/me',
      {
        schema: {
          tags: ['users'],
          summary: 'The signed-in user (ETag; If-None-Match → 304)',
          response: { 200: userEnvelope, ...errorResponses(401, 404) },
        },
      },
      async (req, reply) => {
        const user = await service.getMe(actorOf(req));
        if (notModified(req, reply, user.version)) return sendNotModified(reply);
        return { success: true as const, data: toUserResponse(user) };
      },
    );

    app.patch(
      '/users/me',
      {
        schema: {
          tags: ['users'],
          summary: 'Change your own name or e-mail (a new address must be verified again)',
          body: updateMeBody,
          response: { 200: userEnvelope, ...errorResponses(400, 401, 409, 412) },
        },
      },
      async (req, reply) => {
        const user = await service.updateMe(actorOf(req), req.body, requestMeta(req), ifMatchVersions(req));
        notModified(req, reply, user.version);
        return { success: true as const, data: toUserResponse(user) };
      },
    );

    app.get(
      '/users/:id',
      {
        schema: {
          tags: ['users'],
          summary: 'One user (ETag; If-None-Match → 304)',
          params: userIdParams,
          response: { 200: userEnvelope, ...errorResponses(400, 401, 404) },
        },
      },
      async (req, reply) => {
        const user = await service.getUser(actorOf(req), req.params.id);
        if (notModified(req, reply, user.version)) return sendNotModified(reply);
        return { success: true as const, data: toUserResponse(user) };
      },
    );

    app.put(
      '/users/:id',
      {
        schema: {
          tags: ['users'],
          summary: 'Replace a user (yourself, or anyone as an admin; only an admin may set role)',
          params: userIdParams,
          body: replaceUserBody,
          response: { 200: userEnvelope, ...errorResponses(400, 401, 403, 404, 409, 412) },
        },
      },
      async (req, reply) => {
        const user = await service.replaceUser(actorOf(req), req.params.id, req.body, requestMeta(req), ifMatchVersions(req));
        notModified(req, reply, user.version);
        return { success: true as const, data: toUserResponse(user) };
      },
    );

    app.delete(
      '/users/:id',
      {
        config: { role: 'admin' },
        schema: {
          tags: ['users', 'admin'],
          summary: 'Delete a user (admin): sessions and personal data go, authored content stays',
          params: userIdParams,
          response: { 200: messageSchema, ...errorResponses(400, 401, 403, 404, 409, 412) },
        },
      },
      async (req) => {
        await service.deleteUser(actorOf(req), req.params.id, requestMeta(req), ifMatchVersions(req));
        return { success: true as const, message: 'User deleted successfully' };
      },
    );
  };
