import { and, asc, count, eq, exists, ilike, inArray, isNotNull, isNull, or, type SQL, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import { translateDbError } from '../../platform/db/errors.js';
import { containsPattern } from '../../platform/db/like.js';
import { users } from '../users/users.table.js';
import { type WorkspaceRole, workspaceMembers } from '../workspaces/workspaces.table.js';
import { type ProjectRow, projectMembers, projects } from './projects.table.js';

const CONSTRAINTS = {
  projects_workspace_key_key: 'a project with this key already exists in the workspace',
  project_members_pkey: 'user is already a member of this project',
};

export interface ProjectListFilter {
  workspaceId: string;
  /** Guests see only the projects they were added to. */
  onlyAddedUserId?: string;
  archived?: boolean;
  q?: string;
  limit: number;
  offset: number;
}

export interface ProjectForMember {
  project: ProjectRow;
  role: WorkspaceRole;
  added: boolean;
}

export function createProjectsRepository(db: Executor) {
  const forMember = db
    .select({
      project: projects,
      role: workspaceMembers.role,
      added: sql<boolean>`exists (select 1 from ${projectMembers} pm where pm.project_id = ${projects.id} and pm.user_id = ${sql.placeholder('userId')})`,
    })
    .from(projects)
    .innerJoin(
      workspaceMembers,
      and(eq(workspaceMembers.workspaceId, projects.workspaceId), eq(workspaceMembers.userId, sql.placeholder('userId'))),
    )
    .where(eq(projects.id, sql.placeholder('projectId')))
    .limit(1)
    .prepare('projects_for_member');

  return {
    /** The project with the caller's workspace role; undefined when they are not in its workspace. */
    async findForMember(projectId: string, userId: string): Promise<ProjectForMember | undefined> {
      const [row] = await forMember.execute({ projectId, userId });
      return row;
    },

    /** Which of these users can see the project: members and above, and guests added to it. */
    async viewerIds(projectId: string, userIds: readonly string[]): Promise<Set<string>> {
      if (userIds.length === 0) return new Set();
      const rows = await db
        .select({ userId: workspaceMembers.userId })
        .from(projects)
        .innerJoin(workspaceMembers, eq(workspaceMembers.workspaceId, projects.workspaceId))
        .where(
          and(
            eq(projects.id, projectId),
            inArray(workspaceMembers.userId, [...userIds]),
            sql`(${workspaceMembers.role} <> 'guest' or exists (select 1 from ${projectMembers} pm where pm.project_id = ${projects.id} and pm.user_id = ${workspaceMembers.userId}))`,
          ),
        );
      return new Set(rows.map((r) => r.userId));
    },

    async insert(exec: Executor, row: typeof projects.$inferInsert): Promise<ProjectRow> {
      try {
        const [created] = await exec.insert(projects).values(row).returning();
        if (!created) throw new Error('insert returned no row');
        return created;
      } catch (err) {
        translateDbError(err, CONSTRAINTS);
      }
    },

    async lock(tx: Executor, id: string): Promise<ProjectRow | undefined> {
      const [row] = await tx.select().from(projects).where(eq(projects.id, id)).limit(1).for('update');
      return row;
    },

    async update(
      exec: Executor,
      id: string,
      patch: Partial<Pick<ProjectRow, 'name' | 'description' | 'archivedAt'>>,
    ): Promise<ProjectRow | undefined> {
      const [row] = await exec
        .update(projects)
        .set({ ...patch, updatedAt: new Date(), version: sql`${projects.version} + 1` })
        .where(eq(projects.id, id))
        .returning();
      return row;
    },

    async delete(exec: Executor, id: string): Promise<void> {
      await exec.delete(projects).where(eq(projects.id, id));
    },

    async list(f: ProjectListFilter): Promise<{ rows: ProjectRow[]; total: number }> {
      const where: SQL[] = [eq(projects.workspaceId, f.workspaceId)];
      if (f.onlyAddedUserId) {
        where.push(
          exists(
            db
              .select({ one: sql`1` })
              .from(projectMembers)
              .where(and(eq(projectMembers.projectId, projects.id), eq(projectMembers.userId, f.onlyAddedUserId))),
          ),
        );
      }
      if (f.archived !== undefined) where.push(f.archived ? isNotNull(projects.archivedAt) : isNull(projects.archivedAt));
      if (f.q) where.push(or(ilike(projects.name, containsPattern(f.q)), ilike(projects.key, containsPattern(f.q))) as SQL);
      const condition = and(...where);
      const [rows, totals] = await Promise.all([
        db.select().from(projects).where(condition).orderBy(asc(projects.name), asc(projects.id)).limit(f.limit).offset(f.offset),
        db.select({ n: count() }).from(projects).where(condition),
      ]);
      return { rows, total: totals[0]?.n ?? 0 };
    },

    async listMembers(projectId: string, page: { limit: number; offset: number }) {
      const where = eq(projectMembers.projectId, projectId);
      const [rows, totals] = await Promise.all([
        db
          .select({ userId: users.id, name: users.name, email: users.email, addedAt: projectMembers.createdAt })
          .from(projectMembers)
          .innerJoin(users, eq(users.id, projectMembers.userId))
          .where(where)
          .orderBy(asc(users.name), asc(users.id))
          .limit(page.limit)
          .offset(page.offset),
        db.select({ n: count() }).from(projectMembers).where(where),
      ]);
      return { rows, total: totals[0]?.n ?? 0 };
    },

    async addMember(exec: Executor, row: typeof projectMembers.$inferInsert): Promise<void> {
      try {
        await exec.insert(projectMembers).values(row);
      } catch (err) {
        translateDbError(err, CONSTRAINTS);
      }
    },

    async removeMember(exec: Executor, projectId: string, userId: string): Promise<boolean> {
      const rows = await exec
        .delete(projectMembers)
        .where(and(eq(projectMembers.projectId, projectId), eq(projectMembers.userId, userId)))
        .returning({ userId: projectMembers.userId });
      return rows.length > 0;
    },
  };
}

export type ProjectsRepository = ReturnType<typeof createProjectsRepository>;
