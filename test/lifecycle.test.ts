// The process as an operator sees it: real `tandem` processes started and signalled,
// the embedded database initialised and reused, migrations racing, the database going away
// and coming back, and the admin CLI.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import { startTandem, type Tandem } from '../src/main.js';
import { type EmbeddedPostgres, startEmbeddedPostgres } from '../src/platform/db/embedded.js';
import { runMigrations } from '../src/platform/db/migrate.js';
import { createLogger } from '../src/platform/observability/logger.js';
import { createEmptyDatabase, createTestDatabase, dropDatabase } from './helpers/database.js';
import { strongPassword, uniqueEmail } from './helpers/factories.js';
import {
  cli,
  exitWithin,
  freePort,
  makeDataDir,
  processesUsing,
  request,
  root,
  runCli,
  slowPost,
  startProcess,
  statusOrError,
  stopChildren,
  stopStrayPostgres,
  waitUntilReady,
} from './helpers/processes.js';
import { waitFor } from './helpers/wait.js';

const quietLog = createLogger('silent');

/** What is left in the general rate-limit bucket (each probe spends one point of it). */
async function generalBucketRemaining(base: string): Promise<number> {
  const res = await request(base, 'GET', '/api/v1/lifecycle-probe');
  const m = /;r=(\d+);/.exec(String(res.headers.ratelimit ?? ''));
  assert.ok(m, `RateLimit header on ${res.status}: ${String(res.headers.ratelimit)}`);
  return Number(m[1]);
}

