// What the HTTP layer hands a service: who is calling (Actor) and from where (RequestMeta).
import type { FastifyRequest } from 'fastify';
import type { GlobalRole } from '../auth/tokens.js';
import { noToken } from '../errors.js';

export interface Actor {
  readonly userId: string;
  readonly role: GlobalRole;
  readonly sessionId: string;
}

export interface RequestMeta {
  readonly requestId: string;
  readonly ip: string;
  readonly userAgent: string | undefined;
}

export type AuthMode = 'required' | 'optional' | 'none';

declare module 'fastify' {
  interface FastifyRequest {
    actor: Actor | null;
  }
  interface FastifyContextConfig {
    /** Who may call: `required` (default under /api), `optional`, or `none`. */
    auth?: AuthMode;
    /** A global role the caller must have, refused in preValidation (before validation). */
    role?: GlobalRole;
    /** Leave the general rate-limit bucket out (health probes, metrics). */
    rateLimit?: false;
  }
}

export function requestMeta(req: FastifyRequest): RequestMeta {
  const ua = req.headers['user-agent'];
  return { requestId: req.id, ip: req.ip, userAgent: typeof ua === 'string' ? ua.slice(0, 512) : undefined };
}

/** The authenticated caller; routes with `auth: 'required'` always have one. */
export function actorOf(req: FastifyRequest): Actor {
  if (!req.actor) throw noToken();
  return req.actor;
}
