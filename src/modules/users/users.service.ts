// People on this instance: the directory, self-service profile changes, and the admin's
// role changes and deletions.
import type { Revocations } from '../../platform/auth/revocations.js';
import type { GlobalRole } from '../../platform/auth/tokens.js';
import type { Db, Executor } from '../../platform/db/client.js';
import { inTransaction } from '../../platform/db/transaction.js';
import { conflict, forbidden, notFound, requireVersion, validationFailed } from '../../platform/errors.js';
import type { Actor, RequestMeta } from '../../platform/http/context.js';
import type { AuditRecorder } from '../audit/audit.service.js';
import type { UserListFilter, UsersRepository } from './users.repository.js';
import type { UserRow } from './users.table.js';

/** What the users service needs of the auth module: end every session of a user. */
export interface UserSessions {
  /** Ends the user's sessions and drops their one-time tokens; returns the session ids. */
  endAllForUser(exec: Executor, userId: string, now: Date): Promise<string[]>;
}

export interface ProfilePatch {
  name?: string;
  email?: string;
}

export interface UserReplacement {
  name: string;
  email: string;
  role?: GlobalRole;
}

export interface UsersServiceDeps {
  db: Db;
  users: UsersRepository;
  sessions: UserSessions;
  revocations: Revocations;
  audit: AuditRecorder;
  clock?: () => Date;
}

export function createUsersService({ db, users, sessions, revocations, audit, clock = () => new Date() }: UsersServiceDeps) {
  async function requireUser(id: string, exec: Executor = db): Promise<UserRow> {
    const user = await users.findById(id, exec);
    if (!user) throw notFound('user');
    return user;
  }

  /** Locks the row for the transaction and checks the caller's If-Match versions, if any. */
  async function lockUser(tx: Executor, id: string, expectedVersions?: number[]): Promise<UserRow> {
    const user = await users.findByIdForUpdate(tx, id);
    if (!user) throw notFound('user');
    requireVersion(user.version, expectedVersions);
    return user;
  }

  /** Writes the given profile fields; a new address must be verified again. */
  async function writeProfile(exec: Executor, current: UserRow, fields: ProfilePatch): Promise<UserRow> {
    const emailChanged = fields.email !== undefined && fields.email.toLowerCase() !== current.email.toLowerCase();
    const updated = await users.update(exec, current.id, {
      ...(fields.name !== undefined ? { name: fields.name } : {}),
      ...(fields.email !== undefined ? { email: fields.email } : {}),
      ...(emailChanged ? { emailVerifiedAt: null } : {}),
    });
    if (!updated) throw notFound('user');
    return updated;
  }

  /** Refuses to leave the instance without an admin (rows locked by the caller). */
  async function assertAnotherAdminRemains(exec: Executor, target: UserRow): Promise<void> {
    if (target.role !== 'admin') return;
    await users.lockAdmins(exec);
    if ((await users.countAdmins(exec)) <= 1) throw conflict('the last admin cannot be removed or demoted');
  }

  return {
    getUser: (_actor: Actor, id: string) => requireUser(id),

    listUsers: (_actor: Actor, filter: UserListFilter) => users.list(filter),

    getMe: (actor: Actor) => requireUser(actor.userId),

    async updateMe(actor: Actor, patch: ProfilePatch, meta: RequestMeta, expectedVersions?: number[]): Promise<UserRow> {
      return inTransaction(db, async (tx) => {
        const current = await lockUser(tx, actor.userId, expectedVersions);
        const updated = await writeProfile(tx, current, patch);
        await audit.record(
          tx,
          {
            action: 'user.updated',
            actorId: actor.userId,
            targetType: 'user',
            targetId: current.id,
            metadata: { fields: Object.keys(patch) },
          },
          meta,
        );
        return updated;
      });
    },

    /** PUT: self or an admin; only an admin may set a role (the schema refuses it to others). */
    async replaceUser(actor: Actor, id: string, body: UserReplacement, meta: RequestMeta, expectedVersions?: number[]): Promise<UserRow> {
      const isAdmin = actor.role === 'admin';
      if (!isAdmin && actor.userId !== id) {
        // A user may see others but not change them: 403, the user exists and is visible.
        await requireUser(id);
        throw forbidden();
      }
      if (body.role !== undefined && !isAdmin) {
        throw validationFailed([{ path: 'role', message: 'can only be changed by an admin' }]);
      }
      const { user, roleChanged } = await inTransaction(db, async (tx) => {
        const current = await lockUser(tx, id, expectedVersions);
        let updated = await writeProfile(tx, current, { name: body.name, email: body.email });
        const roleChanged = body.role !== undefined && body.role !== current.role;
        if (roleChanged && body.role) {
          await assertAnotherAdminRemains(tx, current);
          const withRole = await users.update(tx, id, { role: body.role });
          if (!withRole) throw notFound('user');
          updated = withRole;
          await audit.record(
            tx,
            {
              action: 'user.role_changed',
              actorId: actor.userId,
              targetType: 'user',
              targetId: id,
              metadata: { from: current.role, to: body.role },
            },
            meta,
          );
          await revocations.announce(tx, { kind: 'role', userId: id, role: body.role, changedAt: updated.updatedAt.getTime() });
        }
        await audit.record(
          tx,
          { action: 'user.updated', actorId: actor.userId, targetType: 'user', targetId: id, metadata: { fields: Object.keys(body) } },
          meta,
        );
        return { user: updated, roleChanged };
      });
      if (roleChanged) revocations.apply({ kind: 'role', userId: id, role: user.role, changedAt: user.updatedAt.getTime() });
      return user;
    },

    /** Admin only. Keeps authored content (shown as a deleted user), removes personal data and sessions. */
    async deleteUser(actor: Actor, id: string, meta: RequestMeta, expectedVersions?: number[]): Promise<void> {
      if (actor.role !== 'admin') throw forbidden();
      const ended = await inTransaction(db, async (tx) => {
        const target = await lockUser(tx, id, expectedVersions);
        await assertAnotherAdminRemains(tx, target);
        await users.update(tx, id, {
          email: `deleted-${id}@deleted.invalid`,
          name: 'Deleted user',
          passwordHash: null,
          emailVerifiedAt: null,
          avatarFileId: null,
          deletedAt: clock(),
        });
        const sessionIds = await sessions.endAllForUser(tx, id, clock());
        if (sessionIds.length > 0) await revocations.announce(tx, { kind: 'sessions', ids: sessionIds });
        await audit.record(tx, { action: 'user.deleted', actorId: actor.userId, targetType: 'user', targetId: id }, meta);
        return sessionIds;
      });
      revocations.apply({ kind: 'sessions', ids: ended });
    },
  };
}

export type UsersService = ReturnType<typeof createUsersService>;
