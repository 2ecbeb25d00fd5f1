import { and, desc, eq, gt, inArray, isNotNull, isNull, sql } from 'drizzle-orm';
import type { RecentRevocations } from '../../platform/auth/revocations.js';
import type { Executor } from '../../platform/db/client.js';
import { auditEvents } from '../audit/audit.table.js';
import { type OneTimeTokenRow, oneTimeTokens, type SessionRow, sessions } from './auth.table.js';

export type NewSession = typeof sessions.$inferInsert;
export type TokenPurpose = OneTimeTokenRow['purpose'];

export interface ActiveSession {
  id: string;
  familyId: string;
  userAgent: string | null;
  ip: string | null;
  signedInAt: Date;
  lastUsedAt: Date;
  expiresAt: Date;
}

// Sessions and one-time tokens belong to a user, not to a workspace: queries are by user id
// or by the hash of a secret only its holder knows.
export function createAuthRepository(db: Executor) {
  return {
    async insertSession(exec: Executor, row: NewSession): Promise<void> {
      await exec.insert(sessions).values(row);
    },
    async findSessionByHash(hash: string, exec: Executor = db): Promise<SessionRow | undefined> {
      const [row] = await exec.select().from(sessions).where(eq(sessions.refreshTokenHash, hash)).limit(1);
      return row;
    },
    /** Spends a refresh token: true for exactly one caller, however many race. */
    async markUsed(exec: Executor, id: string, now: Date): Promise<boolean> {
      const rows = await exec
        .update(sessions)
        .set({ usedAt: now })
        .where(and(eq(sessions.id, id), isNull(sessions.usedAt), isNull(sessions.revokedAt)))
        .returning({ id: sessions.id });
      return rows.length === 1;
    },
    async revokeFamilies(exec: Executor, userId: string, familyIds: string[] | 'all', reason: string, now: Date): Promise<string[]> {
      const rows = await exec
        .update(sessions)
        .set({ revokedAt: now, revokedReason: reason })
        .where(
          and(
            eq(sessions.userId, userId),
            isNull(sessions.revokedAt),
            familyIds === 'all'
              ? undefined
              : inArray(sessions.familyId, familyIds.length ? familyIds : ['00000000-0000-0000-0000-000000000000']),
          ),
        )
        .returning({ familyId: sessions.familyId });
      return [...new Set(rows.map((r) => r.familyId))];
    },
    /** Ends every session of a (deleted) user and forgets where they signed in from. The rows
     * stay, revoked, so processes that start within the access-token lifetime learn of it. */
    async endAllForUser(exec: Executor, userId: string, now: Date): Promise<string[]> {
      const rows = await exec
        .update(sessions)
        .set({
          revokedAt: sql`coalesce(${sessions.revokedAt}, ${now.toISOString()}::timestamptz)`,
          revokedReason: sql`coalesce(${sessions.revokedReason}, 'user_deleted')`,
          ip: null,
          userAgent: null,
        })
        .where(eq(sessions.userId, userId))
        .returning({ familyId: sessions.familyId });
      await exec.delete(oneTimeTokens).where(eq(oneTimeTokens.userId, userId));
      return [...new Set(rows.map((r) => r.familyId))];
    },
    /** The live token row of each signed-in device, with when the device first signed in. */
    async listActive(userId: string, now: Date): Promise<ActiveSession[]> {
      const firstSeen = db
        .select({ familyId: sessions.familyId, signedInAt: sql<Date>`min(${sessions.createdAt})`.as('signed_in_at') })
        .from(sessions)
        .where(eq(sessions.userId, userId))
        .groupBy(sessions.familyId)
        .as('first_seen');
      const rows = await db
        .select({
          id: sessions.id,
          familyId: sessions.familyId,
          userAgent: sessions.userAgent,
          ip: sessions.ip,
          signedInAt: firstSeen.signedInAt,
          lastUsedAt: sessions.lastUsedAt,
          expiresAt: sessions.expiresAt,
        })
        .from(sessions)
        .innerJoin(firstSeen, eq(firstSeen.familyId, sessions.familyId))
        .where(and(eq(sessions.userId, userId), isNull(sessions.usedAt), isNull(sessions.revokedAt), gt(sessions.expiresAt, now)))
        .orderBy(desc(sessions.lastUsedAt));
      return rows.map((r) => ({ ...r, signedInAt: new Date(r.signedInAt) }));
    },
    async insertToken(exec: Executor, row: typeof oneTimeTokens.$inferInsert): Promise<void> {
      await exec.insert(oneTimeTokens).values(row);
    },
    /** Spends a one-time token if it is unused and unexpired; returns it, once. */
    async consumeToken(exec: Executor, purpose: TokenPurpose, hash: string, now: Date): Promise<OneTimeTokenRow | undefined> {
      const [row] = await exec
        .update(oneTimeTokens)
        .set({ usedAt: now })
        .where(
          and(
            eq(oneTimeTokens.tokenHash, hash),
            eq(oneTimeTokens.purpose, purpose),
            isNull(oneTimeTokens.usedAt),
            gt(oneTimeTokens.expiresAt, now),
          ),
        )
        .returning();
      return row;
    },
    /** Earlier unused tokens of the same purpose stop working when a new one is sent. */
    async expireTokens(exec: Executor, userId: string, purpose: TokenPurpose, now: Date): Promise<void> {
      await exec
        .update(oneTimeTokens)
        .set({ usedAt: now })
        .where(and(eq(oneTimeTokens.userId, userId), eq(oneTimeTokens.purpose, purpose), isNull(oneTimeTokens.usedAt)));
    },
    /** Revocations and role changes recent enough to matter to unexpired access tokens. */
    async recentRevocations(sinceSeconds: number): Promise<RecentRevocations> {
      const since = sql`now() - make_interval(secs => ${sinceSeconds})`;
      const revoked = await db
        .selectDistinct({ familyId: sessions.familyId })
        .from(sessions)
        .where(and(isNotNull(sessions.revokedAt), gt(sessions.revokedAt, since)));
      const roleChanges = await db
        .select({ userId: auditEvents.targetId, metadata: auditEvents.metadata, createdAt: auditEvents.createdAt })
        .from(auditEvents)
        .where(and(eq(auditEvents.action, 'user.role_changed'), gt(auditEvents.createdAt, since)))
        .orderBy(auditEvents.id);
      return {
        sessionIds: revoked.map((r) => r.familyId),
        roles: roleChanges.flatMap((r) => {
          const to = r.metadata.to;
          return r.userId && (to === 'user' || to === 'admin') ? [{ userId: r.userId, role: to, changedAt: r.createdAt.getTime() }] : [];
        }),
      };
    },
  };
}

export type AuthRepository = ReturnType<typeof createAuthRepository>;
