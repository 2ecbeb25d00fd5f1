// The access check every workspace-scoped service makes first. Not being a member answers
// 404 (the workspace does not exist for the caller, so ids cannot be probed); being a member
// without the needed role answers 403.
import { forbidden, notFound } from '../../platform/errors.js';
import type { Actor } from '../../platform/http/context.js';
import { mayInWorkspace, type WorkspaceAction } from './workspaces.policy.js';
import type { WorkspacesRepository } from './workspaces.repository.js';
import type { WorkspaceRole, WorkspaceRow } from './workspaces.table.js';

export interface WorkspaceAccess {
  /** The workspace and the caller's role, once the caller may perform `action` in it. */
  requireWorkspace(actor: Actor, workspaceId: string, action: WorkspaceAction): Promise<{ workspace: WorkspaceRow; role: WorkspaceRole }>;
  /** Which of these users are members of the workspace. */
  memberIds(workspaceId: string, userIds: readonly string[]): Promise<Set<string>>;
}

export function createWorkspaceAccess(repo: WorkspacesRepository): WorkspaceAccess {
  return {
    async requireWorkspace(actor, workspaceId, action) {
      const found = await repo.findForMember(workspaceId, actor.userId);
      if (!found) throw notFound('workspace');
      if (!mayInWorkspace(found.role, action)) throw forbidden();
      return found;
    },
    memberIds: (workspaceId, userIds) => repo.memberIds(workspaceId, userIds),
  };
}
