// `npm run bench`: Tandem's full HTTP pipeline against a bare node:http + pg server doing the
// same queries, on the same PostgreSQL, driven by autocannon from this process.
//
//   1. PostgreSQL: an embedded, ephemeral cluster under .data/bench-<pid> (or a fresh database
//      on the server DATABASE_URL names); migrations; 10,000 users seeded in one statement.
//   2. Tandem: `npm run build`, then `node bin/tandem.mjs serve` as `npm start` runs it (a
//      launcher and the serving process it starts; figures are the serving process's), production
//      settings, access log at info into a file, a rate limit too high to refuse anything.
//      A real login gives the bearer token every request carries.
//   3. The baseline: bench/bare-server.ts as its own process (plain node, same pool size).
//   4. Per endpoint and round: warm-up then a measured autocannon run against each server,
//      the order flipping between rounds and endpoints.
//   5. A markdown table on stdout and in bench/README.md (between the markers).
//   6. Everything it started is stopped and removed, whatever happened.
//
// Settings (environment): BENCH_DURATION (s, 15), BENCH_WARMUP (s, 3), BENCH_CONNECTIONS (50),
// BENCH_ROUNDS (2), BENCH_PROFILE=1 (Tandem under --cpu-prof; README left alone),
// BENCH_KEEP_LOGS=1 (copy the servers' logs to bench/results), BENCH_NO_README=1, BENCH_DIRECT=1
// (`node dist/cli.js serve` in one process, without the launcher's settings; also with BENCH_PROFILE).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { createUsersRepository } from '../src/modules/users/users.repository.js';
import type { Db } from '../src/platform/db/client.js';
import { runMigrations } from '../src/platform/db/migrate.js';
import { createLogger } from '../src/platform/observability/logger.js';
import {
  benchDir,
  fmt,
  freePort,
  intEnv,
  machineBusyPercent,
  machineCpu,
  makeWorkDir,
  mean,
  memoryKb,
  postmasterPid,
  processCpuMs,
  processTreeCpuMs,
  resultsDir,
  root,
  runMain,
  runToCompletion,
  type Seed,
  type Server,
  say,
  seed,
  serverEnv,
  startDatabase,
  startServer,
  stopServer,
  sum,
  tail,
  transpileBareServer,
  workDir,
} from './lib.js';
import { summarizeProfile } from './profile-summary.js';
import { FIND_BY_ID, LIST_COUNT, LIST_PAGE, type Statement } from './queries.js';

const README = path.join(benchDir, 'README.md');
const MARK_START = '<!-- bench:users:start -->';
const MARK_END = '<!-- bench:users:end -->';

const settings = {
  warmup: intEnv('BENCH_WARMUP', 3),
  duration: intEnv('BENCH_DURATION', 15),
  connections: intEnv('BENCH_CONNECTIONS', 50),
  rounds: intEnv('BENCH_ROUNDS', 2),
  quietWait: process.env.BENCH_QUIET_WAIT ? intEnv('BENCH_QUIET_WAIT', 0) : 0,
  users: 10_000,
  poolMax: 10,
  profile: process.env.BENCH_PROFILE === '1',
  direct: process.env.BENCH_DIRECT === '1' || process.env.BENCH_PROFILE === '1',
  keepLogs: process.env.BENCH_KEEP_LOGS === '1',
  writeReadme: process.env.BENCH_NO_README !== '1' && process.env.BENCH_PROFILE !== '1',
};

const log = createLogger('warn');

// ---------------------------------------------------------------- parity checks

interface RecordedQuery {
  /** Set when the query runs as a named prepared statement. */
  name: string | undefined;
  text: string;
  values: unknown[];
}

/** What the users repository really sends, recorded on a pool that never connects. */
async function repositorySql(sampleId: string): Promise<RecordedQuery[]> {
  const recorded: RecordedQuery[] = [];
  const pool = new pg.Pool();
  const fake = async (config: string | { name?: string; text: string; values?: unknown[] }, values?: unknown[]) => {
    recorded.push(
      typeof config === 'string'
        ? { name: undefined, text: config, values: values ?? [] }
        : { name: config.name, text: config.text, values: config.values ?? values ?? [] },
    );
    return { rows: [], rowCount: 0, fields: [], command: 'SELECT', oid: 0 };
  };
  Object.assign(pool, { query: fake });
  const repo = createUsersRepository(drizzle({ client: pool }) as unknown as Db);
  await repo.findById(sampleId);
  await repo.list({ sort: [{ key: 'createdAt', desc: false }], limit: 20, offset: 0 });
  await pool.end();
  return recorded;
}

