// Workspaces: create, rename, delete (owner, with confirmation); members and their roles
// (a workspace always keeps an owner). Invitations are in invitations.service.ts.
import type { Db, Executor } from '../../platform/db/client.js';
import { inTransaction } from '../../platform/db/transaction.js';
import { AppError, conflict, forbidden, notFound, requireVersion, validationFailed } from '../../platform/errors.js';
import type { DomainEvent, EventBus } from '../../platform/events.js';
import type { Actor, RequestMeta } from '../../platform/http/context.js';
import { newId } from '../../platform/ids.js';
import type { AuditRecorder } from '../audit/audit.service.js';
import type { WorkspaceAccess } from './workspaces.access.js';
import { mayAssignRole, mayRemoveMember } from './workspaces.policy.js';
import type { Page, WorkspacesRepository } from './workspaces.repository.js';
import type { WorkspaceRole, WorkspaceRow } from './workspaces.table.js';

export interface WorkspacesServiceDeps {
  db: Db;
  workspaces: WorkspacesRepository;
  access: WorkspaceAccess;
  audit: AuditRecorder;
  events: EventBus;
  clock?: () => Date;
}

export const slugify = (name: string): string =>
  name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 48)
    .replace(/-+$/, '') || 'workspace';

export function createWorkspacesService(deps: WorkspacesServiceDeps) {
  const { db, workspaces: repo, access, audit, events, clock = () => new Date() } = deps;

  const event = (type: string, workspaceId: string, actorId: string | null, data: unknown): DomainEvent => ({
    type,
    workspaceId,
    actorId,
    occurredAt: clock(),
    data,
  });

  async function lockForWrite(tx: Executor, id: string, expectedVersions?: number[]): Promise<WorkspaceRow> {
    const ws = await repo.lockWorkspace(tx, id);
    if (!ws) throw notFound('workspace');
    requireVersion(ws.version, expectedVersions);
    return ws;
  }

  return {
    async createWorkspace(
      actor: Actor,
      input: { name: string; slug?: string },
      meta: RequestMeta,
    ): Promise<{ workspace: WorkspaceRow; role: WorkspaceRole }> {
      const explicit = input.slug !== undefined;
      let slug = input.slug ?? slugify(input.name);
      for (let attempt = 0; ; attempt++) {
        try {
          return await inTransaction(db, async (tx) => {
            const workspace = await repo.insertWorkspace(tx, { id: newId(), name: input.name, slug, createdBy: actor.userId });
            await repo.insertMember(tx, { workspaceId: workspace.id, userId: actor.userId, role: 'owner' });
            await audit.record(
              tx,
              { action: 'workspace.created', actorId: actor.userId, targetType: 'workspace', targetId: workspace.id },
              meta,
            );
            return { workspace, role: 'owner' as const };
          });
        } catch (err) {
          // A slug derived from the name gets a short suffix when taken; a chosen one is a 409.
          if (explicit || attempt >= 3 || !(err instanceof AppError && err.code === 'CONFLICT')) throw err;
          slug = `${slug.slice(0, 40)}-${newId().slice(-6)}`;
        }
      }
    },

    listMyWorkspaces: (actor: Actor, page: Page) => repo.listForUser(actor.userId, page),

    getWorkspace: (actor: Actor, id: string) => access.requireWorkspace(actor, id, 'read'),

    async updateWorkspace(
      actor: Actor,
      id: string,
      patch: { name?: string; slug?: string },
      meta: RequestMeta,
      expectedVersions?: number[],
    ): Promise<{ workspace: WorkspaceRow; role: WorkspaceRole }> {
      const { role } = await access.requireWorkspace(actor, id, 'rename');
      const workspace = await inTransaction(db, async (tx) => {
        await lockForWrite(tx, id, expectedVersions);
        const updated = await repo.updateWorkspace(tx, id, patch);
        if (!updated) throw notFound('workspace');
        await audit.record(
          tx,
          {
            action: 'workspace.updated',
            actorId: actor.userId,
            targetType: 'workspace',
            targetId: id,
            metadata: { fields: Object.keys(patch) },
          },
          meta,
        );
        return updated;
      });
      return { workspace, role };
    },

    /** Owner only; `confirm` must repeat the workspace's slug. Everything in it goes. */
    async deleteWorkspace(actor: Actor, id: string, confirm: string, meta: RequestMeta, expectedVersions?: number[]): Promise<void> {
      const { workspace } = await access.requireWorkspace(actor, id, 'delete');
      if (confirm !== workspace.slug) {
        throw validationFailed([{ path: 'confirm', message: `must repeat the workspace's slug ("${workspace.slug}") to confirm` }]);
      }
      await inTransaction(db, async (tx) => {
        await lockForWrite(tx, id, expectedVersions);
        await repo.deleteWorkspace(tx, id);
        await audit.record(
          tx,
          {
            action: 'workspace.deleted',
            actorId: actor.userId,
            targetType: 'workspace',
            targetId: id,
            metadata: { name: workspace.name, slug: workspace.slug },
          },
          meta,
        );
      });
      events.publish([event('workspace.deleted', id, actor.userId, { id })]);
    },

    async listMembers(actor: Actor, id: string, page: Page & { role?: WorkspaceRole }) {
      await access.requireWorkspace(actor, id, 'read');
      return repo.listMembers(id, page);
    },

    async changeMemberRole(actor: Actor, workspaceId: string, userId: string, to: WorkspaceRole, meta: RequestMeta): Promise<void> {
      const { role: mine } = await access.requireWorkspace(actor, workspaceId, 'manageMembers');
      const changed = await inTransaction(db, async (tx) => {
        const owners = await repo.lockAndCountOwners(tx, workspaceId);
        const target = await repo.findMember(tx, workspaceId, userId, true);
        if (!target) throw notFound('member');
        if (!mayAssignRole(mine, target.role, to)) throw forbidden();
        if (target.role === to) return false;
        if (target.role === 'owner' && owners <= 1) throw conflict('a workspace must keep at least one owner');
        await repo.setMemberRole(tx, workspaceId, userId, to);
        await audit.record(
          tx,
          {
            action: 'workspace.member_role_changed',
            actorId: actor.userId,
            targetType: 'user',
            targetId: userId,
            metadata: { workspaceId, from: target.role, to },
          },
          meta,
        );
        return true;
      });
      if (changed) events.publish([event('member.updated', workspaceId, actor.userId, { workspaceId, userId, role: to })]);
    },

    /** Removes a member; removing yourself is leaving. The last owner can do neither. */
    async removeMember(actor: Actor, workspaceId: string, userId: string, meta: RequestMeta): Promise<void> {
      const leaving = userId === actor.userId;
      const { role: mine } = await access.requireWorkspace(actor, workspaceId, leaving ? 'read' : 'manageMembers');
      await inTransaction(db, async (tx) => {
        const owners = await repo.lockAndCountOwners(tx, workspaceId);
        const target = await repo.findMember(tx, workspaceId, userId, true);
        if (!target) throw notFound('member');
        if (!leaving && !mayRemoveMember(mine, target.role)) throw forbidden();
        if (target.role === 'owner' && owners <= 1)
          throw conflict('a workspace must keep at least one owner: make someone else owner first');
        await repo.deleteMember(tx, workspaceId, userId);
        await audit.record(
          tx,
          {
            action: 'workspace.member_removed',
            actorId: actor.userId,
            targetType: 'user',
            targetId: userId,
            metadata: { workspaceId, role: target.role, left: leaving },
          },
          meta,
        );
      });
      events.publish([event('member.removed', workspaceId, actor.userId, { workspaceId, userId })]);
    },
  };
}

export type WorkspacesService = ReturnType<typeof createWorkspacesService>;
