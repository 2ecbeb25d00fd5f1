// Tandem's real app (createApp, every plugin and hook) with one or more of its dependencies
// swapped for a do-nothing stand-in, so bench/costs.ts can measure what each piece of the
// pipeline costs per request. The wiring mirrors src/main.ts (the auth service aside, which no
// measured request calls); only the VARIANT_* switches differ:
//
//   VARIANT_LOG      info (default) | off      off: level warn, so no access-log line is written
//   VARIANT_LIMITER  real (default) | noop     noop: consume() returns a constant state
//   VARIANT_AUTH     real (default) | fake     fake: any bearer header is the same actor, no JWT work
//   VARIANT_METRICS  real (default) | noop     noop: the duration histogram ignores observations
//   VARIANT_DATA     drizzle (default) | pg | static
//                    pg: the repository's statements (bench/queries.ts) through pg directly,
//                    rows mapped by hand; static: rows loaded at start, no query
//
// Run by bench/costs.ts with `node --import tsx`; it is not part of `npm run bench`.
import { Histogram, Registry } from 'prom-client';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createAuditRepository } from '../src/modules/audit/audit.repository.js';
import { createAuditService } from '../src/modules/audit/audit.service.js';
import { createAuthRepository } from '../src/modules/auth/auth.repository.js';
import type { AuthService } from '../src/modules/auth/auth.service.js';
import type { CommentsService } from '../src/modules/comments/comments.service.js';
import type { ExportsService } from '../src/modules/exports/exports.service.js';
import type { ProjectsService } from '../src/modules/projects/projects.service.js';
import type { ReportsService } from '../src/modules/reports/reports.service.js';
import type { TasksService } from '../src/modules/tasks/tasks.service.js';
import type { TimeService } from '../src/modules/time/time.service.js';
import { createUsersRepository } from '../src/modules/users/users.repository.js';
import { createUsersService, type UsersService } from '../src/modules/users/users.service.js';
import { type UserRow, users as usersTable } from '../src/modules/users/users.table.js';
import type { InvitationsService } from '../src/modules/workspaces/invitations.service.js';
import type { WorkspacesService } from '../src/modules/workspaces/workspaces.service.js';
import { createRevocations } from '../src/platform/auth/revocations.js';
import { createAccessTokens } from '../src/platform/auth/tokens.js';
import { createDatabase } from '../src/platform/db/client.js';
import { AppError } from '../src/platform/errors.js';
import { type Authenticator, createAuthenticator } from '../src/platform/http/authenticate.js';
import { createIdempotencyStore } from '../src/platform/http/idempotency.js';
import { createMemoryRateLimiter, type RateLimiter } from '../src/platform/http/rate-limit.js';
import { createLogger } from '../src/platform/observability/logger.js';
import { createMetrics, type Metrics } from '../src/platform/observability/metrics.js';
import { FIND_BY_ID, LIST_COUNT, LIST_PAGE } from './queries.js';

const variant = {
  log: process.env.VARIANT_LOG ?? 'info',
  limiter: process.env.VARIANT_LIMITER ?? 'real',
  auth: process.env.VARIANT_AUTH ?? 'real',
  metrics: process.env.VARIANT_METRICS ?? 'real',
  data: process.env.VARIANT_DATA ?? 'drizzle',
};

const config = loadConfig();
const log = createLogger(variant.log === 'off' ? 'warn' : config.logLevel);
if (!config.databaseUrl) throw new Error('DATABASE_URL is required');
const url = config.databaseUrl;
const database = createDatabase({ url, max: config.databasePoolMax, log });
const { db } = database;
const authRepo = createAuthRepository(db);
const usersRepo = createUsersRepository(db);
const revocations = createRevocations({
  url,
  log,
  ttlSeconds: config.accessTokenTtl,
  loadRecent: (since) => authRepo.recentRevocations(since),
});
await revocations.start();
const tokens = createAccessTokens({ ...config.jwt, ttlSeconds: config.accessTokenTtl });
const realLimiter = createMemoryRateLimiter({
  general: { points: config.rateLimit.max, windowSeconds: config.rateLimit.windowSeconds },
  'auth-account': { points: config.rateLimit.authMax, windowSeconds: 15 * 60 },
  'auth-ip': { points: config.rateLimit.authMax * 10, windowSeconds: 15 * 60 },
});
const constantState = {
  bucket: 'general',
  limit: config.rateLimit.max,
  remaining: config.rateLimit.max,
  resetSeconds: 60,
  windowSeconds: 60,
};
const noopLimiter: RateLimiter = {
  consume: async () => constantState,
  check: async () => undefined,
  reset: async () => undefined,
};
const audit = createAuditService({ audit: createAuditRepository(db) });
const realUsers = createUsersService({ db, users: usersRepo, sessions: authRepo, revocations, audit });

