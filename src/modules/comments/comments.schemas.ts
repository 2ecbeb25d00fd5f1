import { z } from 'zod';
import { cursorEnvelope, cursorQuery, dataEnvelope, idParam, iso } from '../../platform/http/schemas.js';
import type { TaskCommentRow } from './comments.table.js';

export const commentIdParams = z.strictObject({ commentId: idParam('comment') });

const commentBody = z
  .string()
  .min(1)
  .max(10_000)
  .refine((s) => s.trim().length > 0, { message: 'must not be empty' })
  .describe('Markdown, stored as written; mention a workspace member as <@USER_ID>');

export const createCommentBody = z.strictObject({ body: commentBody });
export const editCommentBody = z.strictObject({ body: commentBody });
export const listCommentsQuery = z.strictObject({ ...cursorQuery });

export const commentResponse = z
  .object({
    id: z.string(),
    taskId: z.string(),
    authorId: z.string().nullable().describe('Null when the author’s account was deleted'),
    body: z.string(),
    mentions: z.array(z.string()).describe('Workspace members mentioned in the body, in order of first mention'),
    editedAt: z.string().nullable(),
    createdAt: z.string(),
  })
  .meta({ id: 'Comment' });

export const toCommentResponse = (c: TaskCommentRow): z.infer<typeof commentResponse> => ({
  id: c.id,
  taskId: c.taskId,
  authorId: c.authorId,
  body: c.body,
  mentions: c.mentions,
  editedAt: iso(c.editedAt),
  createdAt: c.createdAt.toISOString(),
});

export const commentEnvelope = dataEnvelope(commentResponse);
export const commentListEnvelope = cursorEnvelope(commentResponse);
