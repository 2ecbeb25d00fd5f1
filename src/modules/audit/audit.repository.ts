import { and, desc, eq, lt, type SQL } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import { type AuditEventRow, auditEvents } from './audit.table.js';

export type NewAuditEvent = Omit<typeof auditEvents.$inferInsert, 'createdAt'>;

export interface AuditFilter {
  action?: string;
  actorId?: string;
  targetId?: string;
  /** Only events older (smaller UUIDv7) than this id: the cursor. */
  beforeId?: string;
  limit: number;
}

// Audit events are instance-wide (admin-only), so queries are not scoped by workspace.
export function createAuditRepository(db: Executor) {
  return {
    async insert(exec: Executor, event: NewAuditEvent): Promise<void> {
      await exec.insert(auditEvents).values(event);
    },
    async list(f: AuditFilter): Promise<AuditEventRow[]> {
      const where: SQL[] = [];
      if (f.action) where.push(eq(auditEvents.action, f.action));
      if (f.actorId) where.push(eq(auditEvents.actorId, f.actorId));
      if (f.targetId) where.push(eq(auditEvents.targetId, f.targetId));
      if (f.beforeId) where.push(lt(auditEvents.id, f.beforeId));
      return db
        .select()
        .from(auditEvents)
        .where(and(...where))
        .orderBy(desc(auditEvents.id))
        .limit(f.limit);
    },
  };
}

export type AuditRepository = ReturnType<typeof createAuditRepository>;
