// Projects inside a workspace: a short key (WEB) that prefixes task numbers, archive and
// unarchive (archived projects are read-only), and project members, which is what lets a
// guest see a project.
import type { Db, Executor } from '../../platform/db/client.js';
import { inTransaction } from '../../platform/db/transaction.js';
import { forbidden, notFound, requireVersion, validationFailed } from '../../platform/errors.js';
import type { DomainEvent, EventBus } from '../../platform/events.js';
import type { Actor, RequestMeta } from '../../platform/http/context.js';
import { newId } from '../../platform/ids.js';
import type { AuditRecorder } from '../audit/audit.service.js';
import type { WorkspaceAccess } from '../workspaces/workspaces.access.js';
import { mayInProject } from '../workspaces/workspaces.policy.js';
import { checkProjectAccess, type ProjectAccess, type ProjectGrant } from './projects.access.js';
import type { ProjectsRepository } from './projects.repository.js';
import type { ProjectRow } from './projects.table.js';

export interface ProjectsServiceDeps {
  db: Db;
  projects: ProjectsRepository;
  workspaceAccess: WorkspaceAccess;
  projectAccess: ProjectAccess;
  audit: AuditRecorder;
  events: EventBus;
  clock?: () => Date;
}

export interface ProjectPatch {
  name?: string;
  description?: string;
}

export function createProjectsService(deps: ProjectsServiceDeps) {
  const { db, projects: repo, workspaceAccess, projectAccess, audit, events, clock = () => new Date() } = deps;

  const event = (type: string, project: ProjectRow, actorId: string, data: unknown): DomainEvent => ({
    type,
    workspaceId: project.workspaceId,
    projectId: project.id,
    actorId,
    occurredAt: clock(),
    data,
  });

  /** Archive state changes are allowed on an archived project; everything else of `manage` is not. */
  async function requireManage(actor: Actor, projectId: string): Promise<ProjectGrant> {
    const grant = checkProjectAccess(await repo.findForMember(projectId, actor.userId), 'read');
    if (!mayInProject(grant.role, 'manage')) throw forbidden();
    return grant;
  }

  /** Locks the project for the transaction and checks the caller's If-Match versions, if any. */
  async function lockProject(tx: Executor, projectId: string, expectedVersions?: number[]): Promise<ProjectRow> {
    const current = await repo.lock(tx, projectId);
    if (!current) throw notFound('project');
    requireVersion(current.version, expectedVersions);
    return current;
  }

  async function writeProject(
    projectId: string,
    expectedVersions: number[] | undefined,
    change: (current: ProjectRow) => Partial<Pick<ProjectRow, 'name' | 'description' | 'archivedAt'>>,
  ): Promise<ProjectRow> {
    return inTransaction(db, async (tx) => {
      const current = await lockProject(tx, projectId, expectedVersions);
      const updated = await repo.update(tx, projectId, change(current));
      if (!updated) throw notFound('project');
      return updated;
    });
  }

  return {
    async createProject(actor: Actor, workspaceId: string, input: { key: string; name: string; description?: string }, meta: RequestMeta) {
      const { role } = await workspaceAccess.requireWorkspace(actor, workspaceId, 'createProject');
      const project = await inTransaction(db, async (tx) => {
        const created = await repo.insert(tx, {
          id: newId(),
          workspaceId,
          key: input.key,
          name: input.name,
          description: input.description ?? '',
          createdBy: actor.userId,
        });
        await audit.record(
          tx,
          {
            action: 'project.created',
            actorId: actor.userId,
            targetType: 'project',
            targetId: created.id,
            metadata: { workspaceId, key: created.key },
          },
          meta,
        );
        return created;
      });
      events.publish([event('project.created', project, actor.userId, { id: project.id })]);
      return { project, role };
    },

    async listProjects(actor: Actor, workspaceId: string, filter: { archived?: boolean; q?: string; limit: number; offset: number }) {
      const { role } = await workspaceAccess.requireWorkspace(actor, workspaceId, 'read');
      const page = await repo.list({ ...filter, workspaceId, onlyAddedUserId: role === 'guest' ? actor.userId : undefined });
      return { ...page, role };
    },

    getProject: (actor: Actor, projectId: string) => projectAccess.requireProject(actor, projectId, 'read'),

    async updateProject(actor: Actor, projectId: string, patch: ProjectPatch, expectedVersions?: number[]): Promise<ProjectGrant> {
      const { role } = await projectAccess.requireProject(actor, projectId, 'manage');
      const project = await writeProject(projectId, expectedVersions, () => patch);
      events.publish([event('project.updated', project, actor.userId, { id: project.id, fields: Object.keys(patch) })]);
      return { project, role };
    },

    async setArchived(
      actor: Actor,
      projectId: string,
      archived: boolean,
      meta: RequestMeta,
      expectedVersions?: number[],
    ): Promise<ProjectGrant> {
      const { role } = await requireManage(actor, projectId);
      let changed = false;
      const project = await writeProject(projectId, expectedVersions, (current) => {
        changed = (current.archivedAt !== null) !== archived;
        return changed ? { archivedAt: archived ? clock() : null } : {};
      });
      if (changed) {
        await audit.record(
          db,
          {
            action: archived ? 'project.archived' : 'project.unarchived',
            actorId: actor.userId,
            targetType: 'project',
            targetId: projectId,
          },
          meta,
        );
        events.publish([event('project.updated', project, actor.userId, { id: project.id, fields: ['archivedAt'] })]);
      }
      return { project, role };
    },

    /** Admin or owner; `confirm` must repeat the project key. Its tasks and history go with it. */
    async deleteProject(actor: Actor, projectId: string, confirm: string, meta: RequestMeta, expectedVersions?: number[]): Promise<void> {
      const { project } = await requireManage(actor, projectId);
      if (confirm !== project.key)
        throw validationFailed([{ path: 'confirm', message: `must repeat the project key ("${project.key}") to confirm` }]);
      await inTransaction(db, async (tx) => {
        await lockProject(tx, projectId, expectedVersions);
        await repo.delete(tx, projectId);
        await audit.record(
          tx,
          {
            action: 'project.deleted',
            actorId: actor.userId,
            targetType: 'project',
            targetId: projectId,
            metadata: { workspaceId: project.workspaceId, key: project.key },
          },
          meta,
        );
      });
      events.publish([event('project.deleted', project, actor.userId, { id: projectId })]);
    },

    async listMembers(actor: Actor, projectId: string, page: { limit: number; offset: number }) {
      await projectAccess.requireProject(actor, projectId, 'read');
      return repo.listMembers(projectId, page);
    },

    async addMember(actor: Actor, projectId: string, userId: string): Promise<void> {
      const { project } = await projectAccess.requireProject(actor, projectId, 'manage');
      const members = await workspaceAccess.memberIds(project.workspaceId, [userId]);
      if (!members.has(userId)) throw validationFailed([{ path: 'userId', message: 'must be a member of the workspace' }]);
      await repo.addMember(db, { projectId, userId, addedBy: actor.userId });
      events.publish([event('project.member_added', project, actor.userId, { projectId, userId })]);
    },

    async removeMember(actor: Actor, projectId: string, userId: string): Promise<void> {
      const { project } = await projectAccess.requireProject(actor, projectId, 'manage');
      if (!(await repo.removeMember(db, projectId, userId))) throw notFound('project member');
      events.publish([event('project.member_removed', project, actor.userId, { projectId, userId })]);
    },
  };
}

export type ProjectsService = ReturnType<typeof createProjectsService>;
