// `npx tsx bench/costs.ts`: what each piece of Tandem's request pipeline costs, in server CPU
// per request. Not part of `npm run bench` (that one compares req/s with the bare server); this
// is the tool for finding where the difference goes.
//
// 1. The real app (bench/variant-server.ts: createApp with src/main.ts's wiring) is started once
//    per variant, each switching one dependency to a do-nothing stand-in, plus the bare server.
//    Every process gets the same fixed request rate (autocannon overallRate), below what any of
//    them can do, so CPU µs per request (from /proc) compares cleanly even on a busy 2-core box.
// 2. In-process micro-measurements of single pipeline steps (zod, pino, JWT, rate limiter…).
// 3. COSTS_PROFILE=1: the full variant once more per endpoint under --cpu-prof, summarised.
//
// Settings: COSTS_DURATION (s, 10), COSTS_WARMUP (s, 2), COSTS_RATE_ID (req/s, 800),
// COSTS_RATE_LIST (req/s, 300), COSTS_REPEAT (3), COSTS_VARIANTS (comma-separated names, default
// all), COSTS_PROFILE=1, COSTS_SATURATED=1 (also each server's req/s by id under the closed-loop
// load of `npm run bench`; variants run under tsx, so compare them with each other).
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import autocannon from 'autocannon';
import { and, eq, isNull } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import pino from 'pino';
import { Histogram, Registry } from 'prom-client';
import { createUsersRepository } from '../src/modules/users/users.repository.js';
import { listUsersQuery, toUserResponse, userEnvelope, userIdParams, userListEnvelope } from '../src/modules/users/users.schemas.js';
import { users } from '../src/modules/users/users.table.js';
import { createAccessTokens } from '../src/platform/auth/tokens.js';
import type { Db } from '../src/platform/db/client.js';
import { runMigrations } from '../src/platform/db/migrate.js';
import { createMemoryRateLimiter } from '../src/platform/http/rate-limit.js';
import { newId } from '../src/platform/ids.js';
import { createLogger } from '../src/platform/observability/logger.js';
import {
  benchDir,
  fmt,
  freePort,
  intEnv,
  machineBusyPercent,
  makeWorkDir,
  processCpuMs,
  resultsDir,
  root,
  runMain,
  type Server,
  say,
  seed,
  serverEnv,
  startDatabase,
  startServer,
  stopServer,
  transpileBareServer,
  workDir,
} from './lib.js';
import { summarizeProfile } from './profile-summary.js';

const settings = {
  duration: intEnv('COSTS_DURATION', 10),
  warmup: intEnv('COSTS_WARMUP', 2),
  rateById: intEnv('COSTS_RATE_ID', 800),
  rateList: intEnv('COSTS_RATE_LIST', 300),
  repeat: intEnv('COSTS_REPEAT', 3),
  saturated: process.env.COSTS_SATURATED === '1',
  profile: process.env.COSTS_PROFILE === '1',
  only: process.env.COSTS_VARIANTS?.split(',').map((s) => s.trim()),
};

interface Variant {
  name: string;
  what: string;
  env: Record<string, string>;
}

const VARIANTS: Variant[] = [
  { name: 'full', what: 'the whole pipeline, as `tandem serve` runs it', env: {} },
  { name: 'no-access-log', what: 'LOG_LEVEL warn: no access-log line (pino + redaction + batched write)', env: { VARIANT_LOG: 'off' } },
  { name: 'no-rate-limit', what: 'rate limiter replaced by a constant (headers still set)', env: { VARIANT_LIMITER: 'noop' } },
  { name: 'no-jwt', what: 'authenticator returns a fixed actor (no fast-jwt, no revocation check)', env: { VARIANT_AUTH: 'fake' } },
  { name: 'no-metrics', what: 'prom-client histogram observe() is a no-op', env: { VARIANT_METRICS: 'noop' } },
  {
    name: 'pg-not-drizzle',
    what: 'the same named statements through pg directly, rows mapped by hand (no Drizzle)',
    env: { VARIANT_DATA: 'pg' },
  },
  { name: 'no-database', what: 'rows served from memory: no query at all', env: { VARIANT_DATA: 'static' } },
  {
    name: 'floor',
    what: 'all of the above off: Fastify + helmet + CORS + cookie + request id + zod validation + serialisation, rows from memory',
    env: { VARIANT_LOG: 'off', VARIANT_LIMITER: 'noop', VARIANT_AUTH: 'fake', VARIANT_METRICS: 'noop', VARIANT_DATA: 'static' },
  },
];

interface Measured {
  cpuUsPerReq: number;
  reqPerSec: number;
  p50: number;
  p99: number;
  bad: number;
}

const log = createLogger('warn');

