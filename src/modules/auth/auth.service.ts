// Accounts and sign-in: registration, password login, rotating refresh tokens with reuse
// detection (RFC 9700), sessions per device, e-mail verification and password reset.
import type { Logger } from 'pino';
import { dummyPasswordHash, hashPassword, passwordWeakness, verifyPassword } from '../../platform/auth/passwords.js';
import type { Revocations } from '../../platform/auth/revocations.js';
import { type AccessTokens, hashOpaqueToken, newOpaqueToken } from '../../platform/auth/tokens.js';
import type { Db, Executor } from '../../platform/db/client.js';
import { inTransaction } from '../../platform/db/transaction.js';
import { conflict, invalidCredentials, invalidToken, notFound, validationFailed } from '../../platform/errors.js';
import type { Actor, RequestMeta } from '../../platform/http/context.js';
import type { RateLimiter } from '../../platform/http/rate-limit.js';
import { newId } from '../../platform/ids.js';
import type { Mailer } from '../../platform/mail/mailer.js';
import type { AuditRecorder } from '../audit/audit.service.js';
import type { NewUserRow, UserRow } from '../users/users.table.js';
import { passwordResetMail, verificationMail } from './auth.mail.js';
import type { ActiveSession, AuthRepository, TokenPurpose } from './auth.repository.js';

/** What auth needs of the user store (the users repository satisfies it). */
export interface UserAccounts {
  findById(id: string, exec?: Executor): Promise<UserRow | undefined>;
  findByEmail(email: string, exec?: Executor): Promise<UserRow | undefined>;
  /** Inserts a user; the very first user of the instance becomes admin. Needs a transaction. */
  insertFirstIsAdmin(tx: Executor, row: Omit<NewUserRow, 'role'>): Promise<UserRow>;
  update(exec: Executor, id: string, patch: Partial<NewUserRow>): Promise<UserRow | undefined>;
}

/** Joins a newly registered account to the workspace its invitation link names (same transaction). */
export interface InvitationAcceptor {
  acceptOnRegistration(tx: Executor, token: string, user: { id: string; email: string }): Promise<void>;
}

export interface IssuedTokens {
  user: UserRow;
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  refreshExpiresAt: Date;
}

export interface AuthServiceDeps {
  db: Db;
  accounts: UserAccounts;
  sessions: AuthRepository;
  tokens: AccessTokens;
  revocations: Revocations;
  audit: AuditRecorder;
  mailer: Mailer;
  limiter: RateLimiter;
  log: Logger;
  refreshTokenTtlSeconds: number;
  appUrl: string;
  invitations?: InvitationAcceptor;
  clock?: () => Date;
}

const VERIFICATION_TTL_MS = 24 * 3600 * 1000;
const RESET_TTL_MS = 3600 * 1000;

const badToken = () => validationFailed([{ path: 'token', message: 'is invalid or has expired' }]);

