import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import helmet from '@fastify/helmet';
import Fastify from 'fastify';
import { Registry } from 'prom-client';
import type { Metrics } from '../observability/metrics.js';
import { registerPipeline, SECURITY_HEADERS } from './pipeline.js';
import type { RateLimiter } from './rate-limit.js';

/** What Fastify sends without any plugin; everything else on helmet's answer is helmet's. */
const FASTIFY_OWN = new Set(['content-type', 'content-length', 'date', 'connection', 'keep-alive']);

const limiter: RateLimiter = {
  consume: async () => ({ bucket: 'general', limit: 10, remaining: 9, resetSeconds: 60, windowSeconds: 60 }),
  check: async () => undefined,
  reset: async () => undefined,
};
const metrics = { registry: new Registry(), httpDuration: { observe: () => undefined } } as unknown as Metrics;

describe('security headers', () => {
  it('are exactly what @fastify/helmet sent with the configuration they replace', async () => {
    const app = Fastify();
    await app.register(helmet, {
      contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
      crossOriginResourcePolicy: { policy: 'same-site' },
    });
    app.get('/', async () => ({ ok: true }));
    const res = await app.inject('/');
    const fromHelmet = Object.fromEntries(Object.entries(res.headers).filter(([name]) => !FASTIFY_OWN.has(name)));
    assert.deepEqual(fromHelmet, SECURITY_HEADERS);
    await app.close();
  });

  it('are on answers, errors and CORS preflights', async () => {
    const app = Fastify();
    await registerPipeline(app, { corsOrigins: ['https://app.example.com'], metrics, limiter });
    app.get('/thing', async () => ({ ok: true }));
    const answers = [
      await app.inject('/thing'),
      await app.inject('/no-such-thing'),
      await app.inject({
        method: 'OPTIONS',
        url: '/thing',
        headers: { origin: 'https://app.example.com', 'access-control-request-method': 'GET' },
      }),
    ];
    assert.deepEqual(
      answers.map((r) => r.statusCode),
      [200, 404, 204],
    );
    for (const res of answers) {
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) assert.equal(res.headers[name], value, `${name} on ${res.statusCode}`);
    }
    await app.close();
  });
});