describe('process lifecycle', () => {
  let scratch: string;
  before(() => {
    // Build once, up front: `bin/tandem.mjs` would rebuild on demand, and parallel starts would race.
    execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'pipe' });
    assert.ok(existsSync(cli), 'dist/cli.js was built');
    scratch = mkdtempSync(path.join(os.tmpdir(), 'tandem-lifecycle-'));
  });
  after(async () => {
    await stopChildren();
    rmSync(scratch, { recursive: true, force: true });
  });

  describe('graceful shutdown', () => {
    let databaseUrl: string;
    before(async () => {
      databaseUrl = await createTestDatabase();
    });
    after(async () => {
      await stopChildren();
      await dropDatabase(databaseUrl);
    });

    it('finishes a request in flight at SIGTERM, stops taking new ones, and exits 0', async () => {
      const port = await freePort();
      const base = `http://127.0.0.1:${port}`;
      const proc = startProcess(
        ['serve'],
        {
          DATABASE_URL: databaseUrl,
          PORT: String(port),
          DATA_DIR: scratch,
          JWT_SECRET: randomBytes(32).toString('base64url'),
          SHUTDOWN_TIMEOUT: '60000',
          RATE_LIMIT_WINDOW: '3600',
        },
        scratch,
      );
      await waitUntilReady(proc, base, 60_000);

      // The registration is in flight once its onRequest hook has spent a rate-limit point.
      const remainingBefore = await generalBucketRemaining(base);
      const email = uniqueEmail('inflight');
      const registration = slowPost(base, '/api/v1/auth/register', { name: 'In Flight', email, password: strongPassword() });
      let probes = 0;
      await waitFor(
        'the registration to reach the server',
        async () => {
          const remaining = await generalBucketRemaining(base);
          probes++;
          return remaining === remainingBefore - probes - 1 ? true : undefined;
        },
        { timeoutMs: 10_000, intervalMs: 100 },
      );

      proc.child.kill('SIGTERM');
      const refused = await waitFor(
        'readiness to go away',
        async () => {
          const s = await statusOrError(base, '/health/ready');
          return s === 200 ? undefined : s;
        },
        { timeoutMs: 10_000, intervalMs: 100 },
      );
      assert.ok(refused === 503 || refused === 'ECONNREFUSED' || refused === 'ECONNRESET', `after SIGTERM /health/ready: ${refused}`);

      registration.finish();
      const res = await registration.response;
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.equal(res.body.user?.email, email);

      const { code } = await exitWithin(proc, 30_000);
      assert.equal(code, 0, proc.output());
      assert.match(proc.output(), /shutdown complete/);
      assert.doesNotMatch(proc.output(), /shutdown deadline reached/, 'drained without forcing connections closed');
      assert.equal(await statusOrError(base, '/health/live'), 'ECONNREFUSED');

      const db = new pg.Client({ connectionString: databaseUrl });
      await db.connect();
      try {
        const { rowCount } = await db.query('select 1 from users where email = $1', [email]);
        assert.equal(rowCount, 1, 'the drained registration was committed');
      } finally {
        await db.end();
      }
    });
  });

  describe('embedded PostgreSQL', () => {
    let dataDir: string;
    let port: number;
    let base: string;
    const user = { name: 'Embedded User', email: uniqueEmail('embedded'), password: strongPassword() };
    before(async () => {
      dataDir = makeDataDir('lifecycle');
      port = await freePort();
      base = `http://127.0.0.1:${port}`;
    });
    after(async () => {
      await stopChildren();
      await stopStrayPostgres(path.join(dataDir, 'pg'));
      rmSync(dataDir, { recursive: true, force: true });
    });

    const serve = () => startProcess(['serve'], { DATA_DIR: dataDir, PORT: String(port) }, scratch);

    it('initialises PostgreSQL on first start, serves, and stops it on SIGINT', async () => {
      const proc = serve();
      await waitUntilReady(proc, base, 180_000);
      assert.ok(existsSync(path.join(dataDir, 'pg', 'PG_VERSION')), 'the cluster lives under DATA_DIR/pg');
      assert.ok(processesUsing(path.join(dataDir, 'pg')).length > 0, 'a PostgreSQL serves this data directory');

      const res = await request(base, 'POST', '/api/v1/auth/register', { body: user });
      assert.equal(res.status, 201, JSON.stringify(res.body));

      proc.child.kill('SIGINT');
      const { code } = await exitWithin(proc, 60_000);
      assert.equal(code, 0, proc.output());
      assert.match(proc.output(), /shutdown complete/);
      assert.deepEqual(processesUsing(path.join(dataDir, 'pg')), [], 'no PostgreSQL process is left for this data directory');
      assert.equal(existsSync(path.join(dataDir, 'pg', 'postmaster.pid')), false);
    });

    it('reuses the data on the second start', async () => {
      const proc = serve();
      await waitUntilReady(proc, base, 120_000);
      const res = await request(base, 'POST', '/api/v1/auth/login', { body: { email: user.email, password: user.password } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.user?.email, user.email);
      assert.doesNotMatch(proc.output(), /initialising embedded PostgreSQL/);

      proc.child.kill('SIGTERM');
      const { code } = await exitWithin(proc, 60_000);
      assert.equal(code, 0, proc.output());
      assert.deepEqual(processesUsing(path.join(dataDir, 'pg')), []);
    });
  });

  describe('migrations', () => {
    let url: string;
    before(async () => {
      url = await createEmptyDatabase();
    });
    after(() => dropDatabase(url));

    it('lets two processes migrate one empty database at once: both succeed, each migration runs once', async () => {
      const results = await Promise.allSettled([runMigrations(url, quietLog), runMigrations(url, quietLog)]);
      assert.deepEqual(
        results.map((r) => (r.status === 'rejected' ? String(r.reason) : 'ok')),
        ['ok', 'ok'],
      );
      const journal = JSON.parse(readFileSync(path.join(root, 'migrations', 'meta', '_journal.json'), 'utf8')) as { entries: unknown[] };
      const db = new pg.Client({ connectionString: url });
      await db.connect();
      try {
        const applied = await db.query<{ n: number; distinct_hashes: number }>(
          'select count(*)::int as n, count(distinct hash)::int as distinct_hashes from drizzle.__drizzle_migrations',
        );
        assert.deepEqual(applied.rows[0], { n: journal.entries.length, distinct_hashes: journal.entries.length });
        const tables = await db.query("select 1 from information_schema.tables where table_schema = 'public' and table_name = 'users'");
        assert.equal(tables.rowCount, 1);
      } finally {
        await db.end();
      }
    });
  });

  describe('database down and back', () => {
    let dataDir: string;
    let pgPort: number;
    const password = randomBytes(16).toString('hex');
    let embedded: EmbeddedPostgres | undefined;
    let tandem: Tandem | undefined;
    let tandemDir: string;

    const startPostgres = async () => {
      embedded = await startEmbeddedPostgres({ dataDir, password, log: quietLog, port: pgPort, ephemeral: true, database: 'tandem' });
      return embedded;
    };

    before(async () => {
      dataDir = makeDataDir('lifecycle-pg');
      tandemDir = mkdtempSync(path.join(os.tmpdir(), 'tandem-dbdown-'));
      pgPort = await freePort();
    });
    after(async () => {
      await tandem?.shutdown();
      await embedded?.stop();
      await stopStrayPostgres(path.join(dataDir, 'pg'));
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(tandemDir, { recursive: true, force: true });
    });

    it('answers 503 UNAVAILABLE while PostgreSQL is down and recovers by itself when it is back', async () => {
      const pgServer = await startPostgres();
      const config = loadConfig({
        NODE_ENV: 'test',
        HOST: '127.0.0.1',
        PORT: '0',
        DATA_DIR: tandemDir,
        JWT_SECRET: randomBytes(32).toString('base64url'),
        DATABASE_URL: pgServer.url,
        LOG_LEVEL: 'silent',
      });
      tandem = await startTandem(config, quietLog);
      const base = tandem.url.replace('localhost', '127.0.0.1');
      const reg = await request(base, 'POST', '/api/v1/auth/register', {
        body: { name: 'Down Time', email: uniqueEmail('down'), password: strongPassword() },
      });
      assert.equal(reg.status, 201);
      const token = reg.body.accessToken;
      assert.ok(token);
      assert.equal((await request(base, 'GET', '/health/ready')).status, 200);

      await pgServer.stop();

      const ready = await waitFor(
        '/health/ready to report the database down',
        async () => {
          const res = await request(base, 'GET', '/health/ready');
          return res.status === 200 ? undefined : res;
        },
        { timeoutMs: 15_000, intervalMs: 100 },
      );
      assert.equal(ready.status, 503);
      assert.equal(ready.body.code, 'UNAVAILABLE');
      assert.equal(ready.body.success, false);

      const me = await request(base, 'GET', '/api/v1/users/me', { token });
      assert.equal(me.status, 503, JSON.stringify(me.body));
      assert.equal(me.body.success, false);
      assert.equal(me.body.code, 'UNAVAILABLE');
      assert.equal(typeof me.body.requestId, 'string');
      assert.equal(me.headers['x-request-id'], me.body.requestId);
      assert.ok(me.headers['retry-after'], 'Retry-After');
      assert.doesNotMatch(JSON.stringify(me.body), /ECONNREFUSED|127\.0\.0\.1|postgres/i);
      assert.equal((await request(base, 'GET', '/health/live')).status, 200, 'the process stays alive');

      await startPostgres();
      await waitFor(
        '/health/ready to recover without a restart',
        async () => ((await request(base, 'GET', '/health/ready')).status === 200 ? true : undefined),
        { timeoutMs: 30_000, intervalMs: 100 },
      );
      const again = await request(base, 'GET', '/api/v1/users/me', { token });
      assert.equal(again.status, 200, JSON.stringify(again.body));
    });
  });

  describe('admin CLI', () => {
    let databaseUrl: string;
    let sql: pg.Pool;
    const env = () => ({ DATABASE_URL: databaseUrl, DATA_DIR: scratch });
    const roleOf = async (email: string) =>
      (await sql.query<{ role: string }>('select role from users where email = $1', [email])).rows[0]?.role;

    before(async () => {
      databaseUrl = await createTestDatabase();
      sql = new pg.Pool({ connectionString: databaseUrl, max: 1 });
      // The first account becomes admin whatever the flags; make it now so the tests see ordinary users.
      const first = await runCli(['users', 'create', '--email', uniqueEmail('cli-first'), '--name', 'First Person'], env(), scratch);
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stdout, /^created admin .*\npassword: \S+\n$/s, 'a generated password is printed once');
    });
    after(async () => {
      await sql.end();
      await dropDatabase(databaseUrl);
    });

    it('creates an admin with `users create --admin`', async () => {
      const email = uniqueEmail('cli-admin');
      const res = await runCli(['users', 'create', '--email', email, '--name', 'Ada Admin', '--admin'], env(), scratch);
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, new RegExp(`created admin ${email.replace(/[.+]/g, '\\$&')}`));
      assert.equal(await roleOf(email), 'admin');
    });

    it('promotes an existing user with `users promote <email>`', async () => {
      const email = uniqueEmail('cli-user');
      const created = await runCli(
        ['users', 'create', '--email', email, '--name', 'Pat Person', '--password', strongPassword()],
        env(),
        scratch,
      );
      assert.equal(created.code, 0, created.stderr);
      assert.equal(await roleOf(email), 'user');

      const promoted = await runCli(['users', 'promote', email], env(), scratch);
      assert.equal(promoted.code, 0, promoted.stderr);
      assert.equal(await roleOf(email), 'admin');

      const again = await runCli(['users', 'promote', email], env(), scratch);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, /already an admin/);
    });

    it('exits 64 with usage on a bad command line', async () => {
      const res = await runCli(['users', 'create', '--name', 'No Email'], env(), scratch);
      assert.equal(res.code, 64);
      assert.match(res.stderr, /Usage: tandem/);
      const unknown = await runCli(['users', 'promote', uniqueEmail('nobody')], env(), scratch);
      assert.equal(unknown.code, 64);
    });
  });
});
