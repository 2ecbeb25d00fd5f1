// The request pipeline of architecture.md, in order: security headers and CORS, request id
// and access log, rate limit; authentication and the error envelope are registered by app.ts.

import { randomUUID } from 'node:crypto';
import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../observability/metrics.js';
import { type RateLimiter, rateLimitHeaders } from './rate-limit.js';

const WELL_FORMED_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** A client's X-Request-Id is kept when it is well-formed; otherwise we mint one. */
export function requestIdFrom(header: string | string[] | undefined): string {
  return typeof header === 'string' && WELL_FORMED_REQUEST_ID.test(header) ? header : randomUUID();
}

export interface PipelineOptions {
  corsOrigins: readonly string[];
  metrics: Metrics;
  limiter: RateLimiter;
}

export async function registerPipeline(app: FastifyInstance, { corsOrigins, metrics, limiter }: PipelineOptions) {
  await app.register(helmet, {
    // An API answers JSON: nothing may be loaded or framed. The docs page sets its own policy.
    contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
    crossOriginResourcePolicy: { policy: 'same-site' },
  });
  await app.register(cors, {
    origin: corsOrigins.length > 0 ? [...corsOrigins] : false,
    credentials: true,
    exposedHeaders: ['X-Request-Id', 'RateLimit', 'RateLimit-Policy', 'Retry-After', 'ETag', 'Location', 'WWW-Authenticate'],
    maxAge: 600,
  });

  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-request-id', req.id);
    if (req.routeOptions.config?.rateLimit === false) return;
    const state = await limiter.consume('general', req.ip);
    reply.headers(rateLimitHeaders(state));
  });

  app.addHook('onResponse', (req, reply, done) => {
    const route = req.routeOptions.url ?? 'unmatched';
    metrics.httpDuration.observe({ method: req.method, route, status_code: String(reply.statusCode) }, reply.elapsedTime / 1000);
    const entry = {
      method: req.method,
      url: req.url,
      route,
      statusCode: reply.statusCode,
      ms: Math.round(reply.elapsedTime * 10) / 10,
      userId: req.actor?.userId,
      ip: req.ip,
    };
    if (req.routeOptions.config?.rateLimit === false) req.log.debug(entry, 'request completed');
    else req.log.info(entry, 'request completed');
    done();
  });
}
