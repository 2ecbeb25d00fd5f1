// Who may do what inside a workspace: pure rules over the caller's workspace role (and, for
// guests, whether they were added to the project). The services ask these first, before
// anything else happens; the authorization matrix test checks every route against them.
import type { WorkspaceRole } from './workspaces.table.js';

const RANK: Record<WorkspaceRole, number> = { guest: 0, member: 1, admin: 2, owner: 3 };

export const atLeast = (role: WorkspaceRole, min: WorkspaceRole): boolean => RANK[role] >= RANK[min];

/** Actions on a workspace and the lowest role that may perform them. */
export const WORKSPACE_ACTIONS = {
  /** See the workspace, its members and the projects one may see. */
  read: 'guest',
  rename: 'admin',
  invite: 'admin',
  manageMembers: 'admin',
  createProject: 'admin',
  export: 'admin',
  delete: 'owner',
} as const satisfies Record<string, WorkspaceRole>;
export type WorkspaceAction = keyof typeof WORKSPACE_ACTIONS;

/** Actions inside a project the caller can see. */
export const PROJECT_ACTIONS = {
  /** Tasks, comments, activity, reports. */
  read: 'guest',
  /** Talk about work: comment (guests added to the project may). */
  comment: 'guest',
  /** Create, edit, move, delete tasks; track time; export. */
  write: 'member',
  /** Rename, archive, add members, import. */
  manage: 'admin',
} as const satisfies Record<string, WorkspaceRole>;
export type ProjectAction = keyof typeof PROJECT_ACTIONS;

export const mayInWorkspace = (role: WorkspaceRole, action: WorkspaceAction) => atLeast(role, WORKSPACE_ACTIONS[action]);

/** A guest sees only the projects they were added to; everyone else sees them all. */
export const maySeeProject = (role: WorkspaceRole, addedToProject: boolean) => role !== 'guest' || addedToProject;

export const mayInProject = (role: WorkspaceRole, action: ProjectAction) => atLeast(role, PROJECT_ACTIONS[action]);

/**
 * May `actor` give `target` (currently `from`, or a newcomer) the role `to`? Owners may do
 * anything; admins manage members and guests but can neither touch an owner nor make one.
 */
export function mayAssignRole(actor: WorkspaceRole, from: WorkspaceRole | undefined, to: WorkspaceRole): boolean {
  if (actor === 'owner') return true;
  if (actor !== 'admin') return false;
  return from !== 'owner' && to !== 'owner';
}

/** May `actor` remove a member whose role is `target` (leaving is always allowed, apart from the last owner). */
export function mayRemoveMember(actor: WorkspaceRole, target: WorkspaceRole): boolean {
  if (actor === 'owner') return true;
  return actor === 'admin' && target !== 'owner';
}
