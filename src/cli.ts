// `tandem serve | migrate | users create | users promote | tasks import`: the operator's entry points.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Logger } from 'pino';
import { importTasksCommand } from './cli-import.js';
import { type Config, ConfigError, loadConfig } from './config.js';
import { openDatabase, startTandem } from './main.js';
import { createAuditRepository } from './modules/audit/audit.repository.js';
import { createAuditService } from './modules/audit/audit.service.js';
import { createUsersRepository } from './modules/users/users.repository.js';
import { email as emailSchema, personName } from './modules/users/users.schemas.js';
import { hashPassword, PASSWORD_MIN_LENGTH, passwordWeakness } from './platform/auth/passwords.js';
import { createRevocations } from './platform/auth/revocations.js';
import { createDatabase, type Database, type Db } from './platform/db/client.js';
import { runMigrations } from './platform/db/migrate.js';
import { inTransaction } from './platform/db/transaction.js';
import { newId } from './platform/ids.js';
import { createLogger } from './platform/observability/logger.js';

const USAGE = `Usage: tandem <command>

  serve                                   start the API (default)
  migrate                                 apply database migrations and exit
  users create --email E --name N [--password P] [--admin]
                                          create an account (a password is generated when omitted)
  users promote <email>                   make an existing user an instance admin
  tasks import --project ID --file PATH [--as EMAIL] [--format csv|ndjson]
                                          import a project export (CSV or NDJSON) into a project,
                                          as EMAIL (an admin or owner; default: the workspace's first owner)
`;

class UsageError extends Error {}

async function withDatabase<T>(config: Config, log: Logger, fn: (db: Db, url: string, database: Database) => Promise<T>): Promise<T> {
  const handle = await openDatabase(config, log, true);
  try {
    await runMigrations(handle.url, log);
    const database = createDatabase({ url: handle.url, max: 2, log });
    try {
      return await fn(database.db, handle.url, database);
    } finally {
      await database.close();
    }
  } finally {
    await handle.embedded?.stop();
  }
}

async function serve(config: Config, log: Logger): Promise<void> {
  const tandem = await startTandem(config, log);
  const base = config.publicUrl;
  process.stdout.write(
    `\nTandem is ready.\n  API      ${base}/api/v1\n  Docs     ${base}/docs\n  OpenAPI  ${base}/api/v1/openapi.json\n  Health   ${base}/health/live  ${base}/health/ready\n  Metrics  ${base}/metrics\n  Stop     Ctrl-C\n\n`,
  );
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (++signals > 1) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    log.info({ signal }, 'signal received');
    tandem.shutdown().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

async function createUser(config: Config, log: Logger, args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { email: { type: 'string' }, name: { type: 'string' }, password: { type: 'string' }, admin: { type: 'boolean' } },
  });
  const email = emailSchema.safeParse(values.email);
  const name = personName.safeParse(values.name);
  if (!email.success || !name.success) throw new UsageError('users create needs --email <address> and --name <name>');
  const generated = values.password === undefined;
  const password = values.password ?? randomBytes(18).toString('base64url');
  const weakness =
    password.length < PASSWORD_MIN_LENGTH
      ? `must be at least ${PASSWORD_MIN_LENGTH} characters`
      : passwordWeakness(password, [email.data, name.data]);
  if (weakness) throw new UsageError(`--password ${weakness}`);
  const passwordHash = await hashPassword(password);
  await withDatabase(config, log, async (db) => {
    const users = createUsersRepository(db);
    const audit = createAuditService({ audit: createAuditRepository(db) });
    const user = await inTransaction(db, async (tx) => {
      const created = await users.insertFirstIsAdmin(tx, {
        id: newId(),
        email: email.data,
        name: name.data,
        passwordHash,
        emailVerifiedAt: new Date(),
      });
      const promoted = values.admin && created.role !== 'admin' ? await users.update(tx, created.id, { role: 'admin' }) : created;
      await audit.record(tx, {
        action: 'user.registered',
        actorId: null,
        targetType: 'user',
        targetId: created.id,
        metadata: { via: 'cli', role: promoted?.role },
      });
      return promoted ?? created;
    });
    process.stdout.write(`created ${user.role} ${user.email} (${user.id})${generated ? `\npassword: ${password}` : ''}\n`);
  });
}

async function promoteUser(config: Config, log: Logger, email: string | undefined): Promise<void> {
  if (!email) throw new UsageError('users promote needs an e-mail address');
  await withDatabase(config, log, async (db, url) => {
    const users = createUsersRepository(db);
    const audit = createAuditService({ audit: createAuditRepository(db) });
    const revocations = createRevocations({
      url,
      log,
      ttlSeconds: config.accessTokenTtl,
      loadRecent: async () => ({ sessionIds: [], roles: [] }),
    });
    const user = await users.findByEmail(email);
    if (!user) throw new UsageError(`no user with e-mail ${email}`);
    if (user.role === 'admin') {
      process.stdout.write(`${user.email} is already an admin\n`);
      return;
    }
    await inTransaction(db, async (tx) => {
      await users.update(tx, user.id, { role: 'admin' });
      await audit.record(tx, {
        action: 'user.role_changed',
        actorId: null,
        targetType: 'user',
        targetId: user.id,
        metadata: { from: user.role, to: 'admin', via: 'cli' },
      });
      // Running servers learn of it at commit, so the user's current tokens act as admin at once.
      await revocations.announce(tx, { kind: 'role', userId: user.id, role: 'admin', changedAt: Date.now() });
    });
    process.stdout.write(`${user.email} is now an admin\n`);
  });
}

export async function runCli(argv: string[]): Promise<void> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  const [command = 'serve', sub, ...rest] = argv;
  if (command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(USAGE);
    return;
  }
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(78);
    }
    throw err;
  }
  const log = createLogger(command === 'serve' ? config.logLevel : 'warn');
  try {
    if (command === 'serve') await serve(config, log);
    else if (command === 'migrate') await withDatabase(config, createLogger('info'), async () => undefined);
    else if (command === 'users' && sub === 'create') await createUser(config, log, rest);
    else if (command === 'users' && sub === 'promote') await promoteUser(config, log, rest[0]);
    else if (command === 'tasks' && sub === 'import')
      await importTasksCommand(rest, {
        log,
        withDatabase: (fn) => withDatabase(config, log, (_db, _url, database) => fn(database)),
        usage: (message) => new UsageError(message),
      });
    else throw new UsageError(`unknown command: ${[command, sub].filter(Boolean).join(' ')}`);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`tandem: ${err.message}\n\n${USAGE}`);
      process.exit(64);
    }
    log.fatal({ err }, `tandem ${command} failed`);
    process.stderr.write(`tandem ${command} failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}

runCli(process.argv.slice(2));
