import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { AppError, invalidToken } from '../../platform/errors.js';
import { actorOf, requestMeta } from '../../platform/http/context.js';
import { errorResponses } from '../../platform/http/schemas.js';
import { toUserResponse } from '../users/users.schemas.js';
import {
  changePasswordBody,
  forgotPasswordBody,
  loginBody,
  messageSchema,
  refreshBody,
  registerBody,
  resetPasswordBody,
  sessionIdParams,
  sessionsEnvelope,
  tokenDeliveryQuery,
  tokenResponse,
  userEnvelope,
  verifyEmailBody,
} from './auth.schemas.js';
import type { AuthService, IssuedTokens } from './auth.service.js';

// Browser mode: the refresh token lives in an HttpOnly cookie scripts cannot read; a second,
// readable cookie carries the CSRF secret that cookie-authenticated requests echo in a header.
export const REFRESH_COOKIE = '__Host-tandem_refresh';
export const CSRF_COOKIE = '__Host-tandem_csrf';
export const CSRF_HEADER = 'x-csrf-token';
const cookieBase = { path: '/', secure: true, sameSite: 'strict' } as const;

const csrfFailed = () => new AppError('FORBIDDEN', 'CSRF token missing or invalid: send the csrfToken as X-CSRF-Token.');

function tokenReply(reply: FastifyReply, issued: IssuedTokens, message: string, cookieMode: boolean) {
  const base = {
    success: true as const,
    message,
    user: toUserResponse(issued.user),
    accessToken: issued.accessToken,
    tokenType: 'Bearer' as const,
    expiresIn: issued.expiresIn,
  };
  reply.header('cache-control', 'no-store');
  if (!cookieMode) return { ...base, refreshToken: issued.refreshToken };
  const csrfToken = randomBytes(24).toString('base64url');
  reply.setCookie(REFRESH_COOKIE, issued.refreshToken, { ...cookieBase, httpOnly: true, expires: issued.refreshExpiresAt });
  reply.setCookie(CSRF_COOKIE, csrfToken, { ...cookieBase, httpOnly: false, expires: issued.refreshExpiresAt });
  return { ...base, csrfToken };
}

/** The refresh token from the body, or from the cookie when the CSRF header matches. */
function presentedRefreshToken(req: FastifyRequest, fromBody: string | undefined): { token: string; cookie: boolean } {
  if (fromBody) return { token: fromBody, cookie: false };
  const token = req.cookies[REFRESH_COOKIE];
  if (!token) throw invalidToken();
  const expected = req.cookies[CSRF_COOKIE] ?? '';
  const sent = req.headers[CSRF_HEADER];
  if (
    typeof sent !== 'string' ||
    !expected ||
    sent.length !== expected.length ||
    !timingSafeEqual(Buffer.from(sent), Buffer.from(expected))
  ) {
    throw csrfFailed();
  }
  return { token, cookie: true };
}

function clearCookies(reply: FastifyReply) {
  reply.clearCookie(REFRESH_COOKIE, cookieBase);
  reply.clearCookie(CSRF_COOKIE, cookieBase);
}

const tokenErrors = errorResponses(400, 401, 403, 409, 429);

