// createApp(deps): the Fastify instance with the whole pipeline and every module's routes.
// It never listens; main.ts does, and tests start it on a random port.
import cookie from '@fastify/cookie';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Config } from './config.js';
import { auditRoutes } from './modules/audit/audit.routes.js';
import type { AuditService } from './modules/audit/audit.service.js';
import { authRoutes } from './modules/auth/auth.routes.js';
import type { AuthService } from './modules/auth/auth.service.js';
import { commentsRoutes } from './modules/comments/comments.routes.js';
import type { CommentsService } from './modules/comments/comments.service.js';
import { exportsRoutes } from './modules/exports/exports.routes.js';
import type { ExportsService } from './modules/exports/exports.service.js';
import { projectsRoutes } from './modules/projects/projects.routes.js';
import type { ProjectsService } from './modules/projects/projects.service.js';
import { reportsRoutes } from './modules/reports/reports.routes.js';
import type { ReportsService } from './modules/reports/reports.service.js';
import { tasksRoutes } from './modules/tasks/tasks.routes.js';
import type { TasksService } from './modules/tasks/tasks.service.js';
import { timeRoutes } from './modules/time/time.routes.js';
import type { TimeService } from './modules/time/time.service.js';
import { usersRoutes } from './modules/users/users.routes.js';
import type { UsersService } from './modules/users/users.service.js';
import { invitationsRoutes } from './modules/workspaces/invitations.routes.js';
import type { InvitationsService } from './modules/workspaces/invitations.service.js';
import { workspacesRoutes } from './modules/workspaces/workspaces.routes.js';
import type { WorkspacesService } from './modules/workspaces/workspaces.service.js';
import { type Authenticator, registerAuthentication } from './platform/http/authenticate.js';
import { registerErrorHandling } from './platform/http/error-handler.js';
import { healthRoutes } from './platform/http/health.js';
import type { IdempotencyStore } from './platform/http/idempotency.js';
import { registerOpenApi } from './platform/http/openapi.js';
import { registerPipeline, requestIdFrom } from './platform/http/pipeline.js';
import type { RateLimiter } from './platform/http/rate-limit.js';
import './platform/http/validation.js';
import type { Logger } from 'pino';
import type { Metrics } from './platform/observability/metrics.js';
import { VERSION } from './version.js';

export interface AppDeps {
  config: Config;
  log: Logger;
  metrics: Metrics;
  limiter: RateLimiter;
  authenticator: Authenticator;
  idempotency: IdempotencyStore;
  ping(): Promise<void>;
  isShuttingDown(): boolean;
  services: {
    auth: AuthService;
    users: UsersService;
    audit: AuditService;
    workspaces: WorkspacesService;
    invitations: InvitationsService;
    projects: ProjectsService;
    tasks: TasksService;
    comments: CommentsService;
    time: TimeService;
    reports: ReportsService;
    exports: ExportsService;
  };
}

/** Fastify takes a hop count as a function of the hop index. */
const trustProxyOption = (v: Config['trustProxy']) => (typeof v === 'number' ? (_address: string, hop: number) => hop < v : v);

export async function createApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config, log, metrics, limiter, authenticator, services } = deps;
  const app = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    genReqId: (req) => requestIdFrom(req.headers['x-request-id']),
    // One access-log line per request, written by the pipeline's onResponse hook.
    logController: new LogController({ requestIdLogLabel: 'requestId', disableRequestLogging: true }),
    trustProxy: trustProxyOption(config.trustProxy),
    bodyLimit: config.bodyLimit,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  }).withTypeProvider<ZodTypeProvider>();
  // JSON only (api.md): Fastify's built-in text/plain parser would hand a string to the
  // schema (a 400) where a client should learn its media type is unsupported (415).
  app.removeContentTypeParser('text/plain');
  app.setValidatorCompiler(validatorCompiler);
  // Outside production every response is checked against its zod schema, so the test suite
  // catches a presenter that drifts from the documented shape; in production the presenters
  // (which build every response field by field) are trusted and serialised directly.
  app.setSerializerCompiler(config.env === 'production' ? () => (data) => JSON.stringify(data) : serializerCompiler);

  registerErrorHandling(app);
  await registerPipeline(app, { corsOrigins: config.corsOrigins, metrics, limiter });
  registerAuthentication(app, authenticator);
  deps.idempotency.register(app);
  await app.register(cookie);
  await registerOpenApi(app, { publicUrl: config.publicUrl, version: VERSION, docsEnabled: config.docsEnabled });

  const metricsToken = config.metrics.token ?? (config.env === 'production' ? false : undefined);
  await app.register(healthRoutes({ ping: deps.ping, isShuttingDown: deps.isShuttingDown, metrics, metricsToken }));
  app.get('/', { schema: { hide: true }, config: { auth: 'none' } }, async () => ({
    success: true,
    data: { name: 'Tandem', version: VERSION, docs: '/docs', openapi: '/api/v1/openapi.json', health: '/health/ready' },
  }));

  await app.register(
    async (api) => {
      // Everything under /api/v1 needs a signed-in caller unless the route says otherwise.
      api.addHook('onRoute', (route) => {
        route.config = { auth: 'required', ...route.config };
        if (route.config.auth !== 'none' && route.schema && !route.schema.hide) {
          route.schema = { ...route.schema, security: [{ bearerAuth: [] }] };
        }
      });
      await api.register(authRoutes(services.auth));
      await api.register(usersRoutes(services.users));
      await api.register(auditRoutes(services.audit));
      await api.register(workspacesRoutes(services.workspaces));
      await api.register(invitationsRoutes(services.invitations));
      await api.register(projectsRoutes(services.projects));
      await api.register(tasksRoutes(services.tasks));
      await api.register(commentsRoutes(services.comments));
      await api.register(timeRoutes(services.time));
      await api.register(reportsRoutes(services.reports));
      await api.register(exportsRoutes(services.exports));
    },
    { prefix: '/api/v1' },
  );
  return app;
}
