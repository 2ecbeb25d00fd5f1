// Real `tandem` processes for lifecycle tests: spawn the built CLI, talk to it over fresh
// HTTP connections, and make sure nothing (Tandem or a PostgreSQL it started) outlives a test.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { waitFor } from './wait.js';

export const root = path.resolve(import.meta.dirname, '..', '..');
export const cli = path.join(root, 'dist', 'cli.js');

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

/** The fields of Tandem's answers that lifecycle tests read. */
export interface Envelope {
  success?: boolean;
  code?: string;
  requestId?: string;
  accessToken?: string;
  user?: { email: string };
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Envelope;
}

function collect(res: http.IncomingMessage, resolve: (r: RawResponse) => void, reject: (err: Error) => void) {
  const chunks: Buffer[] = [];
  res.on('data', (c: Buffer) => chunks.push(c));
  res.on('error', reject);
  res.on('end', () => {
    const text = Buffer.concat(chunks).toString('utf8');
    let body: Envelope = {};
    try {
      body = text ? (JSON.parse(text) as Envelope) : {};
    } catch {
      // not JSON (metrics, HTML)
    }
    resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
  });
}

/** One request on a fresh connection (no pooled sockets to confuse a shutdown test). */
export function request(base: string, method: string, p: string, options: { body?: unknown; token?: string } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const payload = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body));
    const headers: Record<string, string> = {};
    if (payload) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(payload.length);
    }
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    const req = http.request(new URL(p, base), { method, agent: false, headers }, (res) => collect(res, resolve, reject));
    req.on('error', reject);
    req.end(payload);
  });
}

/** The status of a GET, or the network error code (ECONNREFUSED…) when nothing answered. */
export async function statusOrError(base: string, p: string): Promise<number | string> {
  try {
    return (await request(base, 'GET', p)).status;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? String(err);
  }
}

/**
 * A POST whose headers and first bytes are sent now and the rest on `finish()`: a request
 * that stays in flight for as long as the test wants.
 */
export function slowPost(base: string, p: string, payload: unknown): { response: Promise<RawResponse>; finish(): void } {
  const body = Buffer.from(JSON.stringify(payload));
  let req: http.ClientRequest | undefined;
  const response = new Promise<RawResponse>((resolve, reject) => {
    const headers = { 'content-type': 'application/json', 'content-length': String(body.length) };
    req = http.request(new URL(p, base), { method: 'POST', agent: false, headers }, (res) => collect(res, resolve, reject));
    req.on('error', reject);
    req.write(body.subarray(0, 8));
  });
  return { response, finish: () => req?.end(body.subarray(8)) };
}

export interface Proc {
  child: ChildProcess;
  /** stdout and stderr so far. */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const children = new Set<ChildProcess>();

/** A child's environment: this process's, without the test harness's database settings. */
function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(base)) if (k === 'DATABASE_URL' || k === 'NODE_OPTIONS' || k.startsWith('TANDEM_')) delete base[k];
  return { ...base, NODE_ENV: 'development', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env };
}

/** Starts `node dist/cli.js …`; `stopChildren()` in an `after` hook stops whatever is left. */
export function startProcess(args: string[], env: Record<string, string>, cwd: string): Proc {
  const child = spawn(process.execPath, [cli, ...args], { cwd, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  const append = (c: Buffer) => {
    out += c.toString('utf8');
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    }),
  );
  return { child, output: () => out, exited };
}

/** Runs a short CLI command to completion. */
export function runCli(
  args: string[],
  env: Record<string, string>,
  cwd: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, ...args], { cwd, env: childEnv({ LOG_LEVEL: 'warn', ...env }) }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

export async function waitUntilReady(proc: Proc, base: string, timeoutMs: number): Promise<void> {
  await waitFor(
    `${base}/health/ready`,
    async () => {
      if (proc.child.exitCode !== null) throw new Error(`tandem exited with ${proc.child.exitCode} before it was ready:\n${proc.output()}`);
      return (await statusOrError(base, '/health/ready')) === 200 ? true : undefined;
    },
    { timeoutMs, intervalMs: 100 },
  );
}

export async function exitWithin(proc: Proc, timeoutMs: number) {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`tandem did not exit within ${timeoutMs} ms:\n${proc.output()}`)), timeoutMs);
  });
  try {
    return await Promise.race([proc.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Stops every child still running, gently first (so an embedded PostgreSQL is stopped too). */
export async function stopChildren(): Promise<void> {
  for (const child of [...children]) {
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await gone;
    clearTimeout(timer);
  }
}

/** PIDs of processes with `dir` as one of their arguments (a postmaster's `-D <dir>`). */
export function processesUsing(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').includes(dir)) pids.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}

/** Stops a PostgreSQL a failed test left running in `pgdata` (fast shutdown, then kill). */
export async function stopStrayPostgres(pgdata: string): Promise<void> {
  const pidFile = path.join(pgdata, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return;
  try {
    process.kill(pid, 'SIGINT');
  } catch {
    return;
  }
  await waitFor('the stray PostgreSQL to stop', () => (processesUsing(pgdata).length === 0 ? true : undefined), {
    timeoutMs: 20_000,
    intervalMs: 100,
  }).catch(() => {
    for (const p of processesUsing(pgdata)) process.kill(p, 'SIGKILL');
  });
}

/**
 * A fresh data directory under the repository's `.data/`: when tests run as root, PostgreSQL
 * runs as the `postgres` user and must be able to traverse it (a 0700 temp dir would not do).
 */
export function makeDataDir(prefix: string): string {
  mkdirSync(path.join(root, '.data'), { recursive: true });
  const dir = path.join(root, '.data', `${prefix}-${randomBytes(4).toString('hex')}`);
  mkdirSync(dir, { mode: 0o755 });
  chmodSync(dir, 0o755);
  return dir;
}
