// Comments: anyone who can see the project reads and comments (guests added to it included);
// only the author edits; the author or a workspace admin or owner deletes.
import { call } from './fresh.js';
import { type AuthzRow, type Caller, expectations, type Fixture } from './types.js';

/** A new comment by the member on the fixture task. */
const memberComment = async (f: Fixture): Promise<string> =>
  (await call(f, f.users.member, 'POST', `/api/v1/tasks/${f.task.id}/comments`, { body: 'Written for the matrix' })).id;

const hidden = { guest: 404, outsider: 404, anonymous: 401 } as const;
const onlyAuthor: Record<Caller, number> = { owner: 403, admin: 403, member: 200, projectGuest: 403, ...hidden };
const authorOrAdmin: Record<Caller, number> = { owner: 200, admin: 200, member: 200, projectGuest: 403, ...hidden };

export const rows: AuthzRow[] = [
  {
    method: 'GET',
    route: '/api/v1/tasks/:taskId/comments',
    expect: expectations.projectRead(200),
    request: (f) => ({ path: `/api/v1/tasks/${f.task.id}/comments` }),
  },
  {
    method: 'POST',
    route: '/api/v1/tasks/:taskId/comments',
    expect: expectations.projectRead(201),
    request: (f) => ({ path: `/api/v1/tasks/${f.task.id}/comments`, body: { body: 'A comment from the matrix' } }),
  },
  {
    method: 'GET',
    route: '/api/v1/comments/:commentId',
    expect: expectations.projectRead(200),
    request: async (f) => ({ path: `/api/v1/comments/${await memberComment(f)}` }),
  },
  {
    method: 'PATCH',
    route: '/api/v1/comments/:commentId',
    // The member wrote it; nobody else edits another's words, admins and owners included.
    expect: onlyAuthor,
    request: async (f) => ({ path: `/api/v1/comments/${await memberComment(f)}`, body: { body: 'Edited by the matrix' } }),
  },
  {
    method: 'DELETE',
    route: '/api/v1/comments/:commentId',
    expect: authorOrAdmin,
    request: async (f) => ({ path: `/api/v1/comments/${await memberComment(f)}` }),
  },
];