/** rate 0: closed loop (as `npm run bench` drives it), 50 connections. */
async function drive(
  server: Server,
  path: string | (() => string),
  token: string,
  rate: number,
  seconds: number,
): Promise<autocannon.Result> {
  const request: autocannon.Request =
    typeof path === 'string' ? { method: 'GET', path } : { method: 'GET', setupRequest: (req) => ({ ...req, path: path() }) };
  return autocannon({
    url: server.url,
    connections: rate > 0 ? 20 : 50,
    pipelining: 1,
    duration: seconds,
    ...(rate > 0 ? { overallRate: rate } : {}),
    headers: { authorization: `Bearer ${token}` },
    requests: [request],
  });
}

async function measure(server: Server, path: string | (() => string), token: string, rate: number): Promise<Measured> {
  await drive(server, path, token, rate, settings.warmup);
  const cpu0 = processCpuMs(server.pid);
  const r = await drive(server, path, token, rate, settings.duration);
  const cpu = processCpuMs(server.pid) - cpu0;
  if (server.exited) throw new Error(`${server.name} died`);
  return {
    cpuUsPerReq: (1000 * cpu) / Math.max(1, r.requests.total),
    reqPerSec: r.requests.total / r.duration,
    p50: r.latency.p50,
    p99: r.latency.p99,
    bad: r.non2xx + r.errors,
  };
}

function timeIt(label: string, iterations: number, fn: () => unknown): string {
  for (let i = 0; i < Math.min(iterations, 2000); i++) fn();
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) fn();
  const ns = Number(process.hrtime.bigint() - start) / iterations;
  return `| ${label} | ${fmt(ns / 1000, 1)} |`;
}

async function micro(url: string, sampleId: string): Promise<string> {
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  const db = drizzle({ client: pool }) as unknown as Db;
  const repo = createUsersRepository(db);
  const row = await repo.findById(sampleId);
  const page = await repo.list({ sort: [{ key: 'createdAt', desc: false }], limit: 20, offset: 0 });
  if (!row) throw new Error('sample user missing');
  const one = { success: true as const, data: toUserResponse(row) };
  const list = {
    success: true as const,
    data: page.rows.map(toUserResponse),
    pagination: { page: 1, limit: 20, total: page.total, totalPages: Math.ceil(page.total / 20) },
  };
  const tokens = createAccessTokens({
    secret: randomBytes(48).toString('base64url'),
    issuer: 'tandem',
    audience: 'tandem-api',
    ttlSeconds: 3600,
  });
  const token = tokens.sign({ sub: sampleId, sid: randomUUID(), role: 'user' });
  const limiter = createMemoryRateLimiter({ general: { points: 100_000_000, windowSeconds: 60 } });
  const logFile = path.join(workDir, 'micro-pino.log');
  // As in production (platform/observability/logger.ts): asynchronous, batched in 4 KiB writes.
  const fileLog = createLogger('info', pino.destination({ dest: logFile, sync: false, minLength: 4096 })).child({ reqId: newId() });
  const entry = {
    method: 'GET',
    url: `/api/v1/users/${sampleId}`,
    route: '/api/v1/users/:id',
    statusCode: 200,
    ms: 1.2,
    userId: sampleId,
    ip: '127.0.0.1',
  };
  const histogram = new Histogram({
    name: 'h',
    help: 'h',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [new Registry()],
  });
  const sqlOnce = () =>
    db
      .select()
      .from(users)
      .where(and(eq(users.id, sampleId), isNull(users.deletedAt)))
      .limit(1)
      .toSQL();

  const lines = ['| step (in process, no I/O unless said) | µs per call |', '| --- | ---: |'];
  lines.push(
    timeIt('zod response encode + JSON.stringify, one user (`userEnvelope`; outside production only now)', 50_000, () =>
      JSON.stringify(userEnvelope.encode(one)),
    ),
  );
  lines.push(timeIt('JSON.stringify alone, one user', 50_000, () => JSON.stringify(one)));
  lines.push(
    timeIt('zod response encode + JSON.stringify, 20 users (`userListEnvelope`; outside production only now)', 10_000, () =>
      JSON.stringify(userListEnvelope.encode(list)),
    ),
  );
  lines.push(timeIt('JSON.stringify alone, 20 users', 10_000, () => JSON.stringify(list)));
  lines.push(timeIt('zod params validation (`userIdParams`)', 50_000, () => userIdParams.safeParse({ id: sampleId })));
  lines.push(
    timeIt('zod query validation (`listUsersQuery`, page=1&limit=20)', 50_000, () => listUsersQuery.safeParse({ page: '1', limit: '20' })),
  );
  lines.push(timeIt('request id before: `newId()` (UUIDv7, uuid package)', 100_000, () => newId()));
  lines.push(timeIt('request id now: `crypto.randomUUID()`', 100_000, () => randomUUID()));
  // Each request's token is a new string, cut from its header, whose hash V8 has not cached yet.
  lines.push(
    timeIt('access-token verify from the cache (keyed by the token text; fast-jwt on a miss)', 100_000, () =>
      tokens.verify(`Bearer ${token}`.slice(7)),
    ),
  );
  lines.push(timeIt('rate limiter consume (rate-limiter-flexible memory)', 50_000, () => limiter.consume('general', '127.0.0.1')));
  lines.push(
    timeIt('access-log line: pino child .info(entry) with redaction, batched async write to a file', 50_000, () =>
      fileLog.info(entry, 'request completed'),
    ),
  );
  lines.push(
    timeIt('prom-client histogram observe (3 labels)', 100_000, () =>
      histogram.observe({ method: 'GET', route: '/api/v1/users/:id', status_code: '200' }, 0.0012),
    ),
  );
  lines.push(timeIt('Drizzle: build the findById SQL per call, as before the repository prepared it (no I/O)', 50_000, sqlOnce));
  await pool.end();
  return lines.join('\n');
}

