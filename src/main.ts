// Process wiring: config → database (embedded unless DATABASE_URL) → migrations → services →
// app → listen. Dependencies are wired by hand here, in one readable place.
import http from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { createApp } from './app.js';
import { type Config, readOrCreateLocalSecrets } from './config.js';
import { createAuditRepository } from './modules/audit/audit.repository.js';
import { createAuditService } from './modules/audit/audit.service.js';
import { createAuthRepository } from './modules/auth/auth.repository.js';
import { createAuthService } from './modules/auth/auth.service.js';
import { createCommentsRepository } from './modules/comments/comments.repository.js';
import { createCommentsService } from './modules/comments/comments.service.js';
import { createExportsRepository } from './modules/exports/exports.repository.js';
import { createExportsService } from './modules/exports/exports.service.js';
import { createProjectAccess } from './modules/projects/projects.access.js';
import { createProjectsRepository } from './modules/projects/projects.repository.js';
import { createProjectsService } from './modules/projects/projects.service.js';
import { createReportsRepository } from './modules/reports/reports.repository.js';
import { createReportsService } from './modules/reports/reports.service.js';
import { createTasksRepository } from './modules/tasks/tasks.repository.js';
import { createTasksService } from './modules/tasks/tasks.service.js';
import { createTimeRepository } from './modules/time/time.repository.js';
import { createTimeService } from './modules/time/time.service.js';
import { createUsersRepository } from './modules/users/users.repository.js';
import { createUsersService } from './modules/users/users.service.js';
import { createInvitationsService } from './modules/workspaces/invitations.service.js';
import { createWorkspaceAccess } from './modules/workspaces/workspaces.access.js';
import { createWorkspacesRepository } from './modules/workspaces/workspaces.repository.js';
import { createWorkspacesService } from './modules/workspaces/workspaces.service.js';
import { createRevocations } from './platform/auth/revocations.js';
import { createAccessTokens } from './platform/auth/tokens.js';
import { createDatabase, type Database } from './platform/db/client.js';
import { type EmbeddedPostgres, startEmbeddedPostgres } from './platform/db/embedded.js';
import { runMigrations } from './platform/db/migrate.js';
import { createEventBus, type EventBus } from './platform/events.js';
import { createAuthenticator } from './platform/http/authenticate.js';
import { createIdempotencyStore, type IdempotencyStore } from './platform/http/idempotency.js';
import { createMemoryRateLimiter } from './platform/http/rate-limit.js';
import { createMailer } from './platform/mail/mailer.js';
import { createMetrics } from './platform/observability/metrics.js';

export interface DatabaseHandle {
  url: string;
  embedded: EmbeddedPostgres | undefined;
}

/** DATABASE_URL when given; otherwise the embedded PostgreSQL under DATA_DIR. */
export async function openDatabase(config: Config, log: Logger, attach = false): Promise<DatabaseHandle> {
  if (config.databaseUrl) return { url: config.databaseUrl, embedded: undefined };
  const { postgresPassword } = readOrCreateLocalSecrets(config.dataDir);
  const embedded = await startEmbeddedPostgres({
    dataDir: config.dataDir,
    password: postgresPassword,
    log: log.child({ component: 'postgres' }),
    attach,
  });
  log.info({ port: embedded.port, dataDir: config.dataDir }, 'embedded PostgreSQL started');
  return { url: embedded.url, embedded };
}

export interface Tandem {
  app: FastifyInstance;
  url: string;
  database: Database;
  /** Domain events published after commit (realtime, notifications and webhooks subscribe). */
  events: EventBus;
  idempotency: IdempotencyStore;
  /** Readiness goes false, in-flight requests finish (up to SHUTDOWN_TIMEOUT), then everything closes. */
  shutdown(): Promise<void>;
}

