import { and, asc, count, eq, gt, inArray, isNull, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import { translateDbError } from '../../platform/db/errors.js';
import { projectMembers, projects } from '../projects/projects.table.js';
import { users } from '../users/users.table.js';
import {
  type InvitationRow,
  invitations,
  type WorkspaceMemberRow,
  type WorkspaceRole,
  type WorkspaceRow,
  workspaceMembers,
  workspaces,
} from './workspaces.table.js';

const CONSTRAINTS = {
  workspaces_slug_key: 'slug is already taken',
  workspace_members_pkey: 'user is already a member of this workspace',
  invitations_open_email_key: 'an invitation for this address is already open',
};

export interface MemberView {
  userId: string;
  name: string;
  email: string;
  role: WorkspaceRole;
  joinedAt: Date;
}

export interface Page {
  limit: number;
  offset: number;
}

export function createWorkspacesRepository(db: Executor) {
  const insertReturning = async <T>(run: () => Promise<T[]>): Promise<T> => {
    try {
      const [row] = await run();
      if (!row) throw new Error('insert returned no row');
      return row;
    } catch (err) {
      translateDbError(err, CONSTRAINTS);
    }
  };

  return {
    insertWorkspace: (exec: Executor, row: typeof workspaces.$inferInsert) =>
      insertReturning(() => exec.insert(workspaces).values(row).returning()),

    /** The workspace together with the caller's role; undefined when they are not a member. */
    async findForMember(
      workspaceId: string,
      userId: string,
      exec: Executor = db,
    ): Promise<{ workspace: WorkspaceRow; role: WorkspaceRole } | undefined> {
      const [row] = await exec
        .select({ workspace: workspaces, role: workspaceMembers.role })
        .from(workspaces)
        .innerJoin(workspaceMembers, and(eq(workspaceMembers.workspaceId, workspaces.id), eq(workspaceMembers.userId, userId)))
        .where(eq(workspaces.id, workspaceId))
        .limit(1);
      return row;
    },

    async findById(id: string, exec: Executor = db): Promise<WorkspaceRow | undefined> {
      const [row] = await exec.select().from(workspaces).where(eq(workspaces.id, id)).limit(1);
      return row;
    },

    async lockWorkspace(tx: Executor, id: string): Promise<WorkspaceRow | undefined> {
      const [row] = await tx.select().from(workspaces).where(eq(workspaces.id, id)).limit(1).for('update');
      return row;
    },

    async listForUser(userId: string, page: Page): Promise<{ rows: { workspace: WorkspaceRow; role: WorkspaceRole }[]; total: number }> {
      const mine = and(eq(workspaceMembers.userId, userId));
      const [rows, totals] = await Promise.all([
        db
          .select({ workspace: workspaces, role: workspaceMembers.role })
          .from(workspaceMembers)
          .innerJoin(workspaces, eq(workspaces.id, workspaceMembers.workspaceId))
          .where(mine)
          .orderBy(asc(workspaces.name), asc(workspaces.id))
          .limit(page.limit)
          .offset(page.offset),
        db.select({ n: count() }).from(workspaceMembers).where(mine),
      ]);
      return { rows, total: totals[0]?.n ?? 0 };
    },

    async updateWorkspace(exec: Executor, id: string, patch: { name?: string; slug?: string }): Promise<WorkspaceRow | undefined> {
      try {
        const [row] = await exec
          .update(workspaces)
          .set({ ...patch, updatedAt: new Date(), version: sql`${workspaces.version} + 1` })
          .where(eq(workspaces.id, id))
          .returning();
        return row;
      } catch (err) {
        translateDbError(err, CONSTRAINTS);
      }
    },

    async deleteWorkspace(exec: Executor, id: string): Promise<void> {
      await exec.delete(workspaces).where(eq(workspaces.id, id));
    },

    insertMember: (exec: Executor, row: typeof workspaceMembers.$inferInsert) =>
      insertReturning(() => exec.insert(workspaceMembers).values(row).returning()),

    async findMember(exec: Executor, workspaceId: string, userId: string, lock = false): Promise<WorkspaceMemberRow | undefined> {
      const q = exec
        .select()
        .from(workspaceMembers)
        .where(and(eq(workspaceMembers.workspaceId, workspaceId), eq(workspaceMembers.userId, userId)))
        .limit(1);
      const [row] = lock ? await q.for('update') : await q;
      return row;
    },

    async listMembers(workspaceId: string, page: Page & { role?: WorkspaceRole }): Promise<{ rows: MemberView[]; total: number }> {
      const where = and(eq(workspaceMembers.workspaceId, workspaceId), page.role ? eq(workspaceMembers.role, page.role) : undefined);
      const [rows, totals] = await Promise.all([
        db
          .select({
            userId: users.id,
            name: users.name,
            email: users.email,
            role: workspaceMembers.role,
            joinedAt: workspaceMembers.createdAt,
          })
          .from(workspaceMembers)
          .innerJoin(users, eq(users.id, workspaceMembers.userId))
          .where(where)
          .orderBy(asc(users.name), asc(users.id))
          .limit(page.limit)
          .offset(page.offset),
        db.select({ n: count() }).from(workspaceMembers).where(where),
      ]);
      return { rows, total: totals[0]?.n ?? 0 };
    },

    /** The given users that are members of the workspace (assignees, mentions, project members). */
    async memberIds(workspaceId: string, userIds: readonly string[], exec: Executor = db): Promise<Set<string>> {
      if (userIds.length === 0) return new Set();
      const rows = await exec
        .select({ userId: workspaceMembers.userId })
        .from(workspaceMembers)
        .where(and(eq(workspaceMembers.workspaceId, workspaceId), inArray(workspaceMembers.userId, [...userIds])));
      return new Set(rows.map((r) => r.userId));
    },

    /** Whether someone with this address (any case) is already a member. */
    async hasMemberWithEmail(exec: Executor, workspaceId: string, email: string): Promise<boolean> {
      const rows = await exec
        .select({ id: users.id })
        .from(workspaceMembers)
        .innerJoin(users, eq(users.id, workspaceMembers.userId))
        .where(and(eq(workspaceMembers.workspaceId, workspaceId), sql`lower(${users.email}) = lower(${email})`))
        .limit(1);
      return rows.length > 0;
    },

    async setMemberRole(exec: Executor, workspaceId: string, userId: string, role: WorkspaceRole): Promise<void> {
      await exec
        .update(workspaceMembers)
        .set({ role, updatedAt: new Date() })
        .where(and(eq(workspaceMembers.workspaceId, workspaceId), eq(workspaceMembers.userId, userId)));
    },

    /** Removes the membership and the person's places in the workspace's projects, so a return starts afresh. */
    async deleteMember(exec: Executor, workspaceId: string, userId: string): Promise<void> {
      const inWorkspace = exec.select({ id: projects.id }).from(projects).where(eq(projects.workspaceId, workspaceId));
      await exec.delete(projectMembers).where(and(eq(projectMembers.userId, userId), inArray(projectMembers.projectId, inWorkspace)));
      await exec.delete(workspaceMembers).where(and(eq(workspaceMembers.workspaceId, workspaceId), eq(workspaceMembers.userId, userId)));
    },

    /** Locks the owners' rows and counts them: the last owner cannot leave or be demoted. */
    async lockAndCountOwners(tx: Executor, workspaceId: string): Promise<number> {
      const rows = await tx
        .select({ userId: workspaceMembers.userId })
        .from(workspaceMembers)
        .where(and(eq(workspaceMembers.workspaceId, workspaceId), eq(workspaceMembers.role, 'owner')))
        .for('update');
      return rows.length;
    },

    insertInvitation: (exec: Executor, row: typeof invitations.$inferInsert) =>
      insertReturning(() => exec.insert(invitations).values(row).returning()),

    async findInvitation(exec: Executor, workspaceId: string, id: string, lock = false): Promise<InvitationRow | undefined> {
      const q = exec
        .select()
        .from(invitations)
        .where(and(eq(invitations.id, id), eq(invitations.workspaceId, workspaceId)))
        .limit(1);
      const [row] = lock ? await q.for('update') : await q;
      return row;
    },

    /** By token hash (the link carries no workspace id), locked for the accepting transaction. */
    async findInvitationByHash(exec: Executor, tokenHash: string, lock = false): Promise<InvitationRow | undefined> {
      const q = exec.select().from(invitations).where(eq(invitations.tokenHash, tokenHash)).limit(1);
      const [row] = lock ? await q.for('update') : await q;
      return row;
    },

    async findOpenInvitationByEmail(exec: Executor, workspaceId: string, email: string): Promise<InvitationRow | undefined> {
      const [row] = await exec
        .select()
        .from(invitations)
        .where(
          and(
            eq(invitations.workspaceId, workspaceId),
            sql`lower(${invitations.email}) = lower(${email})`,
            isNull(invitations.acceptedAt),
            isNull(invitations.revokedAt),
          ),
        )
        .limit(1)
        .for('update');
      return row;
    },

    async listOpenInvitations(workspaceId: string, now: Date, page: Page): Promise<{ rows: InvitationRow[]; total: number }> {
      const where = and(
        eq(invitations.workspaceId, workspaceId),
        isNull(invitations.acceptedAt),
        isNull(invitations.revokedAt),
        gt(invitations.expiresAt, now),
      );
      const [rows, totals] = await Promise.all([
        db
          .select()
          .from(invitations)
          .where(where)
          .orderBy(asc(invitations.createdAt), asc(invitations.id))
          .limit(page.limit)
          .offset(page.offset),
        db.select({ n: count() }).from(invitations).where(where),
      ]);
      return { rows, total: totals[0]?.n ?? 0 };
    },

    async updateInvitation(
      exec: Executor,
      id: string,
      patch: Partial<typeof invitations.$inferInsert>,
    ): Promise<InvitationRow | undefined> {
      const [row] = await exec
        .update(invitations)
        .set({ ...patch, updatedAt: new Date() })
        .where(eq(invitations.id, id))
        .returning();
      return row;
    },
  };
}

export type WorkspacesRepository = ReturnType<typeof createWorkspacesRepository>;
