// Workspaces: create, rename, delete (owner, with confirmation); members and their roles
// (a workspace always keeps an owner); invitations by e-mail (single-use hashed tokens).
import type { Logger } from 'pino';
import { hashOpaqueToken, newOpaqueToken } from '../../platform/auth/tokens.js';
import type { Db, Executor } from '../../platform/db/client.js';
import { inTransaction } from '../../platform/db/transaction.js';
import { AppError, conflict, forbidden, notFound, preconditionFailed, validationFailed } from '../../platform/errors.js';
import type { DomainEvent, EventBus } from '../../platform/events.js';
import type { Actor, RequestMeta } from '../../platform/http/context.js';
import { newId } from '../../platform/ids.js';
import type { Mailer } from '../../platform/mail/mailer.js';
import type { AuditRecorder } from '../audit/audit.service.js';
import type { WorkspaceAccess } from './workspaces.access.js';
import { invitationMail } from './workspaces.mail.js';
import { mayAssignRole, mayRemoveMember } from './workspaces.policy.js';
import type { Page, WorkspacesRepository } from './workspaces.repository.js';
import type { InvitationRow, WorkspaceRole, WorkspaceRow } from './workspaces.table.js';

/** What the workspaces service needs to know about accounts. */
export interface AccountLookup {
  findById(id: string, exec?: Executor): Promise<{ id: string; name: string; email: string } | undefined>;
}

export interface WorkspacesServiceDeps {
  db: Db;
  workspaces: WorkspacesRepository;
  access: WorkspaceAccess;
  accounts: AccountLookup;
  audit: AuditRecorder;
  events: EventBus;
  mailer: Mailer;
  log: Logger;
  appUrl: string;
  invitationTtlSeconds?: number;
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

const badInvitation = () => validationFailed([{ path: 'token', message: 'is invalid, used or has expired' }]);
const wrongAddress = () => new AppError('FORBIDDEN', 'This invitation was sent to another e-mail address.');

export function createWorkspacesService(deps: WorkspacesServiceDeps) {
  const { db, workspaces: repo, access, accounts, audit, events, mailer, log, clock = () => new Date() } = deps;
  const invitationTtlMs = (deps.invitationTtlSeconds ?? 7 * 24 * 3600) * 1000;

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
    if (expectedVersions && !expectedVersions.includes(ws.version)) throw preconditionFailed();
    return ws;
  }

  function sendInvitation(invitation: InvitationRow, token: string, workspace: WorkspaceRow, inviter: string): void {
    const message = invitationMail({
      to: invitation.email,
      inviter,
      workspace: workspace.name,
      role: invitation.role,
      link: `${deps.appUrl}/invitations/accept?token=${token}`,
      expiresAt: invitation.expiresAt,
    });
    mailer
      .send(message)
      .catch((err: Error) => log.error({ err: err.message, invitationId: invitation.id }, 'invitation mail could not be sent'));
  }

  async function inviterName(actor: Actor): Promise<string> {
    return (await accounts.findById(actor.userId))?.name ?? 'A Tandem user';
  }

