// Who may change a comment: pure rules, asked after the project access check has passed.
import { atLeast } from '../workspaces/workspaces.policy.js';
import type { WorkspaceRole } from '../workspaces/workspaces.table.js';

/** Only the author edits their words (a deleted author's comments stay as they are). */
export const mayEditComment = (actorId: string, authorId: string | null): boolean => authorId !== null && authorId === actorId;

/** The author, or a workspace admin or owner moderating. */
export const mayDeleteComment = (actorId: string, role: WorkspaceRole, authorId: string | null): boolean =>
  mayEditComment(actorId, authorId) || atLeast(role, 'admin');