export async function startTandem(config: Config, log: Logger, options: { databaseUrl?: string } = {}): Promise<Tandem> {
  const handle = options.databaseUrl ? { url: options.databaseUrl, embedded: undefined } : await openDatabase(config, log);
  const cleanups: (() => Promise<unknown>)[] = [];
  if (handle.embedded) cleanups.unshift(() => handle.embedded?.stop() ?? Promise.resolve());
  try {
    await runMigrations(handle.url, log);
    const database = createDatabase({ url: handle.url, max: config.databasePoolMax, log });
    cleanups.unshift(() => database.close());
    const { db } = database;

    const authRepo = createAuthRepository(db);
    const usersRepo = createUsersRepository(db);
    const revocations = createRevocations({
      url: handle.url,
      log,
      ttlSeconds: config.accessTokenTtl,
      loadRecent: (since) => authRepo.recentRevocations(since),
    });
    await revocations.start();
    cleanups.unshift(() => revocations.stop());

    const tokens = createAccessTokens({ ...config.jwt, ttlSeconds: config.accessTokenTtl });
    const limiter = createMemoryRateLimiter({
      general: { points: config.rateLimit.max, windowSeconds: config.rateLimit.windowSeconds },
      'auth-account': { points: config.rateLimit.authMax, windowSeconds: 15 * 60 },
      'auth-ip': { points: config.rateLimit.authMax * 10, windowSeconds: 15 * 60 },
    });
    const mailer = createMailer({
      smtpUrl: config.mail.smtpUrl,
      from: config.mail.from,
      dataDir: config.dataDir,
      log,
      logLinks: config.env !== 'production',
    });
    cleanups.unshift(async () => mailer.close());
    const audit = createAuditService({ audit: createAuditRepository(db) });
    const events = createEventBus(log);
    const workspacesRepo = createWorkspacesRepository(db);
    const workspaceAccess = createWorkspaceAccess(workspacesRepo);
    const projectsRepo = createProjectsRepository(db);
    const projectAccess = createProjectAccess(projectsRepo);
    const tasksRepo = createTasksRepository(db);
    const invitations = createInvitationsService({
      db,
      workspaces: workspacesRepo,
      access: workspaceAccess,
      accounts: usersRepo,
      audit,
      events,
      mailer,
      log,
      appUrl: config.appUrl,
    });
    const services = {
      audit,
      workspaces: createWorkspacesService({ db, workspaces: workspacesRepo, access: workspaceAccess, audit, events }),
      invitations,
      projects: createProjectsService({ db, projects: projectsRepo, workspaceAccess, projectAccess, audit, events }),
      tasks: createTasksService({ db, tasks: tasksRepo, projectAccess, events }),
      comments: createCommentsService({ db, comments: createCommentsRepository(db), tasks: tasksRepo, workspaceAccess, events }),
      time: createTimeService({ db, entries: createTimeRepository(db), tasks: tasksRepo, projectAccess, events }),
      reports: createReportsService({ reports: createReportsRepository(db), projectAccess }),
      exports: createExportsService({
        db,
        exports: createExportsRepository(database),
        tasks: tasksRepo,
        projectAccess,
        workspaceAccess,
        audit,
        events,
        // Each export holds a pooled connection for its whole download.
        maxConcurrentExports: Math.max(2, Math.floor(config.databasePoolMax / 3)),
      }),
      auth: createAuthService({
        db,
        accounts: usersRepo,
        sessions: authRepo,
        tokens,
        revocations,
        audit,
        mailer,
        limiter,
        log,
        refreshTokenTtlSeconds: config.refreshTokenTtl,
        appUrl: config.appUrl,
        invitations,
      }),
      users: createUsersService({ db, users: usersRepo, sessions: authRepo, revocations, audit }),
    };

    const idempotency = createIdempotencyStore(db, log);
    // Expired idempotency keys are swept hourly (a pg-boss cron job once jobs land).
    const sweeper = setInterval(() => {
      idempotency.sweep().catch((err: Error) => log.warn({ err: err.message }, 'idempotency sweep failed'));
    }, 3600_000);
    sweeper.unref();
    cleanups.unshift(async () => clearInterval(sweeper));

    let shuttingDown = false;
    const metrics = createMetrics(database.pool);
    const app = await createApp({
      config,
      log,
      metrics,
      limiter,
      authenticator: createAuthenticator(tokens, revocations),
      idempotency,
      ping: () => database.ping(),
      isShuttingDown: () => shuttingDown,
      services,
    });
    const url = await app.listen({ host: config.host, port: config.port });

    let metricsServer: http.Server | undefined;
    if (config.metrics.port !== undefined) {
      metricsServer = http.createServer((req, res) => {
        if (req.url !== '/metrics') return res.writeHead(404).end();
        metrics.registry.metrics().then(
          (body) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(body),
          () => res.writeHead(500).end(),
        );
      });
      await new Promise<void>((resolve) => metricsServer?.listen(config.metrics.port, config.host, resolve));
    }

    let closing: Promise<void> | undefined;
    const shutdown = () => {
      closing ??= (async () => {
        shuttingDown = true;
        log.info({ deadlineMs: config.shutdownTimeout }, 'shutting down: draining in-flight requests');
        const deadline = setTimeout(() => {
          log.warn('shutdown deadline reached: closing remaining connections');
          app.server.closeAllConnections();
        }, config.shutdownTimeout);
        deadline.unref();
        await app.close();
        clearTimeout(deadline);
        metricsServer?.close();
        for (const cleanup of cleanups) await cleanup().catch((err: Error) => log.error({ err }, 'shutdown step failed'));
        log.info('shutdown complete');
      })();
      return closing;
    };
    return { app, url, database, events, idempotency, shutdown };
  } catch (err) {
    for (const cleanup of cleanups) await cleanup().catch(() => undefined);
    throw err;
  }
}