  /** Checks a presented invitation token and adds `user` to its workspace (inside `tx`). */
  async function acceptWithin(
    tx: Executor,
    token: string,
    user: { id: string; email: string },
    meta?: RequestMeta,
  ): Promise<{ invitation: InvitationRow }> {
    const invitation = await repo.findInvitationByHash(tx, hashOpaqueToken(token), true);
    if (!invitation || invitation.acceptedAt || invitation.revokedAt || invitation.expiresAt <= clock()) throw badInvitation();
    if (invitation.email.toLowerCase() !== user.email.toLowerCase()) throw wrongAddress();
    if (await repo.findMember(tx, invitation.workspaceId, user.id)) throw conflict('you are already a member of this workspace');
    await repo.insertMember(tx, { workspaceId: invitation.workspaceId, userId: user.id, role: invitation.role });
    await repo.updateInvitation(tx, invitation.id, { acceptedAt: clock(), acceptedBy: user.id });
    await audit.record(
      tx,
      {
        action: 'invitation.accepted',
        actorId: user.id,
        targetType: 'workspace',
        targetId: invitation.workspaceId,
        metadata: { invitationId: invitation.id, role: invitation.role },
      },
      meta,
    );
    return { invitation };
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

    async invite(
      actor: Actor,
      workspaceId: string,
      input: { email: string; role: WorkspaceRole },
      meta: RequestMeta,
    ): Promise<InvitationRow> {
      const { workspace, role: mine } = await access.requireWorkspace(actor, workspaceId, 'invite');
      if (!mayAssignRole(mine, undefined, input.role)) throw forbidden();
      const { token, hash } = newOpaqueToken();
      const invitation = await inTransaction(db, async (tx) => {
        if (await repo.hasMemberWithEmail(tx, workspaceId, input.email)) throw conflict('this person is already a member of the workspace');
        // One open invitation per address (expired ones included, which the list no longer
        // shows): inviting again renews it with a new link, role and expiry instead of a 409.
        const open = await repo.findOpenInvitationByEmail(tx, workspaceId, input.email);
        if (open) {
          const renewed = await repo.updateInvitation(tx, open.id, {
            tokenHash: hash,
            role: input.role,
            invitedBy: actor.userId,
            expiresAt: new Date(clock().getTime() + invitationTtlMs),
            sentCount: open.sentCount + 1,
          });
          if (!renewed) throw notFound('invitation');
          await audit.record(
            tx,
            {
              action: 'invitation.resent',
              actorId: actor.userId,
              targetType: 'invitation',
              targetId: open.id,
              metadata: { workspaceId, role: input.role },
            },
            meta,
          );
          return renewed;
        }
        const created = await repo.insertInvitation(tx, {
          id: newId(),
          workspaceId,
          email: input.email,
          role: input.role,
          tokenHash: hash,
          invitedBy: actor.userId,
          expiresAt: new Date(clock().getTime() + invitationTtlMs),
        });
        await audit.record(
          tx,
          {
            action: 'invitation.created',
            actorId: actor.userId,
            targetType: 'invitation',
            targetId: created.id,
            metadata: { workspaceId, role: input.role },
          },
          meta,
        );
        return created;
      });
      sendInvitation(invitation, token, workspace, await inviterName(actor));
      return invitation;
    },

    async getInvitation(actor: Actor, workspaceId: string, invitationId: string): Promise<InvitationRow> {
      await access.requireWorkspace(actor, workspaceId, 'invite');
      const invitation = await repo.findInvitation(db, workspaceId, invitationId);
      if (!invitation) throw notFound('invitation');
      return invitation;
    },

    async listInvitations(actor: Actor, workspaceId: string, page: Page) {
      await access.requireWorkspace(actor, workspaceId, 'invite');
      return repo.listOpenInvitations(workspaceId, clock(), page);
    },

    async revokeInvitation(actor: Actor, workspaceId: string, invitationId: string, meta: RequestMeta): Promise<void> {
      await access.requireWorkspace(actor, workspaceId, 'invite');
      await inTransaction(db, async (tx) => {
        const invitation = await repo.findInvitation(tx, workspaceId, invitationId, true);
        if (!invitation || invitation.revokedAt) throw notFound('invitation');
        if (invitation.acceptedAt) throw conflict('the invitation has already been accepted');
        await repo.updateInvitation(tx, invitationId, { revokedAt: clock() });
        await audit.record(
          tx,
          {
            action: 'invitation.revoked',
            actorId: actor.userId,
            targetType: 'invitation',
            targetId: invitationId,
            metadata: { workspaceId },
          },
          meta,
        );
      });
    },

    /** A new link (the old one stops working) and a fresh expiry. */
    async resendInvitation(actor: Actor, workspaceId: string, invitationId: string, meta: RequestMeta): Promise<InvitationRow> {
      const { workspace } = await access.requireWorkspace(actor, workspaceId, 'invite');
      const { token, hash } = newOpaqueToken();
      const invitation = await inTransaction(db, async (tx) => {
        const current = await repo.findInvitation(tx, workspaceId, invitationId, true);
        if (!current || current.revokedAt) throw notFound('invitation');
        if (current.acceptedAt) throw conflict('the invitation has already been accepted');
        const updated = await repo.updateInvitation(tx, invitationId, {
          tokenHash: hash,
          expiresAt: new Date(clock().getTime() + invitationTtlMs),
          sentCount: current.sentCount + 1,
        });
        if (!updated) throw notFound('invitation');
        await audit.record(
          tx,
          {
            action: 'invitation.resent',
            actorId: actor.userId,
            targetType: 'invitation',
            targetId: invitationId,
            metadata: { workspaceId },
          },
          meta,
        );
        return updated;
      });
      sendInvitation(invitation, token, workspace, await inviterName(actor));
      return invitation;
    },

    /** What a link offers, for the page a recipient lands on (no sign-in needed: the token is the secret). */
    async previewInvitation(token: string): Promise<{ invitation: InvitationRow; workspace: WorkspaceRow; inviter: string | null }> {
      const invitation = await repo.findInvitationByHash(db, hashOpaqueToken(token));
      if (!invitation || invitation.acceptedAt || invitation.revokedAt || invitation.expiresAt <= clock()) throw badInvitation();
      const workspace = await repo.findById(invitation.workspaceId);
      if (!workspace) throw badInvitation();
      const inviter = invitation.invitedBy ? ((await accounts.findById(invitation.invitedBy))?.name ?? null) : null;
      return { invitation, workspace, inviter };
    },

    async acceptInvitation(actor: Actor, token: string, meta: RequestMeta): Promise<{ workspace: WorkspaceRow; role: WorkspaceRole }> {
      const user = await accounts.findById(actor.userId);
      if (!user) throw notFound('user');
      const { invitation } = await inTransaction(db, (tx) => acceptWithin(tx, token, user, meta));
      events.publish([
        event('member.added', invitation.workspaceId, actor.userId, {
          workspaceId: invitation.workspaceId,
          userId: actor.userId,
          role: invitation.role,
        }),
      ]);
      const workspace = await repo.findById(invitation.workspaceId);
      if (!workspace) throw notFound('workspace');
      return { workspace, role: invitation.role };
    },

    /** Used by registration: a new account created through an invitation link joins in the same transaction. */
    acceptOnRegistration: (tx: Executor, token: string, user: { id: string; email: string }) =>
      acceptWithin(tx, token, user).then(() => undefined),
  };
}

export type WorkspacesService = ReturnType<typeof createWorkspacesService>;
