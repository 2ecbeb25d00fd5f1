// Authentication runs in `onRequest`, before any body is read: without a valid token a
// protected route answers 401 whatever its input. Role-only routes refuse in
// `preValidation`, before validating.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Revocations } from '../auth/revocations.js';
import type { AccessTokens } from '../auth/tokens.js';
import { forbidden, invalidToken, noToken } from '../errors.js';
import type { Actor } from './context.js';

export interface Authenticator {
  /** The caller named by the request's bearer token; null when it carries none. */
  authenticate(req: FastifyRequest): Actor | null;
  /** The caller named by a raw access token (for Socket.IO handshakes). */
  verify(token: string): Actor;
}

const BEARER = /^Bearer +([A-Za-z0-9\-_.~+/]+=*) *$/i;

export function createAuthenticator(tokens: AccessTokens, revocations: Revocations): Authenticator {
  const verify = (token: string): Actor => {
    let claims: ReturnType<AccessTokens['verify']>;
    try {
      claims = tokens.verify(token);
    } catch {
      throw invalidToken();
    }
    if (revocations.isSessionRevoked(claims.sid)) throw invalidToken();
    return { userId: claims.sub, sessionId: claims.sid, role: revocations.currentRole(claims.sub) ?? claims.role };
  };
  return {
    verify,
    authenticate(req) {
      const header = req.headers.authorization;
      if (header === undefined || header === '') return null;
      const match = BEARER.exec(header);
      if (!match?.[1]) throw invalidToken();
      return verify(match[1]);
    },
  };
}

export function registerAuthentication(app: FastifyInstance, authenticator: Authenticator): void {
  app.decorateRequest('actor', null);
  // Synchronous work, so callback-style hooks: no promise per request on the hot path.
  app.addHook('onRequest', (req, _reply, done) => {
    const mode = req.routeOptions.config?.auth ?? 'none';
    if (mode === 'none') return done();
    try {
      const actor = authenticator.authenticate(req);
      if (!actor && mode === 'required') return done(noToken());
      req.actor = actor;
      done();
    } catch (err) {
      done(err as Error);
    }
  });
  app.addHook('preValidation', (req, _reply, done) => {
    const role = req.routeOptions.config?.role;
    done(role && req.actor?.role !== role ? forbidden() : undefined);
  });
}