/** The bare server must send what the repository sends: same text, prepared (named) or not alike. */
function checkSqlParity(recorded: RecordedQuery[]): string {
  const expected = [FIND_BY_ID, LIST_PAGE, LIST_COUNT];
  const same = (q: RecordedQuery, s: Statement) => q.text === s.text && q.name !== undefined;
  const missing = expected.filter((s) => !recorded.some((q) => same(q, s)));
  const extra = recorded.filter((q) => !expected.some((s) => same(q, s)));
  if (missing.length === 0 && extra.length === 0) return 'identical SQL text, named prepared statements on both sides';
  process.stderr.write(
    `\n!!! SQL drift: the users repository no longer sends what bench/queries.ts runs.\n    repository: ${JSON.stringify(
      recorded.map((q) => ({ name: q.name, text: q.text })),
      null,
      2,
    )}\n    update bench/queries.ts (and bench/bare-server.ts) so the baseline does the same work.\n\n`,
  );
  return 'MISMATCH (see run output)';
}

async function getJson(url: string, token: string): Promise<{ status: number; body: unknown; bytes: number }> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text) as unknown, bytes: Buffer.byteLength(text) };
}

/** Both servers must answer the benchmarked requests with 200 and the same data; the sizes by label. */
async function checkResponses(
  tandem: Server,
  bare: Server,
  token: string,
  paths: Record<string, string>,
): Promise<Record<string, number[]>> {
  const sizes: Record<string, number[]> = {};
  for (const [label, p] of Object.entries(paths)) {
    const [a, b] = await Promise.all([getJson(`${tandem.url}${p}`, token), getJson(`${bare.url}${p}`, token)]);
    if (a.status !== 200 || b.status !== 200) {
      throw new Error(
        `${p}: Tandem answered ${a.status}, bare ${b.status}\nTandem: ${JSON.stringify(a.body)}\nbare: ${JSON.stringify(b.body)}`,
      );
    }
    if (JSON.stringify(a.body) !== JSON.stringify(b.body)) {
      throw new Error(`${p}: the two servers disagree\nTandem: ${JSON.stringify(a.body)}\nbare:   ${JSON.stringify(b.body)}`);
    }
    sizes[label] = [a.bytes, b.bytes];
  }
  return sizes;
}

