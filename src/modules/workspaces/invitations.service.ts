// Invitations by e-mail: single-use tokens stored hashed, one open invitation per address
// (inviting again renews it), accepted by a signed-in user or by registering through the link.
import type { Logger } from 'pino';
import { hashOpaqueToken, newOpaqueToken } from '../../platform/auth/tokens.js';
import type { Db, Executor } from '../../platform/db/client.js';
import { inTransaction } from '../../platform/db/transaction.js';
import { AppError, conflict, forbidden, notFound, validationFailed } from '../../platform/errors.js';
import type { EventBus } from '../../platform/events.js';
import type { Actor, RequestMeta } from '../../platform/http/context.js';
import { newId } from '../../platform/ids.js';
import type { Mailer } from '../../platform/mail/mailer.js';
import type { AuditRecorder } from '../audit/audit.service.js';
import type { WorkspaceAccess } from './workspaces.access.js';
import { invitationMail } from './workspaces.mail.js';
import { mayAssignRole } from './workspaces.policy.js';
import type { Page, WorkspacesRepository } from './workspaces.repository.js';
import type { InvitationRow, WorkspaceRole, WorkspaceRow } from './workspaces.table.js';

/** What invitations need to know about accounts. */
export interface AccountLookup {
  findById(id: string, exec?: Executor): Promise<{ id: string; name: string; email: string } | undefined>;
}

export interface InvitationsServiceDeps {
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

const badInvitation = () => validationFailed([{ path: 'token', message: 'is invalid, used or has expired' }]);
const wrongAddress = () => new AppError('FORBIDDEN', 'This invitation was sent to another e-mail address.');

export function createInvitationsService(deps: InvitationsServiceDeps) {
  const { db, workspaces: repo, access, accounts, audit, events, mailer, log, clock = () => new Date() } = deps;
  const invitationTtlMs = (deps.invitationTtlSeconds ?? 7 * 24 * 3600) * 1000;

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

  /** A new link (the old one stops working), a fresh expiry and one more send, audited. */
  async function renew(
    tx: Executor,
    actor: Actor,
    current: InvitationRow,
    hash: string,
    meta: RequestMeta,
    role?: WorkspaceRole,
  ): Promise<InvitationRow> {
    const renewed = await repo.updateInvitation(tx, current.id, {
      tokenHash: hash,
      expiresAt: new Date(clock().getTime() + invitationTtlMs),
      sentCount: current.sentCount + 1,
      ...(role ? { role, invitedBy: actor.userId } : {}),
    });
    if (!renewed) throw notFound('invitation');
    await audit.record(
      tx,
      {
        action: 'invitation.resent',
        actorId: actor.userId,
        targetType: 'invitation',
        targetId: current.id,
        metadata: { workspaceId: current.workspaceId, role: renewed.role },
      },
      meta,
    );
    return renewed;
  }

  return {
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
        if (open) return renew(tx, actor, open, hash, meta, input.role);
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
        return renew(tx, actor, current, hash, meta);
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
        {
          type: 'member.added',
          workspaceId: invitation.workspaceId,
          actorId: actor.userId,
          occurredAt: clock(),
          data: { workspaceId: invitation.workspaceId, userId: actor.userId, role: invitation.role },
        },
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

export type InvitationsService = ReturnType<typeof createInvitationsService>;
