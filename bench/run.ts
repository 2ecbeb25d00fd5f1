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
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { createUsersRepository } from '../src/modules/users/users.repository.js';
import type { Db } from '../src/platform/db/client.js';
import { runMigrations } from '../src/platform/db/migrate.js';
import { createLogger } from '../src/platform/observability/logger.js';
import { announce, benchSettings, type Endpoint, finish, launchNote, login, runRounds, startTandem, tandemLogSize } from './harness.js';
import {
  freePort,
  makeWorkDir,
  runMain,
  runToCompletion,
  type Server,
  say,
  seed,
  serverEnv,
  startDatabase,
  startServer,
  transpileBareServer,
} from './lib.js';
import { FIND_BY_ID, LIST_COUNT, LIST_PAGE, type Statement } from './queries.js';
import { report, writeReadme } from './report.js';

const settings = benchSettings();
const USERS = 10_000;
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

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const idleBusy = await announce(settings, 'users', 2);
  makeWorkDir();
  const database = await startDatabase(log);
  await runMigrations(database.url, log);
  const seeded = await seed(database.url, USERS);
  const sampleId = seeded.ids[0];
  if (!sampleId) throw new Error('seed produced no users');
  const sqlParity = checkSqlParity(await repositorySql(sampleId));

  await runToCompletion('npm', ['run', '--silent', 'build'], 'npm run build');
  const bareScript = transpileBareServer();

  const tandem = await startTandem(settings, database.url);
  const barePort = await freePort();
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

  const token = await login(tandem, seeded.email, seeded.password);
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
      before: () => {
        next = 0;
      },
      request: () => ({
        method: 'GET',
        // Cycles through 1,000 random users (the same sequence for both servers).
        setupRequest: (req) => ({ ...req, path: `/api/v1/users/${ids[next++ % ids.length]}` }),
      }),
    },
    { key: 'list', label: 'GET /api/v1/users?page=1&limit=20', request: () => ({ method: 'GET', path: listPath }) },
  ];
  const runs = await runRounds(settings, endpoints, [tandem, bare], token);
  tandemLogSize(tandem, runs);

  const table = report(settings, runs, endpoints, {
    database: database.kind,
    workload: `${USERS.toLocaleString('en-US')} users`,
    sqlParity,
    sizes,
    idleBusy,
    note: launchNote(tandem),
    loadgenProcess: 'the bench/run.ts process',
  });
  say(`\n${table}\n`);
  await finish(settings, tandem, bare, runs, { logSize: false });
  if (settings.writeReadme) writeReadme('users', 'Users API: Tandem vs bare node:http + pg', table);
}

runMain(main);
