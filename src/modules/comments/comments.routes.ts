import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { validationFailed } from '../../platform/errors.js';
import { actorOf } from '../../platform/http/context.js';
import { decodeCursor, encodeCursor, errorResponses, messageSchema } from '../../platform/http/schemas.js';
import { taskIdParams } from '../tasks/tasks.schemas.js';
import {
  commentEnvelope,
  commentIdParams,
  commentListEnvelope,
  createCommentBody,
  editCommentBody,
  listCommentsQuery,
  toCommentResponse,
} from './comments.schemas.js';
import type { CommentsService } from './comments.service.js';

const tags = ['comments'];

export const commentsRoutes =
  (service: CommentsService): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/tasks/:taskId/comments',
      {
        schema: {
          tags,
          summary: 'Comments on a task, oldest first, without deleted ones (cursor pages)',
          params: taskIdParams,
          querystring: listCommentsQuery,
          response: { 200: commentListEnvelope, ...errorResponses(400, 401, 404) },
        },
      },
      async (req) => {
        let afterId: string | undefined;
        if (req.query.cursor !== undefined) {
          const [id] = decodeCursor(req.query.cursor) ?? [];
          if (typeof id !== 'string') throw validationFailed([{ path: 'cursor', message: 'is invalid' }]);
          afterId = id;
        }
        const { rows, hasMore } = await service.listComments(actorOf(req), req.params.taskId, { limit: req.query.limit, afterId });
        const last = rows.at(-1);
        return {
          success: true as const,
          data: rows.map(toCommentResponse),
          pagination: { limit: req.query.limit, nextCursor: hasMore && last ? encodeCursor([last.id]) : null, hasMore },
        };
      },
    );

    app.post(
      '/tasks/:taskId/comments',
      {
        config: { idempotent: true },
        schema: {
          tags,
          summary:
            'Comment on a task (anyone who can see the project, guests included); <@USER_ID> mentions workspace members. Accepts Idempotency-Key.',
          params: taskIdParams,
          body: createCommentBody,
          response: { 201: commentEnvelope, ...errorResponses(400, 401, 404, 409, 422) },
        },
      },
      async (req, reply) => {
        const comment = await service.addComment(actorOf(req), req.params.taskId, req.body.body);
        reply.code(201).header('location', `/api/v1/comments/${comment.id}`);
        return { success: true as const, data: toCommentResponse(comment) };
      },
    );

    app.get(
      '/comments/:commentId',
      {
        schema: {
          tags,
          summary: 'One comment (deleted comments are not found)',
          params: commentIdParams,
          response: { 200: commentEnvelope, ...errorResponses(400, 401, 404) },
        },
      },
      async (req) => ({ success: true as const, data: toCommentResponse(await service.getComment(actorOf(req), req.params.commentId)) }),
    );

    app.patch(
      '/comments/:commentId',
      {
        schema: {
          tags,
          summary: 'Edit a comment (its author only); mentions are resolved again and editedAt is set',
          params: commentIdParams,
          body: editCommentBody,
          response: { 200: commentEnvelope, ...errorResponses(400, 401, 403, 404, 409) },
        },
      },
      async (req) => ({
        success: true as const,
        data: toCommentResponse(await service.editComment(actorOf(req), req.params.commentId, req.body.body)),
      }),
    );

    app.delete(
      '/comments/:commentId',
      {
        schema: {
          tags,
          summary: 'Delete a comment (its author, or a workspace admin or owner); the body is erased',
          params: commentIdParams,
          response: { 200: messageSchema, ...errorResponses(400, 401, 403, 404, 409) },
        },
      },
      async (req) => {
        await service.deleteComment(actorOf(req), req.params.commentId);
        return { success: true as const, message: 'Comment deleted successfully' };
      },
    );
  };
