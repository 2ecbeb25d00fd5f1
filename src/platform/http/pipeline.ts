// The request pipeline of architecture.md, in order: security headers and CORS, request id
// and access log, rate limit; authentication and the error envelope are registered by app.ts.

import { randomUUID } from 'node:crypto';
import cors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../observability/metrics.js';
import { type RateLimiter, rateLimitHeaders } from './rate-limit.js';

const WELL_FORMED_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** A client's X-Request-Id is kept when it is well-formed; otherwise we mint one. */
export function requestIdFrom(header: string | string[] | undefined): string {
  return typeof header === 'string' && WELL_FORMED_REQUEST_ID.test(header) ? header : randomUUID();
}

/**
 * The headers @fastify/helmet sent with our configuration (its defaults, a CSP under which an
 * API's JSON can load or be framed by nothing, CORP same-site), written out once: helmet built its
 * middleware and parsed the CSP again on every request, for a set that never changes.
 * pipeline.test.ts checks it against helmet's own output. The docs page replaces the CSP with its
 * own (openapi.ts).
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy': "default-src 'none';frame-ancestors 'none'",
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-site',
  'origin-agent-cluster': '?1',
  'referrer-policy': 'no-referrer',
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-dns-prefetch-control': 'off',
  'x-download-options': 'noopen',
  'x-frame-options': 'SAMEORIGIN',
  'x-permitted-cross-domain-policies': 'none',
  'x-xss-protection': '0',
});

export interface PipelineOptions {
  corsOrigins: readonly string[];
  metrics: Metrics;
  limiter: RateLimiter;
}

export async function registerPipeline(app: FastifyInstance, { corsOrigins, metrics, limiter }: PipelineOptions) {
  // Before CORS, so that its preflight answers carry them too.
  app.addHook('onRequest', (_req, reply, done) => {
    reply.headers(SECURITY_HEADERS);
    done();
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
    // Each `req.routeOptions` builds a fresh object: read it once.
    const config = req.routeOptions.config;
    const route = config?.url ?? 'unmatched';
    const elapsedMs = reply.elapsedTime;
    metrics.httpDuration.observe({ method: req.method, route, status_code: String(reply.statusCode) }, elapsedMs / 1000);
    const entry = {
      method: req.method,
      url: req.url,
      route,
      statusCode: reply.statusCode,
      ms: Math.round(elapsedMs * 10) / 10,
      userId: req.actor?.userId,
      ip: req.ip,
    };
    if (config?.rateLimit === false) req.log.debug(entry, 'request completed');
    else req.log.info(entry, 'request completed');
    done();
  });
}
