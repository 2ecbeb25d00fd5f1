// Idempotency keys on POST creates (api.md "Writes"): the first response to a caller's key is
// stored for 24 h and replayed to the same key; the same key with another request is 422; the
// same key while the first request still runs is 409. Routes opt in with `config.idempotent`.
// The claim on a key is a row inserted before the handler runs, so two racing requests with
// one key cannot both run: the primary key decides.
import { createHash } from 'node:crypto';
import { and, eq, isNull, lt, lte, or } from 'drizzle-orm';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Db } from '../db/client.js';
import { AppError, conflict, validationFailed } from '../errors.js';
import { idempotencyKeys } from './idempotency.table.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A POST create that honours Idempotency-Key. */
    idempotent?: boolean;
  }
  interface FastifyRequest {
    idempotencyClaim: { userId: string; key: string } | null;
  }
}

const TTL_MS = 24 * 3600 * 1000;
/** A claim without a response this old belonged to a process that died mid-request. */
const STALE_MS = 60 * 1000;
const REPLAYED_HEADERS = ['location', 'etag', 'content-type'] as const;

export const idempotencyHeaders = z.object({
  'idempotency-key': z
    .string()
    .min(1)
    .max(255)
    .regex(/^[\x21-\x7e]+$/, { message: 'must be 1 to 255 visible ASCII characters' })
    .optional()
    .describe('Replays the first response to this key for 24 h (same body → same answer; another body → 422; still running → 409)'),
});

const mismatch = () =>
  new AppError('IDEMPOTENCY_MISMATCH', 'This Idempotency-Key was already used with a different request; use a new key for a new request.');
const inFlight = () => conflict('a request with this Idempotency-Key is still being processed; retry after it completes');

export interface IdempotencyStore {
  /** Deletes expired keys; returns how many. */
  sweep(now?: Date): Promise<number>;
  register(app: FastifyInstance): void;
}

export function createIdempotencyStore(db: Db, log: Logger, clock: () => Date = () => new Date()): IdempotencyStore {
  const hashOf = (req: FastifyRequest) =>
    createHash('sha256')
      .update(`${req.method} ${req.url}\n`)
      .update(JSON.stringify(req.body ?? null))
      .digest('base64url');

  async function claim(req: FastifyRequest, reply: FastifyReply, userId: string, key: string): Promise<boolean> {
    const now = clock();
    const requestHash = hashOf(req);
    const endpoint = `${req.method} ${req.routeOptions.url}`;
    for (let attempt = 0; attempt < 2; attempt++) {
      const inserted = await db
        .insert(idempotencyKeys)
        .values({ userId, key, endpoint, requestHash, createdAt: now, expiresAt: new Date(now.getTime() + TTL_MS) })
        .onConflictDoNothing()
        .returning({ key: idempotencyKeys.key });
      if (inserted.length > 0) return true;
      const [existing] = await db
        .select()
        .from(idempotencyKeys)
        .where(and(eq(idempotencyKeys.userId, userId), eq(idempotencyKeys.key, key)))
        .limit(1);
      if (!existing) continue; // released in between: claim again
      const expired = existing.expiresAt <= now;
      const abandoned = existing.completedAt === null && now.getTime() - existing.createdAt.getTime() > STALE_MS;
      if (expired || abandoned) {
        // Conditional, so two retries cannot both take over the same dead claim.
        await db
          .delete(idempotencyKeys)
          .where(
            and(
              eq(idempotencyKeys.userId, userId),
              eq(idempotencyKeys.key, key),
              or(
                lte(idempotencyKeys.expiresAt, now),
                and(isNull(idempotencyKeys.completedAt), lt(idempotencyKeys.createdAt, new Date(now.getTime() - STALE_MS))),
              ),
            ),
          );
        continue;
      }
      // Still running: its outcome is unknown, whatever this request carries.
      if (existing.completedAt === null || existing.responseStatus === null) throw inFlight();
      if (existing.requestHash !== requestHash || existing.endpoint !== endpoint) throw mismatch();
      reply
        .code(existing.responseStatus)
        .headers({ ...(existing.responseHeaders ?? {}), 'idempotent-replayed': 'true' })
        .send(existing.responseBody ?? '');
      return false;
    }
    throw inFlight();
  }

  async function complete(req: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<void> {
    const c = req.idempotencyClaim;
    if (!c) return;
    req.idempotencyClaim = null;
    const where = and(eq(idempotencyKeys.userId, c.userId), eq(idempotencyKeys.key, c.key));
    // A server error is not an answer worth replaying: the client may retry with the same key.
    if (reply.statusCode >= 500 || typeof payload !== 'string') {
      await db.delete(idempotencyKeys).where(where);
      return;
    }
    const headers: Record<string, string> = {};
    for (const name of REPLAYED_HEADERS) {
      const value = reply.getHeader(name);
      if (typeof value === 'string') headers[name] = value;
    }
    await db
      .update(idempotencyKeys)
      .set({ responseStatus: reply.statusCode, responseBody: payload, responseHeaders: headers, completedAt: clock() })
      .where(where);
  }

  return {
    async sweep(now = clock()) {
      const removed = await db.delete(idempotencyKeys).where(lt(idempotencyKeys.expiresAt, now)).returning({ key: idempotencyKeys.key });
      return removed.length;
    },

    register(app) {
      app.decorateRequest('idempotencyClaim', null);
      app.addHook('onRoute', (route) => {
        if (!route.config?.idempotent) return;
        if (route.method !== 'POST') throw new Error(`idempotent is for POST creates, not ${String(route.method)} ${route.url}`);
        route.schema = { ...route.schema, headers: idempotencyHeaders };
      });
      app.addHook('preHandler', async (req, reply) => {
        if (!req.routeOptions.config?.idempotent) return;
        const key = req.headers['idempotency-key'];
        if (key === undefined) return;
        if (typeof key !== 'string') throw validationFailed([{ path: 'Idempotency-Key', message: 'must be sent once' }]);
        if (!req.actor) return;
        // false: the stored response has been replayed, so the handler must not run.
        if (!(await claim(req, reply, req.actor.userId, key))) return reply;
        req.idempotencyClaim = { userId: req.actor.userId, key };
      });
      app.addHook('onSend', async (req, reply, payload) => {
        if (!req.idempotencyClaim) return payload;
        await complete(req, reply, payload).catch((err: unknown) => req.log.error({ err }, 'idempotency key could not be stored'));
        return payload;
      });
      log.debug('idempotency keys enabled');
    },
  };
}
