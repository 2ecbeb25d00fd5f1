// Probes for orchestrators and load balancers, and the Prometheus endpoint.
import { timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError, notFound, unavailable } from '../errors.js';
import type { Metrics } from '../observability/metrics.js';
import { dataEnvelope, errorResponses } from './schemas.js';

export interface HealthOptions {
  ping(): Promise<void>;
  isShuttingDown(): boolean;
  metrics: Metrics;
  /** undefined: /metrics is open; a string: it needs `Authorization: Bearer <token>`; false: not on this port. */
  metricsToken: string | undefined | false;
}

const liveResponse = dataEnvelope(z.object({ status: z.literal('ok'), uptimeSeconds: z.number() }));
const readyResponse = dataEnvelope(z.object({ status: z.literal('ready'), checks: z.object({ database: z.literal('up') }) }));

export const healthRoutes =
  ({ ping, isShuttingDown, metrics, metricsToken }: HealthOptions): FastifyPluginAsyncZod =>
  async (app) => {
    const probe = { auth: 'none', rateLimit: false } as const;
    app.get(
      '/health/live',
      { config: probe, schema: { tags: ['health'], summary: 'The process is up', response: { 200: liveResponse } } },
      async () => ({ success: true as const, data: { status: 'ok' as const, uptimeSeconds: Math.round(process.uptime()) } }),
    );
    app.get(
      '/health/ready',
      {
        config: probe,
        schema: {
          tags: ['health'],
          summary: 'Ready for traffic: the database answers and the process is not shutting down',
          response: { 200: readyResponse, ...errorResponses(503) },
        },
      },
      async () => {
        if (isShuttingDown()) throw new AppError('UNAVAILABLE', 'Shutting down', [{ path: 'process', message: 'is shutting down' }]);
        try {
          await ping();
        } catch {
          const err = unavailable('the database');
          throw new AppError(err.code, err.message, [{ path: 'database', message: 'is not answering' }]);
        }
        return { success: true as const, data: { status: 'ready' as const, checks: { database: 'up' as const } } };
      },
    );
    app.get('/metrics', { config: probe, schema: { hide: true } }, async (req, reply) => {
      if (metricsToken === false) throw notFound('route');
      if (metricsToken !== undefined) {
        const sent = Buffer.from(req.headers.authorization ?? '');
        const expected = Buffer.from(`Bearer ${metricsToken}`);
        if (sent.length !== expected.length || !timingSafeEqual(sent, expected)) throw notFound('route');
      }
      reply.type(metrics.registry.contentType);
      return metrics.registry.metrics();
    });
  };
