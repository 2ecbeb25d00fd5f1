// What bench/run.ts and bench/costs.ts share: a throw-away PostgreSQL with 10,000 users,
// server processes with their output in a file, CPU and memory readings from /proc, and a
// cleanup list that runs whatever happened.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { Logger } from 'pino';
import ts from 'typescript';
import { hashPassword } from '../src/platform/auth/passwords.js';
import { startEmbeddedPostgres } from '../src/platform/db/embedded.js';
import { newId } from '../src/platform/ids.js';

export const root = path.resolve(import.meta.dirname, '..');
export const benchDir = path.join(root, 'bench');
export const resultsDir = path.join(benchDir, 'results');
/** Everything a run creates on disk: the PostgreSQL cluster, server logs, the transpiled baseline. */
export const workDir = path.join(root, '.data', `bench-${process.pid}`);

export const say = (line: string) => process.stdout.write(`${line}\n`);
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const fmt = (n: number, digits: number) =>
  Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : 'n/a';
export const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
export const mean = (xs: number[]) => sum(xs) / Math.max(1, xs.length);

export const intEnv = (name: string, fallback: number): number => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got ${raw}`);
  return n;
};

// ---------------------------------------------------------------- cleanup, whatever happens

const cleanups: { name: string; run: () => Promise<unknown> | unknown }[] = [];
/** Registered steps run last-in, first-out. */
export const onCleanup = (name: string, run: () => Promise<unknown> | unknown) => cleanups.unshift({ name, run });
let cleaning: Promise<void> | undefined;
export function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    for (const { name, run } of cleanups) {
      try {
        await run();
      } catch (err) {
        process.stderr.write(`cleanup "${name}" failed: ${err instanceof Error ? err.message : String(err)}\n`);
      }
    }
  })();
  return cleaning;
}

/** Runs main, then the cleanup list (also on Ctrl-C), and exits 1 when anything failed. */
export function runMain(main: () => Promise<void>): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      process.stderr.write(`\n${signal}: cleaning up…\n`);
      cleanUp().finally(() => process.exit(130));
    });
  }
  main()
    .then(
      () => 0,
      (err: unknown) => {
        process.stderr.write(`\nbenchmark FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
        return 1;
      },
    )
    .then(async (code) => {
      await cleanUp();
      process.exit(code);
    });
}

/** The work dir, world-readable: PostgreSQL runs as the postgres system user when we are root. */
export function makeWorkDir(): void {
  mkdirSync(workDir, { recursive: true, mode: 0o755 });
  chmodSync(workDir, 0o755);
  onCleanup('remove work dir', () => rmSync(workDir, { recursive: true, force: true }));
}

// ---------------------------------------------------------------- PostgreSQL

export interface DatabaseUnderTest {
  url: string;
  /** One line for the report. */
  kind: string;
}

/** A fresh database: on the server DATABASE_URL names, or an embedded ephemeral cluster. */
export async function startDatabase(log: Logger): Promise<DatabaseUnderTest> {
  const external = process.env.DATABASE_URL?.trim();
  if (external) {
    // A database of our own on that server, so the seed never meets anyone's rows.
    const name = `tandem_bench_${process.pid}`;
    await withClient(external, (c) => c.query(`create database ${name}`));
    onCleanup('drop bench database', () => withClient(external, (c) => c.query(`drop database if exists ${name} with (force)`)));
    const url = new URL(external);
    url.pathname = `/${name}`;
    const version = await serverVersion(url.toString());
    return { url: url.toString(), kind: `PostgreSQL ${version} from DATABASE_URL (database ${name})` };
  }
  const started = Date.now();
  const embedded = await startEmbeddedPostgres({
    dataDir: workDir,
    password: randomBytes(16).toString('hex'),
    log,
    database: 'tandem_bench',
    ephemeral: true,
  });
  onCleanup('stop embedded PostgreSQL', () => embedded.stop());
  const version = await serverVersion(embedded.url);
  say(`embedded PostgreSQL ${version} ready in ${Date.now() - started} ms (fsync off)`);
  return { url: embedded.url, kind: `embedded PostgreSQL ${version} (ephemeral: fsync, synchronous_commit and full_page_writes off)` };
}

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