async function login(tandem: Server, seedData: Seed): Promise<string> {
  const res = await fetch(`${tandem.url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: seedData.email, password: seedData.password }),
  });
  const body = (await res.json()) as { accessToken?: unknown };
  if (res.status !== 200 || typeof body.accessToken !== 'string') {
    throw new Error(`login failed: ${res.status} ${JSON.stringify(body)}`);
  }
  return body.accessToken;
}

// ---------------------------------------------------------------- measuring

interface Endpoint {
  key: string;
  label: string;
  request(): autocannon.Request;
}

interface Run {
  endpoint: string;
  server: string;
  round: number;
  position: number;
  requests: number;
  seconds: number;
  reqPerSec: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  serverCpuMs: number;
  loadgenCpuMs: number;
  machineBusyPct: number;
  /** PostgreSQL's CPU (postmaster and backends; NaN with DATABASE_URL). */
  pgCpuMs: number;
  /** Whatever else was busy on the machine (other processes; PostgreSQL too when not measured). */
  otherCpuMs: number;
  /** Interrupt handling (irq + softirq) machine-wide: mostly loopback TCP, charged to no process. */
  irqCpuMs: number;
  rssKb: number;
  hwmKb: number;
}

function cannon(server: Server, endpoint: Endpoint, token: string, seconds: number): Promise<autocannon.Result> {
  return autocannon({
    url: server.url,
    connections: settings.connections,
    pipelining: 1,
    duration: seconds,
    timeout: 10,
    headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
    requests: [endpoint.request()],
  });
}

const failures: string[] = [];

/** Waits (up to BENCH_QUIET_WAIT seconds) until the machine is under 15 % busy: a shared box's other work skews runs. */
async function waitForQuiet(): Promise<void> {
  const deadline = Date.now() + settings.quietWait * 1000;
  while (Date.now() < deadline) {
    const busy = await machineBusyPercent(1000);
    if (busy < 15) return;
    say(`  (machine ${fmt(busy, 0)} % busy with something else: waiting)`);
  }
}

async function measure(server: Server, endpoint: Endpoint, token: string, round: number, position: number): Promise<Run> {
  await waitForQuiet();
  const warm = await cannon(server, endpoint, token, settings.warmup);
  if (warm.non2xx > 0 || warm.errors > 0) {
    failures.push(`${server.name} ${endpoint.label} warm-up: ${warm.non2xx} non-2xx, ${warm.errors} errors`);
  }
  const pgPid = postmasterPid();
  const cpu0 = processCpuMs(server.pid);
  const pg0 = pgPid ? processTreeCpuMs(pgPid) : Number.NaN;
  const own0 = process.cpuUsage();
  const m0 = machineCpu();
  const result = await cannon(server, endpoint, token, settings.duration);
  const m1 = machineCpu();
  const own = process.cpuUsage(own0);
  const pgCpuMs = pgPid ? processTreeCpuMs(pgPid) - pg0 : Number.NaN;
  if (server.exited) throw new Error(`${server.name} died during the ${endpoint.label} run; log tail:\n${tail(server.logFile)}`);
  const serverCpuMs = processCpuMs(server.pid) - cpu0;
  const mem = memoryKb(server.pid);
  const cores = os.cpus().length;
  const wallMs = result.duration * 1000;
  const jiffyMs = (wallMs * cores) / Math.max(1, m1.total - m0.total);
  const machineBusyMs = (m1.busy - m0.busy) * jiffyMs;
  const irqCpuMs = (m1.irq - m0.irq) * jiffyMs;
  const loadgenCpuMs = (own.user + own.system) / 1000;
  const run: Run = {
    endpoint: endpoint.label,
    server: server.name,
    round,
    position,
    requests: result.requests.total,
    seconds: result.duration,
    reqPerSec: result.requests.total / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    serverCpuMs,
    loadgenCpuMs,
    machineBusyPct: (100 * (m1.busy - m0.busy)) / Math.max(1, m1.total - m0.total),
    pgCpuMs,
    otherCpuMs: Math.max(0, machineBusyMs - irqCpuMs - serverCpuMs - loadgenCpuMs - (Number.isNaN(pgCpuMs) ? 0 : pgCpuMs)),
    irqCpuMs,
    rssKb: mem.rss,
    hwmKb: mem.hwm,
  };
  if (run.non2xx > 0 || run.errors > 0) {
    const codes = JSON.stringify(result.statusCodeStats ?? {});
    failures.push(`${server.name} ${endpoint.label}: ${run.non2xx} non-2xx (${codes}), ${run.errors} errors, ${run.timeouts} timeouts`);
    process.stderr.write(`\n!!! ${failures.at(-1)}\n`);
  }
  say(
    `  round ${round} ${server.name.padEnd(6)} ${endpoint.label.padEnd(34)} ${fmt(run.reqPerSec, 0).padStart(7)} req/s  p50 ${fmt(run.p50, 1)} ms  p99 ${fmt(run.p99, 1)} ms  non-2xx ${run.non2xx}  server CPU ${fmt((1000 * run.serverCpuMs) / Math.max(1, run.requests), 0)} µs/req  pg ${fmt((1000 * run.pgCpuMs) / Math.max(1, run.requests), 0)} µs/req  other ${fmt((1000 * run.otherCpuMs) / Math.max(1, run.requests), 0)} µs/req  machine ${fmt(run.machineBusyPct, 0)}% busy  RSS ${fmt(run.rssKb / 1024, 1)} MiB`,
  );
  return run;
}

// ---------------------------------------------------------------- reporting

interface Aggregate {
  endpoint: string;
  server: string;
  reqPerSec: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  cpuUsPerReq: number;
  loadgenUsPerReq: number;
  pgUsPerReq: number;
  otherUsPerReq: number;
  irqUsPerReq: number;
  rssMiB: number;
  hwmMiB: number;
}

function aggregate(runs: Run[], endpoint: string, server: string): Aggregate {
  const mine = runs.filter((r) => r.endpoint === endpoint && r.server === server);
  const requests = sum(mine.map((r) => r.requests));
  const last = mine.at(-1);
  return {
    endpoint,
    server,
    reqPerSec: mean(mine.map((r) => r.reqPerSec)),
    p50: mean(mine.map((r) => r.p50)),
    p99: mean(mine.map((r) => r.p99)),
    non2xx: sum(mine.map((r) => r.non2xx)),
    errors: sum(mine.map((r) => r.errors)),
    cpuUsPerReq: (1000 * sum(mine.map((r) => r.serverCpuMs))) / Math.max(1, requests),
    loadgenUsPerReq: (1000 * sum(mine.map((r) => r.loadgenCpuMs))) / Math.max(1, requests),
    pgUsPerReq: (1000 * sum(mine.map((r) => r.pgCpuMs))) / Math.max(1, requests),
    otherUsPerReq: (1000 * sum(mine.map((r) => r.otherCpuMs))) / Math.max(1, requests),
    irqUsPerReq: (1000 * sum(mine.map((r) => r.irqCpuMs))) / Math.max(1, requests),
    rssMiB: (last?.rssKb ?? Number.NaN) / 1024,
    hwmMiB: Math.max(...mine.map((r) => r.hwmKb)) / 1024,
  };
}

function report(
  runs: Run[],
  endpoints: Endpoint[],
  context: { database: string; sqlParity: string; sizes: Record<string, number[]>; idleBusy: number; launch: string },
): string {
  const servers = ['Tandem', 'bare'];
  const rows = endpoints.flatMap((e) => servers.map((s) => aggregate(runs, e.label, s)));
  const lines: string[] = [];
  const cpuModel = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
  lines.push(
    `Run on ${new Date().toISOString().slice(0, 10)} · ${os.cpus().length} cores (\`nproc\` ${os.availableParallelism()}, ${cpuModel}) · ` +
      `Node ${process.version} · ${os.type()} ${os.release()} · ${context.database}.`,
    '',
    `autocannon: ${settings.connections} connections, pipelining 1, ${settings.warmup} s warm-up + ${settings.duration} s measured per run, ` +
      `${settings.rounds} round${settings.rounds > 1 ? 's' : ''} (order flipped each round and endpoint; figures are the mean over rounds). ` +
      `${settings.users.toLocaleString('en-US')} users; pool size ${settings.poolMax} on both sides; baseline SQL parity: ${context.sqlParity}. ` +
      `Machine ${fmt(context.idleBusy, 0)} % busy before the run started.`,
    '',
    '| endpoint | server | req/s | p50 ms | p99 ms | non-2xx | server CPU µs/req | RSS after MiB | peak RSS MiB |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  );
  for (const r of rows) {
    lines.push(
      `| \`${r.endpoint}\` | ${r.server} | ${fmt(r.reqPerSec, 0)} | ${fmt(r.p50, 1)} | ${fmt(r.p99, 1)} | ${r.non2xx + r.errors} | ${fmt(r.cpuUsPerReq, 0)} | ${fmt(r.rssMiB, 1)} | ${fmt(r.hwmMiB, 1)} |`,
    );
  }
  lines.push('', context.launch, '', '| endpoint | Tandem / bare (req/s) | bar (≥ 60 %) |', '| --- | ---: | --- |');
  for (const e of endpoints) {
    const t = aggregate(runs, e.label, 'Tandem');
    const b = aggregate(runs, e.label, 'bare');
    const ratio = t.reqPerSec / b.reqPerSec;
    lines.push(`| \`${e.label}\` | ${fmt(100 * ratio, 1)} % | ${ratio >= 0.6 ? 'met' : 'not met'} |`);
  }
  lines.push(
    '',
    'Where the two cores went during the measured runs, in CPU µs per request (server: that process; load generator: autocannon, in ' +
      'the bench/run.ts process; PostgreSQL: postmaster and backends; kernel irq: interrupt and softirq time, mostly loopback TCP, charged to no process; ' +
      'other: the rest of the machine, i.e. work that is not ours):',
    '',
    '| endpoint | server | server | load generator | PostgreSQL | kernel irq | other | response bytes |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  );
  for (const r of rows) {
    const size = context.sizes[r.endpoint];
    const bytes = size ? (r.server === 'Tandem' ? size[0] : size[1]) : undefined;
    lines.push(
      `| \`${r.endpoint}\` | ${r.server} | ${fmt(r.cpuUsPerReq, 0)} | ${fmt(r.loadgenUsPerReq, 0)} | ${Number.isNaN(r.pgUsPerReq) ? 'n/a' : fmt(r.pgUsPerReq, 0)} | ${fmt(r.irqUsPerReq, 0)} | ${fmt(r.otherUsPerReq, 0)} | ${bytes ?? '?'} |`,
    );
  }
  lines.push(
    '',
    '<details><summary>Every measured run</summary>',
    '',
    '| round | order | endpoint | server | req/s | p50 ms | p99 ms | non-2xx | machine busy | of which other |',
  );
  lines.push('| ---: | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of runs) {
    lines.push(
      `| ${r.round} | ${r.position} | \`${r.endpoint}\` | ${r.server} | ${fmt(r.reqPerSec, 0)} | ${fmt(r.p50, 1)} | ${fmt(r.p99, 1)} | ${r.non2xx + r.errors} | ${fmt(r.machineBusyPct, 0)} % | ${fmt((100 * r.otherCpuMs) / (r.seconds * 1000 * os.cpus().length), 0)} % |`,
    );
  }
  lines.push('', '</details>');
  return lines.join('\n');
}

function writeReadme(table: string): void {
  const section = `${MARK_START}\n${table}\n${MARK_END}`;
  const current = existsSync(README) ? readFileSync(README, 'utf8') : '# Benchmarks\n';
  const start = current.indexOf(MARK_START);
  const end = current.indexOf(MARK_END);
  const next =
    start !== -1 && end > start
      ? `${current.slice(0, start)}${section}${current.slice(end + MARK_END.length)}`
      : `${current.trimEnd()}\n\n## Users API: Tandem vs bare node:http + pg\n\n### Latest results\n\n${section}\n`;
  writeFileSync(README, next);
  // The project formats Markdown with Biome too (`npx biome check bench` must stay clean).
  const biome = spawnSync(path.join(root, 'node_modules', '.bin', 'biome'), ['format', '--write', README], { cwd: root, encoding: 'utf8' });
  if (biome.status !== 0) process.stderr.write(`biome format of ${README} failed:\n${biome.stdout}${biome.stderr}\n`);
  say(`\nwrote the results into ${path.relative(root, README)}`);
}

/** How Tandem was started, and what its launcher process holds besides the serving process. */
function launchNote(tandem: Server): string {
  if (!tandem.launcherPid) return 'Tandem ran as `node dist/cli.js serve`, one process.';
  const m = memoryKb(tandem.launcherPid);
  return (
    `Tandem ran as \`node bin/tandem.mjs serve\` (what \`npm start\` runs): Tandem's figures are its serving process. The launcher ` +
    `beside it held ${fmt(m.rss / 1024, 1)} MiB RSS, of which ${fmt(m.private / 1024, 1)} MiB its own (the rest is the node binary, shared).`
  );
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  say(
    `users benchmark: ${settings.rounds} round(s) × 2 endpoints × 2 servers, ${settings.warmup} s warm-up + ${settings.duration} s each, ${settings.connections} connections`,
  );
  const idleBusy = await machineBusyPercent();
  say(
    `machine ${fmt(idleBusy, 0)} % busy before we start anything${idleBusy > 10 ? ' — something else is running; the numbers will suffer' : ''}`,
  );
  makeWorkDir();
  const database = await startDatabase(log);
  await runMigrations(database.url, log);
  const seeded = await seed(database.url, settings.users);
  const sampleId = seeded.ids[0];
  if (!sampleId) throw new Error('seed produced no users');
  const sqlParity = checkSqlParity(await repositorySql(sampleId));

  await runToCompletion('npm', ['run', '--silent', 'build'], 'npm run build');
  const bareScript = transpileBareServer();

  const [tandemPort, barePort] = await Promise.all([freePort(), freePort()]);
  const profileDir = path.join(resultsDir, 'profiles');
  if (settings.profile) mkdirSync(profileDir, { recursive: true });
  const tandemArgs = settings.direct
    ? [...(settings.profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []), path.join(root, 'dist', 'cli.js'), 'serve']
    : [path.join(root, 'bin', 'tandem.mjs'), 'serve'];
  mkdirSync(path.join(workDir, 'tandem-data'), { recursive: true });
  const tandem = await startServer(
    'Tandem',
    tandemArgs,
    serverEnv({
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(tandemPort),
      DATABASE_URL: database.url,
      DATABASE_POOL_MAX: String(settings.poolMax),
      DATA_DIR: path.join(workDir, 'tandem-data'),
      JWT_SECRET: randomBytes(48).toString('base64url'),
      ACCESS_TOKEN_TTL: '3600',
      LOG_LEVEL: 'info',
      RATE_LIMIT_MAX: '100000000',
    }),
    tandemPort,
    '/health/ready',
  );
  const bare = await startServer(
    'bare',
    [bareScript],
    serverEnv({ HOST: '127.0.0.1', PORT: String(barePort), DATABASE_URL: database.url, DATABASE_POOL_MAX: String(settings.poolMax) }),
    barePort,
    '/health',
  );
  say(
    `Tandem pid ${tandem.pid}${tandem.launcherPid ? ` (launcher ${tandem.launcherPid})` : ''} on ${tandem.url}, bare pid ${bare.pid} on ${bare.url}`,
  );

  const token = await login(tandem, seeded);
  const listPath = '/api/v1/users?page=1&limit=20';
  const sizes = await checkResponses(tandem, bare, token, {
    'GET /api/v1/users/:id': `/api/v1/users/${sampleId}`,
    'GET /api/v1/users?page=1&limit=20': listPath,
  });
  say('both servers answer the benchmarked requests with 200 and identical data');

  let next = 0;
  const ids = seeded.ids;
  const endpoints: Endpoint[] = [
    {
      key: 'by-id',
      label: 'GET /api/v1/users/:id',
      request: () => ({
        method: 'GET',
        // Cycles through 1,000 random users (the same sequence for both servers).
        setupRequest: (req) => ({ ...req, path: `/api/v1/users/${ids[next++ % ids.length]}` }),
      }),
    },
    { key: 'list', label: 'GET /api/v1/users?page=1&limit=20', request: () => ({ method: 'GET', path: listPath }) },
  ];

  const runs: Run[] = [];
  for (let round = 1; round <= settings.rounds; round++) {
    for (const [i, endpoint] of endpoints.entries()) {
      const order = (round + i) % 2 === 1 ? [tandem, bare] : [bare, tandem];
      for (const [position, server] of order.entries()) {
        next = 0;
        runs.push(await measure(server, endpoint, token, round, position + 1));
      }
    }
  }

  const logBytes = statSync(tandem.logFile).size;
  const tandemRequests = sum(runs.filter((r) => r.server === 'Tandem').map((r) => r.requests));
  say(
    `\nTandem's log: ${fmt(logBytes / 1024 / 1024, 1)} MiB for the measured runs and warm-ups (~${fmt(logBytes / Math.max(1, tandemRequests), 0)} bytes per measured request)`,
  );

  const table = report(runs, endpoints, { database: database.kind, sqlParity, sizes, idleBusy, launch: launchNote(tandem) });
  say(`\n${table}\n`);

  await stopServer(tandem);
  await stopServer(bare);
  if (settings.keepLogs) {
    mkdirSync(resultsDir, { recursive: true });
    for (const s of [tandem, bare]) copyFileSync(s.logFile, path.join(resultsDir, `${s.name.toLowerCase()}-${process.pid}.log`));
    say(`logs copied to ${path.relative(root, resultsDir)}/`);
  }
  if (settings.profile) {
    const profiles = readdirSync(profileDir)
      .filter((f) => f.endsWith('.cpuprofile'))
      .map((f) => path.join(profileDir, f))
      .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
    if (profiles[0]) {
      say(`\nTandem CPU profile: ${path.relative(root, profiles[0])}\n`);
      say(summarizeProfile(profiles[0]));
    }
  }

  if (failures.length > 0) {
    throw new Error(`${failures.length} run(s) had non-2xx responses or errors:\n  ${failures.join('\n  ')}`);
  }
  if (settings.writeReadme) writeReadme(table);
}

runMain(main);
