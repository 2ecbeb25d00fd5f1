import { and, asc, count, desc, eq, ilike, isNull, or, type SQL, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import { translateDbError } from '../../platform/db/errors.js';
import { containsPattern } from '../../platform/db/like.js';
import { preparedByShape } from '../../platform/db/prepared.js';
import { type NewUserRow, type UserRow, users } from './users.table.js';

export type UserSortKey = 'name' | 'email' | 'createdAt';
export interface UserSort {
  key: UserSortKey;
  desc: boolean;
}

export interface UserListFilter {
  q?: string;
  role?: 'user' | 'admin';
  sort: UserSort[];
  limit: number;
  offset: number;
}

const CONSTRAINTS = { users_email_lower_key: 'email is already registered' };
const sortColumns = { name: users.name, email: users.email, createdAt: users.createdAt } as const;
const FIRST_USER_LOCK = 7_263_002;
const live = isNull(users.deletedAt);

// Users are instance-wide (not workspace content), so these queries take no workspace id.
export function createUsersRepository(db: Executor) {
  const byId = db
    .select()
    .from(users)
    .where(and(eq(users.id, sql.placeholder('id')), live))
    .limit(1)
    .prepare('users_by_id');

  const listStatements = preparedByShape('users_list', (name, shape) => {
    const [flags = '', sortSpec = ''] = shape.split(':');
    const where: SQL[] = [live];
    if (flags.includes('r')) where.push(eq(users.role, sql.placeholder('role')));
    if (flags.includes('q')) {
      where.push(or(ilike(users.name, sql.placeholder('pattern')), ilike(users.email, sql.placeholder('pattern'))) as SQL);
    }
    const order = sortSpec.split(',').map((part) => {
      const column = sortColumns[part.replace(/^-/, '') as UserSortKey];
      return part.startsWith('-') ? desc(column) : asc(column);
    });
    const condition = and(...where);
    return {
      page: db
        .select()
        .from(users)
        .where(condition)
        .orderBy(...order, asc(users.id))
        .limit(sql.placeholder('limit'))
        .offset(sql.placeholder('offset'))
        .prepare(`${name}_page`),
      total: db.select({ n: count() }).from(users).where(condition).prepare(`${name}_count`),
    };
  });

  return {
    async findById(id: string, exec: Executor = db): Promise<UserRow | undefined> {
      const [row] =
        exec === db
          ? await byId.execute({ id })
          : await exec
              .select()
              .from(users)
              .where(and(eq(users.id, id), live))
              .limit(1);
      return row;
    },
    /** Reads and locks the row until the transaction ends (read-check-write without races). */
    async findByIdForUpdate(tx: Executor, id: string): Promise<UserRow | undefined> {
      const [row] = await tx
        .select()
        .from(users)
        .where(and(eq(users.id, id), live))
        .limit(1)
        .for('update');
      return row;
    },
    async findByEmail(email: string, exec: Executor = db): Promise<UserRow | undefined> {
      const [row] = await exec
        .select()
        .from(users)
        .where(and(sql`lower(${users.email}) = lower(${email})`, live))
        .limit(1);
      return row;
    },
    async insert(exec: Executor, row: NewUserRow): Promise<UserRow> {
      try {
        const [created] = await exec.insert(users).values(row).returning();
        if (!created) throw new Error('insert returned no row');
        return created;
      } catch (err) {
        translateDbError(err, CONSTRAINTS);
      }
    },
    async insertFirstIsAdmin(tx: Executor, row: Omit<NewUserRow, 'role'>): Promise<UserRow> {
      // Serialises registrations for the instant it takes to decide who is first (and admin).
      await tx.execute(sql`select pg_advisory_xact_lock(${FIRST_USER_LOCK})`);
      const existing = await tx.select({ id: users.id }).from(users).limit(1);
      return this.insert(tx, { ...row, role: existing.length > 0 ? 'user' : 'admin' });
    },
    async countAdmins(exec: Executor = db): Promise<number> {
      const [row] = await exec
        .select({ n: count() })
        .from(users)
        .where(and(eq(users.role, 'admin'), live));
      return row?.n ?? 0;
    },
    async list(f: UserListFilter): Promise<{ rows: UserRow[]; total: number }> {
      const shape = `${f.q ? 'q' : ''}${f.role ? 'r' : ''}:${f.sort.map((s) => `${s.desc ? '-' : ''}${s.key}`).join(',')}`;
      const { page, total } = listStatements(shape);
      const params = { pattern: f.q ? containsPattern(f.q) : '', role: f.role ?? '', limit: f.limit, offset: f.offset };
      const [rows, totals] = await Promise.all([page.execute(params), total.execute(params)]);
      return { rows, total: totals[0]?.n ?? 0 };
    },
    async update(exec: Executor, id: string, patch: Partial<NewUserRow>): Promise<UserRow | undefined> {
      try {
        const [row] = await exec
          .update(users)
          .set({ ...patch, updatedAt: new Date(), version: sql`${users.version} + 1` })
          .where(and(eq(users.id, id), live))
          .returning();
        return row;
      } catch (err) {
        translateDbError(err, CONSTRAINTS);
      }
    },
    /** Locks the user's row for the rest of the transaction (role and deletion rules). */
    async lockAdmins(exec: Executor): Promise<void> {
      await exec.execute(sql`select id from ${users} where ${users.role} = 'admin' and ${users.deletedAt} is null for update`);
    },
  };
}

export type UsersRepository = ReturnType<typeof createUsersRepository>;