async function serverVersion(url: string): Promise<string> {
  const { rows } = await withClient(url, (c) => c.query<{ v: string }>(`select current_setting('server_version') as v`));
  return rows[0]?.v ?? '?';
}

export interface Seed {
  email: string;
  password: string;
  /** 1,000 random user ids the GET /users/:id runs cycle through. */
  ids: string[];
}

/** `count` users: one with a real argon2id hash to log in as, the rest sharing one hash, one INSERT. */
export async function seed(url: string, count: number): Promise<Seed> {
  const started = Date.now();
  const email = 'bench-login@bench.example';
  const password = randomBytes(18).toString('base64url');
  const [loginHash, sharedHash] = await Promise.all([hashPassword(password), hashPassword(randomBytes(18).toString('base64url'))]);
  return withClient(url, async (c) => {
    await c.query(
      `insert into users (id, email, name, password_hash, role, email_verified_at, created_at, updated_at)
       values ($1, $2, 'Bench Login', $3, 'user', now(), now() - interval '1 day', now() - interval '1 day')`,
      [newId(), email, loginHash],
    );
    await c.query(
      `insert into users (id, email, name, password_hash, role, email_verified_at, created_at, updated_at)
       select gen_random_uuid(),
              'bench-user-' || i || '@bench.example',
              'Bench User ' || i,
              $1,
              case when i % 50 = 0 then 'admin' else 'user' end,
              case when i % 3 = 0 then null else now() - make_interval(secs => i) end,
              now() - make_interval(secs => i * 7),
              now() - make_interval(secs => i)
       from generate_series(1, $2::int) as i`,
      [sharedHash, count - 1],
    );
    await c.query('analyze users');
    const { rows } = await c.query<{ id: string }>('select id from users order by random() limit 1000');
    const { rows: counted } = await c.query<{ n: string }>('select count(*) as n from users');
    say(`seeded ${counted[0]?.n} users in ${Date.now() - started} ms`);
    return { email, password, ids: rows.map((r) => r.id) };
  });
}

// ---------------------------------------------------------------- server processes

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export function tail(file: string, lines = 30): string {
  if (!existsSync(file)) return '(no log)';
  return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
}

export interface Server {
  name: string;
  url: string;
  child: ChildProcess;
  /** The process that serves: the spawned one, or its node child when that is a launcher (bin/tandem.mjs). */
  pid: number;
  /** Set when `child` is a launcher and `pid` its child. */
  launcherPid?: number;
  logFile: string;
  exited: boolean;
}

/** The one node process a launcher started (bin/tandem.mjs relaunches `serve`), if any. */
function servingChild(pid: number): number | undefined {
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    const node = children.filter((c) => readFileSync(`/proc/${c}/comm`, 'utf8').trim() === 'node');
    return node.length === 1 ? node[0] : undefined;
  } catch {
    return undefined;
  }
}

const stopping = new Set<Server>();