export function createAuthService(deps: AuthServiceDeps) {
  const { db, accounts, sessions, tokens, revocations, audit, mailer, limiter, log, clock = () => new Date() } = deps;
  // Computed now so the first login for an unknown address costs no more than any other.
  void dummyPasswordHash();

  async function issue(
    exec: Executor,
    user: UserRow,
    meta: RequestMeta,
    family?: { familyId: string; parentId: string; expiresAt: Date },
  ): Promise<IssuedTokens> {
    const now = clock();
    const { token, hash } = newOpaqueToken();
    const familyId = family?.familyId ?? newId();
    const expiresAt = family?.expiresAt ?? new Date(now.getTime() + deps.refreshTokenTtlSeconds * 1000);
    await sessions.insertSession(exec, {
      id: newId(),
      userId: user.id,
      familyId,
      parentId: family?.parentId ?? null,
      refreshTokenHash: hash,
      userAgent: meta.userAgent ?? null,
      ip: meta.ip,
      createdAt: now,
      lastUsedAt: now,
      expiresAt,
    });
    return {
      user,
      accessToken: tokens.sign({ sub: user.id, sid: familyId, role: user.role }),
      refreshToken: token,
      expiresIn: tokens.ttlSeconds,
      refreshExpiresAt: expiresAt,
    };
  }

  function checkPassword(password: string, field: string, personal: string[]): void {
    const weakness = passwordWeakness(password, personal);
    if (weakness) throw validationFailed([{ path: field, message: weakness }]);
  }

  /** Revokes session families now and in every process; returns the ids revoked. */
  async function revokeFamilies(userId: string, which: string[] | 'all', reason: string, keep?: string): Promise<string[]> {
    const ids = await inTransaction(db, async (tx) => {
      let targets = which;
      if (keep && which === 'all') {
        targets = (await sessions.listActive(userId, clock())).map((s) => s.familyId).filter((id) => id !== keep);
      }
      const revoked = await sessions.revokeFamilies(tx, userId, targets, reason, clock());
      if (revoked.length > 0) await revocations.announce(tx, { kind: 'sessions', ids: revoked });
      return revoked;
    });
    revocations.apply({ kind: 'sessions', ids });
    return ids;
  }

  async function sendTokenMail(user: UserRow, purpose: TokenPurpose, ttlMs: number): Promise<void> {
    const { token, hash } = newOpaqueToken();
    const now = clock();
    await inTransaction(db, async (tx) => {
      await sessions.expireTokens(tx, user.id, purpose, now);
      await sessions.insertToken(tx, {
        id: newId(),
        userId: user.id,
        purpose,
        tokenHash: hash,
        email: user.email,
        expiresAt: new Date(now.getTime() + ttlMs),
      });
    });
    const message =
      purpose === 'email_verification'
        ? verificationMail(user, `${deps.appUrl}/verify-email?token=${token}`)
        : passwordResetMail(user, `${deps.appUrl}/reset-password?token=${token}`);
    // The request does not wait on the mail relay; a failure is logged for the operator.
    mailer.send(message).catch((err: Error) => log.error({ err: err.message, userId: user.id, purpose }, 'mail could not be sent'));
  }

  return {
    /**
     * Creates an account (the very first one is the instance admin). With an invitation token
     * the account joins that workspace in the same transaction, and its address counts as
     * verified: the link reached it.
     */
    async register(
      input: { name: string; email: string; password: string; invitationToken?: string },
      meta: RequestMeta,
    ): Promise<IssuedTokens> {
      await limiter.consume('auth-ip', meta.ip);
      checkPassword(input.password, 'password', [input.email, input.name]);
      const passwordHash = await hashPassword(input.password);
      const invited = input.invitationToken !== undefined && deps.invitations !== undefined;
      const issued = await inTransaction(db, async (tx) => {
        const user = await accounts.insertFirstIsAdmin(tx, {
          id: newId(),
          name: input.name,
          email: input.email,
          passwordHash,
          emailVerifiedAt: invited ? clock() : null,
        });
        if (input.invitationToken !== undefined) await deps.invitations?.acceptOnRegistration(tx, input.invitationToken, user);
        await audit.record(
          tx,
          {
            action: 'user.registered',
            actorId: user.id,
            targetType: 'user',
            targetId: user.id,
            metadata: invited ? { role: user.role, invited: true } : { role: user.role },
          },
          meta,
        );
        return issue(tx, user, meta);
      });
      if (!invited) await sendTokenMail(issued.user, 'email_verification', VERIFICATION_TTL_MS);
      return issued;
    },

    async login(input: { email: string; password: string }, meta: RequestMeta): Promise<IssuedTokens> {
      const accountKey = input.email.toLowerCase();
      await limiter.consume('auth-ip', meta.ip);
      await limiter.check('auth-account', accountKey);
      const user = await accounts.findByEmail(input.email);
      const usable = user?.passwordHash && !user.disabledAt ? user : undefined;
      // Same work whether or not the account exists, so timing reveals nothing.
      const ok = await verifyPassword(usable?.passwordHash ?? (await dummyPasswordHash()), input.password);
      if (!usable || !ok) {
        await audit.record(
          db,
          {
            action: 'auth.login_failed',
            actorId: usable?.id ?? null,
            targetType: 'user',
            targetId: usable?.id,
            metadata: { email: accountKey },
          },
          meta,
        );
        await limiter.consume('auth-account', accountKey);
        throw invalidCredentials();
      }
      await limiter.reset('auth-account', accountKey);
      return inTransaction(db, async (tx) => {
        await audit.record(tx, { action: 'auth.login', actorId: usable.id, targetType: 'user', targetId: usable.id }, meta);
        return issue(tx, usable, meta);
      });
    },

    /** Rotates a refresh token. Presenting a spent one revokes its whole family. */
    async refresh(refreshToken: string, meta: RequestMeta): Promise<IssuedTokens> {
      await limiter.consume('auth-ip', meta.ip);
      const now = clock();
      const row = await sessions.findSessionByHash(hashOpaqueToken(refreshToken));
      if (!row || row.revokedAt || row.expiresAt <= now) throw invalidToken();
      const rotated = await inTransaction(db, async (tx) => {
        if (!(await sessions.markUsed(tx, row.id, now))) return undefined;
        const user = await accounts.findById(row.userId, tx);
        if (!user || user.disabledAt) throw invalidToken();
        return issue(tx, user, meta, { familyId: row.familyId, parentId: row.id, expiresAt: row.expiresAt });
      });
      if (rotated) return rotated;
      // Spent already (or just now, by a racing request): the token has leaked or been replayed.
      await revokeFamilies(row.userId, [row.familyId], 'refresh_token_reuse');
      await audit.record(db, { action: 'auth.refresh_reuse', actorId: row.userId, targetType: 'session', targetId: row.familyId }, meta);
      log.warn({ userId: row.userId, sessionId: row.familyId }, 'refresh token reuse: session family revoked');
      throw invalidToken();
    },

    async logout(actor: Actor): Promise<void> {
      await revokeFamilies(actor.userId, [actor.sessionId], 'logout');
    },

    async logoutAll(actor: Actor, meta: RequestMeta): Promise<number> {
      const ids = await revokeFamilies(actor.userId, 'all', 'logout_all');
      await audit.record(
        db,
        {
          action: 'auth.logout_all',
          actorId: actor.userId,
          targetType: 'user',
          targetId: actor.userId,
          metadata: { sessions: ids.length },
        },
        meta,
      );
      return ids.length;
    },

    listSessions: (actor: Actor): Promise<ActiveSession[]> => sessions.listActive(actor.userId, clock()),

    async revokeSession(actor: Actor, sessionId: string): Promise<void> {
      const revoked = await revokeFamilies(actor.userId, [sessionId], 'revoked_by_user');
      if (revoked.length === 0) throw notFound('session');
    },

    async changePassword(actor: Actor, input: { currentPassword: string; newPassword: string }, meta: RequestMeta): Promise<void> {
      const key = `password-change:${actor.userId}`;
      await limiter.check('auth-account', key);
      const user = await accounts.findById(actor.userId);
      if (!user) throw invalidToken();
      if (!user.passwordHash || !(await verifyPassword(user.passwordHash, input.currentPassword))) {
        await limiter.consume('auth-account', key);
        throw validationFailed([{ path: 'currentPassword', message: 'is incorrect' }]);
      }
      if (input.newPassword === input.currentPassword) {
        throw validationFailed([{ path: 'newPassword', message: 'must differ from the current password' }]);
      }
      checkPassword(input.newPassword, 'newPassword', [user.email, user.name]);
      const passwordHash = await hashPassword(input.newPassword);
      await inTransaction(db, async (tx) => {
        await accounts.update(tx, user.id, { passwordHash });
        await audit.record(tx, { action: 'user.password_changed', actorId: user.id, targetType: 'user', targetId: user.id }, meta);
      });
      await revokeFamilies(user.id, 'all', 'password_changed', actor.sessionId);
    },

    async requestEmailVerification(actor: Actor): Promise<void> {
      const user = await accounts.findById(actor.userId);
      if (!user) throw invalidToken();
      if (user.emailVerifiedAt) throw conflict('this e-mail address is already verified');
      await limiter.consume('auth-account', `verify:${user.id}`);
      await sendTokenMail(user, 'email_verification', VERIFICATION_TTL_MS);
    },

    async verifyEmail(token: string, meta: RequestMeta): Promise<UserRow> {
      await limiter.consume('auth-ip', meta.ip);
      return inTransaction(db, async (tx) => {
        const spent = await sessions.consumeToken(tx, 'email_verification', hashOpaqueToken(token), clock());
        const user = spent && (await accounts.findById(spent.userId, tx));
        // A link proves the address it was sent to, not one the user changed to later.
        if (!spent || !user || user.email.toLowerCase() !== spent.email.toLowerCase()) throw badToken();
        const verified = await accounts.update(tx, user.id, { emailVerifiedAt: clock() });
        await audit.record(tx, { action: 'user.email_verified', actorId: user.id, targetType: 'user', targetId: user.id }, meta);
        return verified ?? user;
      });
    },

    /** Always answers the same, whether or not the address has an account. */
    async requestPasswordReset(email: string, meta: RequestMeta): Promise<void> {
      await limiter.consume('auth-ip', meta.ip);
      await limiter.consume('auth-account', `reset:${email.toLowerCase()}`);
      const user = await accounts.findByEmail(email);
      if (!user || user.disabledAt) return;
      await audit.record(db, { action: 'auth.password_reset_requested', actorId: null, targetType: 'user', targetId: user.id }, meta);
      await sendTokenMail(user, 'password_reset', RESET_TTL_MS);
    },

    async resetPassword(input: { token: string; password: string }, meta: RequestMeta): Promise<void> {
      await limiter.consume('auth-ip', meta.ip);
      const passwordHash = await hashPassword(input.password);
      const userId = await inTransaction(db, async (tx) => {
        const spent = await sessions.consumeToken(tx, 'password_reset', hashOpaqueToken(input.token), clock());
        const user = spent && (await accounts.findById(spent.userId, tx));
        if (!spent || !user) throw badToken();
        checkPassword(input.password, 'password', [user.email, user.name]);
        await accounts.update(tx, user.id, {
          passwordHash,
          // Following the link proved control of the address.
          ...(user.emailVerifiedAt ? {} : { emailVerifiedAt: clock() }),
        });
        await audit.record(tx, { action: 'user.password_reset', actorId: user.id, targetType: 'user', targetId: user.id }, meta);
        return user.id;
      });
      await revokeFamilies(userId, 'all', 'password_reset');
    },
  };
}

export type AuthService = ReturnType<typeof createAuthService>;
