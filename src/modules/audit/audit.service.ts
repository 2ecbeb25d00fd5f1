// The audit trail: every action an admin might need to explain later. Events are written in
// the same transaction as the change they describe.
import type { Executor } from '../../platform/db/client.js';
import { forbidden } from '../../platform/errors.js';
import type { Actor, RequestMeta } from '../../platform/http/context.js';
import { newId } from '../../platform/ids.js';
import type { AuditFilter, AuditRepository } from './audit.repository.js';
import type { AuditEventRow } from './audit.table.js';

export type AuditAction =
  | 'user.registered'
  | 'auth.login'
  | 'auth.login_failed'
  | 'auth.refresh_reuse'
  | 'auth.logout_all'
  | 'auth.password_reset_requested'
  | 'user.password_changed'
  | 'user.password_reset'
  | 'user.email_verified'
  | 'user.updated'
  | 'user.role_changed'
  | 'user.deleted'
  | 'workspace.created'
  | 'workspace.updated'
  | 'workspace.deleted'
  | 'workspace.member_added'
  | 'workspace.member_role_changed'
  | 'workspace.member_removed'
  | 'invitation.created'
  | 'invitation.resent'
  | 'invitation.revoked'
  | 'invitation.accepted'
  | 'project.created'
  | 'project.archived'
  | 'project.unarchived'
  | 'project.deleted'
  | 'project.exported'
  | 'project.imported'
  | 'workspace.exported';

export interface AuditRecord {
  action: AuditAction;
  actorId: string | null;
  targetType?: string;
  targetId?: string;
  metadata?: Record<string, unknown>;
}

/** What other modules need of the audit trail: write one event inside their transaction. */
export interface AuditRecorder {
  record(exec: Executor, record: AuditRecord, meta?: RequestMeta): Promise<void>;
}

export function createAuditService({ audit }: { audit: AuditRepository }) {
  return {
    async record(exec: Executor, r: AuditRecord, meta?: RequestMeta): Promise<void> {
      await audit.insert(exec, {
        id: newId(),
        actorId: r.actorId,
        action: r.action,
        targetType: r.targetType ?? null,
        targetId: r.targetId ?? null,
        metadata: r.metadata ?? {},
        ip: meta?.ip ?? null,
        userAgent: meta?.userAgent ?? null,
        requestId: meta?.requestId ?? null,
      });
    },
    async listEvents(actor: Actor, filter: AuditFilter): Promise<{ items: AuditEventRow[]; hasMore: boolean }> {
      if (actor.role !== 'admin') throw forbidden();
      const rows = await audit.list({ ...filter, limit: filter.limit + 1 });
      return { items: rows.slice(0, filter.limit), hasMore: rows.length > filter.limit };
    },
  };
}

export type AuditService = ReturnType<typeof createAuditService>;