export const authRoutes =
  (service: AuthService): FastifyPluginAsyncZod =>
  async (app) => {
    app.post(
      '/auth/register',
      {
        config: { auth: 'none' },
        schema: {
          tags: ['auth'],
          summary: 'Create an account (the first account becomes admin) and sign in',
          querystring: tokenDeliveryQuery,
          body: registerBody,
          response: { 201: tokenResponse, ...tokenErrors },
        },
      },
      async (req, reply) => {
        const issued = await service.register(req.body, requestMeta(req));
        reply.code(201).header('location', `/api/v1/users/${issued.user.id}`);
        return tokenReply(reply, issued, 'User registered successfully', req.query.cookie);
      },
    );

    app.post(
      '/auth/login',
      {
        config: { auth: 'none' },
        schema: {
          tags: ['auth'],
          summary: 'Sign in with e-mail and password',
          querystring: tokenDeliveryQuery,
          body: loginBody,
          response: { 200: tokenResponse, ...tokenErrors },
        },
      },
      async (req, reply) => tokenReply(reply, await service.login(req.body, requestMeta(req)), 'Login successful', req.query.cookie),
    );

    app.post(
      '/auth/refresh',
      {
        config: { auth: 'none' },
        schema: {
          tags: ['auth'],
          summary: 'Exchange a refresh token for new tokens (the old one is spent; reuse revokes the session)',
          body: refreshBody,
          response: { 200: tokenResponse, ...tokenErrors },
        },
      },
      async (req, reply) => {
        const { token, cookie } = presentedRefreshToken(req, req.body?.refreshToken);
        try {
          return tokenReply(reply, await service.refresh(token, requestMeta(req)), 'Token refreshed', cookie);
        } catch (err) {
          if (cookie) clearCookies(reply);
          throw err;
        }
      },
    );

    app.post(
      '/auth/logout',
      { schema: { tags: ['auth'], summary: 'Sign out this session', response: { 200: messageSchema, ...errorResponses(401) } } },
      async (req, reply) => {
        await service.logout(actorOf(req));
        clearCookies(reply);
        return { success: true as const, message: 'Logged out successfully' };
      },
    );

    app.post(
      '/auth/logout-all',
      {
        schema: {
          tags: ['auth'],
          summary: 'Sign out every session of this account',
          response: { 200: messageSchema, ...errorResponses(401) },
        },
      },
      async (req, reply) => {
        const n = await service.logoutAll(actorOf(req), requestMeta(req));
        clearCookies(reply);
        return { success: true as const, message: `Logged out of ${n} session${n === 1 ? '' : 's'}` };
      },
    );

    app.get(
      '/auth/sessions',
      {
        schema: {
          tags: ['auth'],
          summary: 'Signed-in devices, most recently used first',
          response: { 200: sessionsEnvelope, ...errorResponses(401) },
        },
      },
      async (req) => {
        const actor = actorOf(req);
        const rows = await service.listSessions(actor);
        return {
          success: true as const,
          data: rows.map((s) => ({
            id: s.familyId,
            current: s.familyId === actor.sessionId,
            userAgent: s.userAgent,
            ip: s.ip,
            signedInAt: s.signedInAt.toISOString(),
            lastUsedAt: s.lastUsedAt.toISOString(),
            expiresAt: s.expiresAt.toISOString(),
          })),
        };
      },
    );

    app.delete(
      '/auth/sessions/:id',
      {
        schema: {
          tags: ['auth'],
          summary: 'Sign out one device (its access tokens stop working at once)',
          params: sessionIdParams,
          response: { 200: messageSchema, ...errorResponses(400, 401, 404) },
        },
      },
      async (req) => {
        await service.revokeSession(actorOf(req), req.params.id);
        return { success: true as const, message: 'Session deleted successfully' };
      },
    );

    app.post(
      '/auth/change-password',
      {
        schema: {
          tags: ['auth'],
          summary: 'Change your password; every other session is signed out',
          body: changePasswordBody,
          response: { 200: messageSchema, ...errorResponses(400, 401, 429) },
        },
      },
      async (req) => {
        await service.changePassword(actorOf(req), req.body, requestMeta(req));
        return { success: true as const, message: 'Password changed successfully' };
      },
    );

    app.post(
      '/auth/verify-email/request',
      {
        schema: {
          tags: ['auth'],
          summary: 'Send a new e-mail verification link',
          response: { 202: messageSchema, ...errorResponses(401, 409, 429) },
        },
      },
      async (req, reply) => {
        await service.requestEmailVerification(actorOf(req));
        reply.code(202);
        return { success: true as const, message: 'Verification e-mail sent' };
      },
    );

    app.post(
      '/auth/verify-email',
      {
        config: { auth: 'none' },
        schema: {
          tags: ['auth'],
          summary: 'Confirm an e-mail address with the token from the link',
          body: verifyEmailBody,
          response: { 200: userEnvelope, ...errorResponses(400, 429) },
        },
      },
      async (req) => ({ success: true as const, data: toUserResponse(await service.verifyEmail(req.body.token, requestMeta(req))) }),
    );

    app.post(
      '/auth/forgot-password',
      {
        config: { auth: 'none' },
        schema: {
          tags: ['auth'],
          summary: 'Send a password-reset link (the answer is the same whether or not the address has an account)',
          body: forgotPasswordBody,
          response: { 202: messageSchema, ...errorResponses(400, 429) },
        },
      },
      async (req, reply) => {
        await service.requestPasswordReset(req.body.email, requestMeta(req));
        reply.code(202);
        return { success: true as const, message: 'If an account exists for that address, a reset link is on its way.' };
      },
    );

    app.post(
      '/auth/reset-password',
      {
        config: { auth: 'none' },
        schema: {
          tags: ['auth'],
          summary: 'Set a new password with the token from the reset link; every session is signed out',
          body: resetPasswordBody,
          response: { 200: messageSchema, ...errorResponses(400, 429) },
        },
      },
      async (req) => {
        await service.resetPassword(req.body, requestMeta(req));
        return { success: true as const, message: 'Password reset successfully' };
      },
    );
  };
