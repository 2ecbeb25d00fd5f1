// `npm test`: one PostgreSQL for the whole run (embedded, or DATABASE_URL), one migrated
// template database, then node's test runner over every test file. Each file clones the
// template into a fresh database of its own, so files run in parallel without sharing rows.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '../src/platform/db/embedded.js';
import { runMigrations } from '../src/platform/db/migrate.js';
import { createLogger } from '../src/platform/observability/logger.js';

const root = path.resolve(import.meta.dirname, '..');
const log = createLogger(process.env.TEST_LOG_LEVEL ?? 'warn');
const TEMPLATE = 'tandem_test_template';

function testFiles(args: string[]): string[] {
  if (args.length > 0) return args.map((a) => path.resolve(a));
  const found: string[] = [];
  for (const dir of ['src', 'test']) {
    for (const entry of readdirSync(path.join(root, dir), { recursive: true, encoding: 'utf8' })) {
      if (entry.endsWith('.test.ts')) found.push(path.join(root, dir, entry));
    }
  }
  return found.sort();
}

async function main(): Promise<number> {
  const files = testFiles(process.argv.slice(2));
  let adminUrl = process.env.DATABASE_URL;
  let stop = async () => {};
  const dataDir = path.join(root, '.data', `test-${process.pid}`);
  if (!adminUrl) {
    const started = Date.now();
    const embedded = await startEmbeddedPostgres({
      dataDir,
      password: randomBytes(16).toString('hex'),
      log,
      database: 'postgres',
      ephemeral: true,
    });
    adminUrl = embedded.adminUrl;
    stop = async () => {
      await embedded.stop();
      rmSync(dataDir, { recursive: true, force: true });
    };
    process.stdout.write(`test PostgreSQL ready in ${Date.now() - started} ms\n`);
  }
  try {
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`drop database if exists ${TEMPLATE} with (force)`);
    await admin.query(`create database ${TEMPLATE}`);
    await admin.end();
    const templateUrl = new URL(adminUrl);
    templateUrl.pathname = `/${TEMPLATE}`;
    await runMigrations(templateUrl.toString(), log);

    const concurrency = process.env.TEST_CONCURRENCY ?? '2';
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files],
      {
        stdio: 'inherit',
        env: { ...process.env, TANDEM_TEST_ADMIN_URL: adminUrl, TANDEM_TEST_TEMPLATE: TEMPLATE, NODE_ENV: 'test' },
      },
    );
    return await new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
  } finally {
    await stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`test setup failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
