// The access check for everything inside a project (tasks, comments, time, reports, export).
// Not in the workspace, or a guest not added to the project: 404, as if it did not exist.
// In it without the role the action needs: 403. Archived projects are read-only: 409.
import { AppError, forbidden, notFound } from '../../platform/errors.js';
import type { Actor } from '../../platform/http/context.js';
import { mayInProject, maySeeProject, type ProjectAction } from '../workspaces/workspaces.policy.js';
import type { WorkspaceRole } from '../workspaces/workspaces.table.js';
import type { ProjectsRepository } from './projects.repository.js';
import type { ProjectRow } from './projects.table.js';

export const projectArchived = () => new AppError('CONFLICT', 'The project is archived and read-only: unarchive it first.');

export interface ProjectGrant {
  project: ProjectRow;
  role: WorkspaceRole;
}

export interface ProjectAccess {
  requireProject(actor: Actor, projectId: string, action: ProjectAction): Promise<ProjectGrant>;
  /** Which of these users can see the project (who a task may be assigned to). */
  viewerIds(projectId: string, userIds: readonly string[]): Promise<Set<string>>;
}

interface LoadedGrant {
  project: { archivedAt: Date | null };
  role: WorkspaceRole;
  added: boolean;
}

/** Decides from an already loaded project and role (tasks load both in one query). */
export function checkProjectAccess<G extends LoadedGrant>(grant: G | undefined, action: ProjectAction, thing = 'project'): G {
  if (!grant || !maySeeProject(grant.role, grant.added)) throw notFound(thing);
  if (!mayInProject(grant.role, action)) throw forbidden();
  if (action !== 'read' && grant.project.archivedAt) throw projectArchived();
  return grant;
}

export function createProjectAccess(repo: ProjectsRepository): ProjectAccess {
  return {
    async requireProject(actor, projectId, action) {
      return checkProjectAccess(await repo.findForMember(projectId, actor.userId), action);
    },
    viewerIds: (projectId, userIds) => repo.viewerIds(projectId, userIds),
  };
}