async function main(): Promise<void> {
  const busy = await machineBusyPercent();
  say(`machine ${fmt(busy, 0)} % busy before we start anything`);
  makeWorkDir();
  const database = await startDatabase(log);
  await runMigrations(database.url, log);
  const seeded = await seed(database.url, 10_000);
  const ids = seeded.ids;
  const sampleId = ids[0];
  if (!sampleId) throw new Error('seed produced no users');
  let next = 0;
  const byIdPath = () => `/api/v1/users/${ids[next++ % ids.length]}`;
  const listPath = '/api/v1/users?page=1&limit=20';
  const secret = randomBytes(48).toString('base64url');
  const token = createAccessTokens({ secret, issuer: 'tandem', audience: 'tandem-api', ttlSeconds: 3600 }).sign({
    sub: sampleId,
    sid: randomUUID(),
    role: 'user',
  });

  const variantScript = path.join(benchDir, 'variant-server.ts');
  const startVariant = async (v: Variant, nodeFlags: string[] = [], rep = 0) => {
    const port = await freePort();
    mkdirSync(path.join(workDir, 'tandem-data'), { recursive: true });
    return startServer(
      `variant-${v.name}-${rep}`,
      [...nodeFlags, '--import', 'tsx', variantScript],
      serverEnv({
        NODE_ENV: 'production',
        HOST: '127.0.0.1',
        PORT: String(port),
        DATABASE_URL: database.url,
        DATA_DIR: path.join(workDir, 'tandem-data'),
        JWT_SECRET: secret,
        ACCESS_TOKEN_TTL: '3600',
        LOG_LEVEL: 'info',
        RATE_LIMIT_MAX: '100000000',
        ...v.env,
      }),
      port,
      '/health/live',
    );
  };

  const results = new Map<string, { what: string; byId: Measured[]; list: Measured[]; saturated: number[] }>();
  const run = async (name: string, what: string, server: Server, rep: number) => {
    for (const p of [`/api/v1/users/${sampleId}`, listPath]) {
      const res = await fetch(`${server.url}${p}`, { headers: { authorization: `Bearer ${token}` } });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`${name}: ${p} answered ${res.status}`);
    }
    next = 0;
    const byId = await measure(server, byIdPath, token, settings.rateById);
    const list = await measure(server, listPath, token, settings.rateList);
    const entry = results.get(name) ?? { what, byId: [], list: [], saturated: [] };
    entry.byId.push(byId);
    entry.list.push(list);
    results.set(name, entry);
    if (settings.saturated) {
      next = 0;
      await drive(server, byIdPath, token, 0, settings.warmup);
      const r = await drive(server, byIdPath, token, 0, settings.duration);
      if (r.non2xx + r.errors > 0) throw new Error(`${name}: ${r.non2xx} non-2xx under closed-loop load`);
      entry.saturated.push(r.requests.total / r.duration);
      say(`    ${name}: ${fmt(r.requests.total / r.duration, 0)} req/s by id, closed loop, 50 connections`);
    }
    say(
      `  ${rep} ${name.padEnd(16)} by id ${fmt(byId.cpuUsPerReq, 0).padStart(4)} µs/req (${fmt(byId.reqPerSec, 0)} req/s, p50 ${byId.p50} ms)   ` +
        `list ${fmt(list.cpuUsPerReq, 0).padStart(4)} µs/req (${fmt(list.reqPerSec, 0)} req/s, p50 ${list.p50} ms)${byId.bad + list.bad > 0 ? '  NON-2xx!' : ''}`,
    );
  };

  say(
    `fixed rates: ${settings.rateById} req/s by id, ${settings.rateList} req/s list; ${settings.warmup} s warm-up + ${settings.duration} s each; ${settings.repeat} repetitions`,
  );
  const bareScript = transpileBareServer();
  for (let rep = 1; rep <= settings.repeat; rep++) {
    const barePort = await freePort();
    const bare = await startServer(
      `bare-${rep}`,
      [bareScript],
      serverEnv({ HOST: '127.0.0.1', PORT: String(barePort), DATABASE_URL: database.url, DATABASE_POOL_MAX: '10' }),
      barePort,
      '/health',
    );
    await run('bare', 'bench/bare-server.ts: node:http + pg, same statements', bare, rep);
    await stopServer(bare);
    const staticPort = await freePort();
    const bareStatic = await startServer(
      `bare-static-${rep}`,
      [bareScript],
      serverEnv({ HOST: '127.0.0.1', PORT: String(staticPort), DATABASE_URL: database.url, DATABASE_POOL_MAX: '10', BARE_STATIC: '1' }),
      staticPort,
      '/health',
    );
    await run('bare-no-database', 'the bare server answering from rows loaded at start (node:http + JSON only)', bareStatic, rep);
    await stopServer(bareStatic);
    for (const v of VARIANTS.filter((x) => !settings.only || settings.only.includes(x.name))) {
      const server = await startVariant(v, [], rep);
      await run(v.name, v.what, server, rep);
      await stopServer(server);
    }
  }

  // Other work on the machine only ever adds CPU time (cache and scheduler interference), so the
  // least disturbed repetition, the minimum, is the estimate; the range shows the noise.
  const best = (ms: Measured[]) => Math.min(...ms.map((m) => m.cpuUsPerReq));
  const range = (ms: Measured[]) => `${fmt(best(ms), 0)}–${fmt(Math.max(...ms.map((m) => m.cpuUsPerReq)), 0)}`;
  const full = results.get('full');
  const lines = [
    `| variant | what changes | by id: server CPU µs/req (min of ${settings.repeat}) | Δ vs full | range | list: server CPU µs/req (min of ${settings.repeat}) | Δ vs full | range |`,
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const [name, r] of results) {
    const d = (a: number, b: number | undefined) => (b === undefined || name === 'full' ? '' : `${a - b > 0 ? '+' : ''}${fmt(a - b, 0)}`);
    lines.push(
      `| ${name} | ${r.what} | ${fmt(best(r.byId), 0)} | ${d(best(r.byId), full && best(full.byId))} | ${range(r.byId)} | ` +
        `${fmt(best(r.list), 0)} | ${d(best(r.list), full && best(full.list))} | ${range(r.list)} |`,
    );
  }
  say(`\n${lines.join('\n')}\n`);
  if (settings.saturated) {
    const sat = ['| server | by id, closed loop (50 connections): req/s, best of reps |', '| --- | ---: |'];
    for (const [name, r] of results) sat.push(`| ${name} | ${fmt(Math.max(...r.saturated), 0)} |`);
    say(`${sat.join('\n')}\n`);
  }
  say(`${await micro(database.url, sampleId)}\n`);

  if (settings.profile) {
    const profileDir = path.join(resultsDir, 'profiles');
    mkdirSync(profileDir, { recursive: true });
    const floor = VARIANTS.find((v) => v.name === 'floor') as Variant;
    const fullVariant = VARIANTS[0] as Variant;
    for (const [variant, label, p, rate] of [
      [fullVariant, 'by id', byIdPath, settings.rateById],
      [fullVariant, 'list', listPath, settings.rateList],
      [floor, 'by id', byIdPath, settings.rateById],
    ] as const) {
      const before = new Set(readdirSync(profileDir));
      const spawned = Date.now();
      const server = await startVariant(variant, ['--cpu-prof', `--cpu-prof-dir=${profileDir}`], 99);
      await drive(server, p, token, rate, settings.warmup);
      const measuredFrom = Date.now() - spawned;
      const r = await drive(server, p, token, rate, settings.duration);
      await stopServer(server);
      // One profile per thread (tsx's loader runs in a worker): the main thread's is the big one.
      const main = readdirSync(profileDir)
        .filter((f) => f.endsWith('.cpuprofile') && !before.has(f))
        .map((f) => path.join(profileDir, f))
        .sort((a, b) => statSync(b).size - statSync(a).size)[0];
      if (main) {
        const summary = summarizeProfile(main, { top: 20, skipMs: measuredFrom, requests: r.requests.total });
        say(`\n=== ${variant.name}, ${label} at ${rate} req/s: ${path.relative(root, main)}\n${summary}\n`);
      }
    }
  }
}

runMain(main);
