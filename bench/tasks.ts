// The tasks workload of `npm run bench` (alone: BENCH_WORKLOAD=tasks npm run bench, or
// `npx tsx bench/tasks.ts`): Tandem's full pipeline against a bare node:http + pg server sending
// the same statements, on 50,000 tasks in 100 projects, driven by autocannon from this process.
//
//   1. PostgreSQL (embedded and ephemeral, or a fresh database on DATABASE_URL's server);
//      migrations; 1,000 users and the task data seeded in SQL (bench/tasks-seed.ts).
//   2. `npm run build`; a Tandem process with bench/record-sql.ts loaded makes one request of each
//      kind, and what it sent becomes the bare server's statements (bench/tasks-parity.ts).
//   3. Tandem (production settings, access log at info, real login and bearer token) and
//      bench/bare-tasks.ts, each its own process; both must answer alike before measuring.
//   4. Per endpoint and round: warm-up then a measured run against each server, the order
//      flipping; after each server's CREATE runs the data is reset to the seed.
//   5. The tables on stdout and in bench/README.md (between the bench:tasks markers).
//
// Settings: the BENCH_* variables of bench/run.ts (see bench/README.md).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { runMigrations } from '../src/platform/db/migrate.js';
import { createLogger } from '../src/platform/observability/logger.js';
import { announce, benchSettings, type Endpoint, finish, launchNote, login, runRounds, startTandem } from './harness.js';
import {
  freePort,
  makeWorkDir,
  runMain,
  runToCompletion,
  say,
  seed,
  serverEnv,
  startDatabase,
  startServer,
  transpileBench,
  workDir,
} from './lib.js';
import { report, writeReadme } from './report.js';
import { checkParity, LIST_QUERY, recordTandemSql } from './tasks-parity.js';
import { PROJECTS, resetTasks, seedTasks, TASKS_PER_PROJECT } from './tasks-seed.js';

const settings = benchSettings();
const USERS = 1_000;
/** The issue's memory bar for the tasks workload: Tandem's peak RSS. */
const RSS_BAR_MIB = 150;
const log = createLogger('warn');

async function main(): Promise<void> {
  const idleBusy = await announce(settings, 'tasks', 3);
  makeWorkDir();
  const database = await startDatabase(log);
  await runMigrations(database.url, log);
  const users = await seed(database.url, USERS);
  const data = await seedTasks(database.url, users.email);

  await runToCompletion('npm', ['run', '--silent', 'build'], 'npm run build');
  const sql = await recordTandemSql(settings, database.url, transpileBench('tasks', ['record-sql.ts']), users, data);
  const sqlFile = path.join(workDir, 'tasks-sql.json');
  writeFileSync(sqlFile, JSON.stringify(sql, null, 2));
  await resetTasks(database.url);

  const tandem = await startTandem(settings, database.url);
  const barePort = await freePort();
  const bare = await startServer(
    'bare',
    [transpileBench('tasks', ['bare-tasks.ts', 'bare-http.ts'])],
    serverEnv({
      HOST: '127.0.0.1',
      PORT: String(barePort),
      DATABASE_URL: database.url,
      DATABASE_POOL_MAX: String(settings.poolMax),
      BARE_TASKS_SQL: sqlFile,
      BARE_USER_ID: data.userId,
    }),
    barePort,
    '/health',
  );
  say(
    `Tandem pid ${tandem.pid}${tandem.launcherPid ? ` (launcher ${tandem.launcherPid})` : ''} on ${tandem.url}, bare pid ${bare.pid} on ${bare.url}`,
  );

  const token = await login(tandem, users.email, users.password);
  const labels = {
    list: `GET /api/v1/projects/:projectId/tasks?${LIST_QUERY}`,
    get: 'GET /api/v1/tasks/:taskId',
    create: 'POST /api/v1/projects/:projectId/tasks',
  };
  const sizes = await checkParity(tandem, bare, token, database.url, data, labels);
  await resetTasks(database.url);

  // Each endpoint cycles through its ids in the same sequence for both servers.
  let next = 0;
  const restart = () => {
    next = 0;
  };
  const { projectIds, taskIds } = data;
  const endpoints: Endpoint[] = [
    {
      key: 'list',
      label: labels.list,
      before: restart,
      request: () => ({
        method: 'GET',
        setupRequest: (req) => ({ ...req, path: `/api/v1/projects/${projectIds[next++ % projectIds.length]}/tasks?${LIST_QUERY}` }),
      }),
    },
    {
      key: 'get',
      label: labels.get,
      before: restart,
      request: () => ({ method: 'GET', setupRequest: (req) => ({ ...req, path: `/api/v1/tasks/${taskIds[next++ % taskIds.length]}` }) }),
    },
    {
      key: 'create',
      label: labels.create,
      before: restart,
      // Every server starts its CREATE runs on the seeded 50,000 tasks.
      after: () => resetTasks(database.url),
      request: () => ({
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        setupRequest: (req) => {
          const i = next++;
          return {
            ...req,
            path: `/api/v1/projects/${projectIds[i % projectIds.length]}/tasks`,
            body: JSON.stringify({ title: `Bench task ${i}` }),
          };
        },
      }),
    },
  ];
  // BENCH_ENDPOINTS=list,get,create: only some of them (profiling one endpoint, say).
  const only = process.env.BENCH_ENDPOINTS?.split(',').map((e) => e.trim());
  const chosen = only ? endpoints.filter((e) => only.includes(e.key)) : endpoints;
  if (chosen.length === 0) throw new Error(`BENCH_ENDPOINTS names none of ${endpoints.map((e) => e.key).join(', ')}`);
  const runs = await runRounds(settings, chosen, [tandem, bare], token);

  const table = report(settings, runs, chosen, {
    database: database.kind,
    workload: `${(PROJECTS * TASKS_PER_PROJECT).toLocaleString('en-US')} tasks in ${PROJECTS} projects of one workspace, ${USERS.toLocaleString('en-US')} users`,
    sqlParity:
      "Tandem's own statements, recorded from a Tandem process making the same requests and replayed by the bare server (same text, prepared-statement names, order and transaction)",
    sizes,
    idleBusy,
    rssBarMiB: RSS_BAR_MIB,
    note: launchNote(tandem),
  });
  say(`\n${table}\n`);
  await finish(settings, tandem, bare, runs);
  if (settings.writeReadme && !only) writeReadme('tasks', 'Tasks API: Tandem vs bare node:http + pg', table);
}

runMain(main);