/** A node child with stdout and stderr in <workDir>/<name>.log, ready when `readyPath` answers 200. */
export async function startServer(name: string, args: string[], env: NodeJS.ProcessEnv, port: number, readyPath: string): Promise<Server> {
  const logFile = path.join(workDir, `${name.replace(/[^\w.-]+/g, '_')}.log`);
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, args, { cwd: workDir, env, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  if (child.pid === undefined) throw new Error(`${name} did not start`);
  const server: Server = { name, url: `http://127.0.0.1:${port}`, child, pid: child.pid, logFile, exited: false };
  child.once('exit', (code, signal) => {
    server.exited = true;
    if (!stopping.has(server)) process.stderr.write(`\n${name} exited unexpectedly (code ${code}, signal ${signal})\n`);
  });
  onCleanup(`stop ${name}`, () => stopServer(server));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (server.exited) throw new Error(`${name} exited during start-up; log tail:\n${tail(logFile)}`);
    try {
      const res = await fetch(`${server.url}${readyPath}`);
      await res.arrayBuffer();
      if (res.ok) {
        const serving = servingChild(server.pid);
        if (serving !== undefined) Object.assign(server, { pid: serving, launcherPid: child.pid });
        return server;
      }
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${name} not ready after 60 s; log tail:\n${tail(logFile)}`);
    await sleep(100);
  }
}

/** SIGTERM (graceful: Tandem drains and exits 0), SIGKILL after 20 s. */
export async function stopServer(server: Server): Promise<void> {
  if (server.exited) return;
  stopping.add(server);
  const exited = new Promise<void>((resolve) => server.child.once('exit', () => resolve()));
  server.child.kill('SIGTERM');
  const timer = setTimeout(() => server.child.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(timer);
}

/** A clean environment: nothing from the caller's shell changes the servers' configuration. */
export function serverEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? os.homedir(), ...extra };
}

/** A command that must succeed (npm run build), its output on our terminal. */
export async function runToCompletion(command: string, args: string[], label: string): Promise<void> {
  const started = Date.now();
  const child = spawn(command, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  });
  if (code !== 0) throw new Error(`${label} failed (exit code ${code})`);
  say(`${label} done in ${Date.now() - started} ms`);
}

/**
 * Bench files as plain JavaScript in <workDir>/<dir>, their relative imports pointed at each
 * other's .mjs, so a process started on them is plain node. Returns the first one's path.
 */
export function transpileBench(dir: string, files: [string, ...string[]]): string {
  const out = path.join(workDir, dir);
  mkdirSync(out, { recursive: true });
  for (const file of files) {
    const source = readFileSync(path.join(benchDir, file), 'utf8');
    const { outputText } = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2023 },
      fileName: file,
    });
    writeFileSync(path.join(out, file.replace(/\.ts$/, '.mjs')), outputText.replace(/(['"]\.\/[\w.-]+)\.js(['"])/g, '$1.mjs$2'));
  }
  // `pg` resolves from the work dir upwards, i.e. from the project's node_modules.
  return path.join(out, files[0].replace(/\.ts$/, '.mjs'));
}

/** bench/bare-server.ts and its imports as plain JavaScript, so its process is plain node. */
export function transpileBareServer(): string {
  return transpileBench('bare', ['bare-server.ts', 'queries.ts', 'bare-http.ts']);
}

// ---------------------------------------------------------------- /proc readings

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** The fields of /proc/<pid>/stat after "pid (comm) ": index 0 is field 3 (state). */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined; // gone
  }
}

/** utime + stime of a process (fields 14 and 15), in ms. */
export function processCpuMs(pid: number): number {
  const f = statFields(pid);
  return f ? ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK : Number.NaN;
}

/** CPU of a process and its children, living (utime + stime) or reaped (cutime + cstime), in ms. */
export function processTreeCpuMs(rootPid: number): number {
  let ticks = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const f = statFields(pid);
    if (f && (pid === rootPid || f[1] === String(rootPid))) ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
  }
  return (ticks * 1000) / CLK_TCK;
}

/** The embedded postmaster's pid; undefined with DATABASE_URL (its CPU then counts as "other"). */
export function postmasterPid(): number | undefined {
  const file = path.join(workDir, 'pg', 'postmaster.pid');
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').split('\n')[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/**
 * Jiffies of the whole machine: busy, total, and the part spent in interrupts (irq + softirq:
 * on loopback much of the TCP work, charged to no process).
 */
export function machineCpu(): { busy: number; total: number; irq: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  // user nice system idle iowait irq softirq steal guest guest_nice (guest time is inside user)
  const v = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  const total = sum(v);
  return { busy: total - idle, total, irq: (v[5] ?? 0) + (v[6] ?? 0) };
}

/** How busy the machine is with nothing of ours running (other users' builds and tests skew a run). */
export async function machineBusyPercent(ms = 2000): Promise<number> {
  const a = machineCpu();
  await sleep(ms);
  const b = machineCpu();
  return (100 * (b.busy - a.busy)) / Math.max(1, b.total - a.total);
}

export function memoryKb(pid: number): { rss: number; hwm: number; private: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (text: string, name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? Number.NaN);
  // Pages no other process shares (the node binary's are shared with every other node process).
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  return {
    rss: field(status, 'VmRSS'),
    hwm: field(status, 'VmHWM'),
    private: field(rollup, 'Private_Clean') + field(rollup, 'Private_Dirty'),
  };
}
