import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { validationFailed } from '../../platform/errors.js';
import { actorOf } from '../../platform/http/context.js';
import { decodeCursor, encodeCursor, errorResponses } from '../../platform/http/schemas.js';
import { isUuid } from '../../platform/ids.js';
import { auditListResponse, listAuditQuery } from './audit.schemas.js';
import type { AuditService } from './audit.service.js';

export const auditRoutes =
  (service: AuditService): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/admin/audit',
      {
        config: { role: 'admin' },
        schema: {
          tags: ['admin'],
          summary: 'List audit events, newest first (cursor pagination)',
          querystring: listAuditQuery,
          response: { 200: auditListResponse, ...errorResponses(400, 401, 403, 429) },
        },
      },
      async (req) => {
        const { cursor, limit, ...filter } = req.query;
        let beforeId: string | undefined;
        if (cursor !== undefined) {
          const [id] = decodeCursor(cursor) ?? [];
          if (typeof id !== 'string' || !isUuid(id)) throw validationFailed([{ path: 'cursor', message: 'is not a valid cursor' }]);
          beforeId = id;
        }
        const { items, hasMore } = await service.listEvents(actorOf(req), { ...filter, beforeId, limit });
        const last = items.at(-1);
        return {
          success: true as const,
          data: items.map((e) => ({ ...e, createdAt: e.createdAt.toISOString() })),
          pagination: { limit, hasMore, nextCursor: hasMore && last ? encodeCursor([last.id]) : null },
        };
      },
    );
  };
