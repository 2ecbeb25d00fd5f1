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
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { runMigrations } from '../src/platform/db/migrate.js';
import { createLogger } from '../src/platform/observability/logger.js';
import { benchSettings, type Endpoint, finish, launchNote, login, runRounds, startTandem } from './harness.js';
import {
  benchDir,
  fmt,
  freePort,
  machineBusyPercent,
  makeWorkDir,
  runMain,
  runToCompletion,
  say,
  seed,
  serverEnv,
  startDatabase,
  startServer,
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

/** A bench file as plain JavaScript in the work dir (`pg` resolves from the project's node_modules). */
function transpile(file: string): string {
  const out = path.join(workDir, 'tasks');
  mkdirSync(out, { recursive: true });
  const { outputText } = ts.transpileModule(readFileSync(path.join(benchDir, file), 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2023 },
    fileName: file,
  });
  const target = path.join(out, file.replace(/\.ts$/, '.mjs'));
  writeFileSync(target, outputText);
  return target;
}

async function main(): Promise<void> {
  say(
    `tasks benchmark: ${settings.rounds} round(s) × 3 endpoints × 2 servers, ${settings.warmup} s warm-up + ${settings.duration} s each, ${settings.connections} connections`,
  );
  const idleBusy = await machineBusyPercent();
  say(
    `machine ${fmt(idleBusy, 0)} % busy before we start anything${idleBusy > 10 ? ' — something else is running; the numbers will suffer' : ''}`,
  );
  makeWorkDir();
  const database = await startDatabase(log);
  await runMigrations(database.url, log);
  const users = await seed(database.url, USERS);
  const data = await seedTasks(database.url, users.email);

  await runToCompletion('npm', ['run', '--silent', 'build'], 'npm run build');
  const sql = await recordTandemSql(settings, database.url, transpile('record-sql.ts'), users, data);
  const sqlFile = path.join(workDir, 'tasks-sql.json');
  writeFileSync(sqlFile, JSON.stringify(sql, null, 2));
  await resetTasks(database.url);

  const tandem = await startTandem(settings, database.url);
  const barePort = await freePort();
  const bare = await startServer(
    'bare',
    [transpile('bare-tasks.ts')],
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