interface UserRecord {
  id: string;
  email: string;
  name: string;
  password_hash: string | null;
  role: 'user' | 'admin';
  email_verified_at: Date | null;
  avatar_file_id: string | null;
  disabled_at: Date | null;
  deleted_at: Date | null;
  version: number;
  created_at: Date;
  updated_at: Date;
}
const toRow = (r: UserRecord): UserRow => ({
  id: r.id,
  email: r.email,
  name: r.name,
  passwordHash: r.password_hash,
  role: r.role,
  emailVerifiedAt: r.email_verified_at,
  avatarFileId: r.avatar_file_id,
  disabledAt: r.disabled_at,
  deletedAt: r.deleted_at,
  version: r.version,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});
const notFound = () => new AppError('NOT_FOUND', 'User not found');

async function usersService(): Promise<UsersService> {
  if (variant.data === 'pg') {
    const pool = database.pool;
    return {
      ...realUsers,
      async getUser(_actor, id) {
        const { rows } = await pool.query<UserRecord>({ ...FIND_BY_ID, values: [id, 1] });
        if (!rows[0]) throw notFound();
        return toRow(rows[0]);
      },
      async listUsers(_actor, f) {
        const [list, count] = await Promise.all([
          pool.query<UserRecord>({ ...LIST_PAGE, values: [f.limit, f.offset] }),
          pool.query<{ count: number }>(LIST_COUNT),
        ]);
        return { rows: list.rows.map(toRow), total: Number(count.rows[0]?.count ?? 0) };
      },
    };
  }
  if (variant.data === 'static') {
    const all = new Map((await db.select().from(usersTable)).map((u) => [u.id, u]));
    const firstPage = await usersRepo.list({ sort: [{ key: 'createdAt', desc: false }], limit: 20, offset: 0 });
    return {
      ...realUsers,
      async getUser(_actor, id) {
        const row = all.get(id);
        if (!row) throw notFound();
        return row;
      },
      listUsers: async () => firstPage,
    };
  }
  return realUsers;
}

const actor = { userId: '00000000-0000-7000-8000-000000000000', role: 'user' as const, sessionId: '00000000-0000-7000-8000-000000000001' };
const realAuthenticator = createAuthenticator(tokens, revocations);
const fakeAuthenticator: Authenticator = {
  authenticate: (req) => (req.headers.authorization ? actor : null),
  verify: () => actor,
};

function metrics(): Metrics {
  const real = createMetrics(database.pool);
  if (variant.metrics !== 'noop') return real;
  const registry = new Registry();
  const httpDuration = new Histogram({
    name: 'noop_seconds',
    help: 'unused',
    labelNames: ['method', 'route', 'status_code'] as const,
    registers: [],
  });
  httpDuration.observe = () => undefined;
  return { registry, httpDuration };
}

// Routes of these services are registered but never called here (bench/costs.ts signs its own
// token and only reads users).
const unused = <T extends object>(area: string) =>
  new Proxy({} as T, {
    get: (_t, name) => () => {
      throw new Error(`${area}.${String(name)} is not available in the variant server`);
    },
  });
const services = {
  audit,
  auth: unused<AuthService>('auth'),
  users: await usersService(),
  workspaces: unused<WorkspacesService>('workspaces'),
  invitations: unused<InvitationsService>('invitations'),
  projects: unused<ProjectsService>('projects'),
  tasks: unused<TasksService>('tasks'),
  comments: unused<CommentsService>('comments'),
  time: unused<TimeService>('time'),
  reports: unused<ReportsService>('reports'),
  exports: unused<ExportsService>('exports'),
};
const app = await createApp({
  config,
  log,
  metrics: metrics(),
  limiter: variant.limiter === 'noop' ? noopLimiter : realLimiter,
  authenticator: variant.auth === 'fake' ? fakeAuthenticator : realAuthenticator,
  ping: () => database.ping(),
  isShuttingDown: () => false,
  idempotency: createIdempotencyStore(database.db, log),
  services,
});
await app.listen({ host: config.host, port: config.port });
log.warn({ variant }, 'variant server listening');

const shutdown = async () => {
  await app.close();
  await revocations.stop();
  await database.close();
  process.exit(0);
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
