// What the `npm run bench` workloads (bench/run.ts: users, bench/tasks.ts: tasks) share: their
// settings, starting Tandem the way production runs it, logging in, and one measured autocannon
// run with the CPU and memory readings around it. The tables are in bench/report.ts.
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import {
  fmt,
  freePort,
  intEnv,
  machineBusyPercent,
  machineCpu,
  memoryKb,
  postmasterPid,
  processCpuMs,
  processTreeCpuMs,
  resultsDir,
  root,
  type Server,
  say,
  serverEnv,
  startServer,
  stopServer,
  sum,
  tail,
  workDir,
} from './lib.js';
import { summarizeProfile } from './profile-summary.js';

export interface BenchSettings {
  warmup: number;
  duration: number;
  connections: number;
  rounds: number;
  quietWait: number;
  poolMax: number;
  profile: boolean;
  /** Tandem as one `node dist/cli.js serve` process rather than through bin/tandem.mjs. */
  direct: boolean;
  keepLogs: boolean;
  writeReadme: boolean;
}

export function benchSettings(): BenchSettings {
  return {
    warmup: intEnv('BENCH_WARMUP', 3),
    duration: intEnv('BENCH_DURATION', 15),
    connections: intEnv('BENCH_CONNECTIONS', 50),
    rounds: intEnv('BENCH_ROUNDS', 2),
    quietWait: process.env.BENCH_QUIET_WAIT ? intEnv('BENCH_QUIET_WAIT', 0) : 0,
    poolMax: 10,
    profile: process.env.BENCH_PROFILE === '1',
    direct: process.env.BENCH_DIRECT === '1' || process.env.BENCH_PROFILE === '1',
    keepLogs: process.env.BENCH_KEEP_LOGS === '1',
    writeReadme: process.env.BENCH_NO_README !== '1' && process.env.BENCH_PROFILE !== '1',
  };
}

/** The workload's opening lines; returns how busy the machine was before anything started. */
export async function announce(settings: BenchSettings, workload: string, endpoints: number): Promise<number> {
  say(
    `${workload} benchmark: ${settings.rounds} round(s) × ${endpoints} endpoints × 2 servers, ${settings.warmup} s warm-up + ${settings.duration} s each, ${settings.connections} connections`,
  );
  const idleBusy = await machineBusyPercent();
  say(
    `machine ${fmt(idleBusy, 0)} % busy before we start anything${idleBusy > 10 ? ' — something else is running; the numbers will suffer' : ''}`,
  );
  return idleBusy;
}

const profileDir = path.join(resultsDir, 'profiles');

/**
 * Tandem built beforehand, as its own process, production settings, access log at info into a
 * file, a rate limit too high to refuse anything. Started as `npm start` starts it (`node
 * bin/tandem.mjs serve`: a launcher and the serving process it starts with its memory settings;
 * the figures are the serving process's), or, with BENCH_DIRECT=1, BENCH_PROFILE=1 (under
 * --cpu-prof) or `nodeArgs` (bench/tasks.ts records the SQL with an --import), as one process
 * `node [flags] dist/cli.js serve`.
 */
export async function startTandem(
  settings: BenchSettings,
  databaseUrl: string,
  options: { name?: string; nodeArgs?: string[]; env?: Record<string, string>; profile?: boolean } = {},
): Promise<Server> {
  const port = await freePort();
  const profile = options.profile ?? settings.profile;
  if (profile) mkdirSync(profileDir, { recursive: true });
  const direct = profile || settings.direct || (options.nodeArgs?.length ?? 0) > 0;
  const args = direct
    ? [
        ...(profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []),
        ...(options.nodeArgs ?? []),
        path.join(root, 'dist', 'cli.js'),
        'serve',
      ]
    : [path.join(root, 'bin', 'tandem.mjs'), 'serve'];
  const dataDir = path.join(workDir, 'tandem-data');
  mkdirSync(dataDir, { recursive: true });
  const env = serverEnv({
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(port),
    DATABASE_URL: databaseUrl,
    DATABASE_POOL_MAX: String(settings.poolMax),
    DATA_DIR: dataDir,
    JWT_SECRET: randomBytes(48).toString('base64url'),
    ACCESS_TOKEN_TTL: '3600',
    LOG_LEVEL: 'info',
    RATE_LIMIT_MAX: '100000000',
    ...options.env,
  });
  return startServer(options.name ?? 'Tandem', args, env, port, '/health/ready');
}

/** How Tandem was started, and what its launcher process holds besides the serving process. */
export function launchNote(tandem: Server): string {
  if (!tandem.launcherPid) return 'Tandem ran as `node dist/cli.js serve`, one process.';
  const m = memoryKb(tandem.launcherPid);
  return (
    `Tandem ran as \`node bin/tandem.mjs serve\` (what \`npm start\` runs): Tandem's figures are its serving process. The launcher ` +
    `beside it held ${fmt(m.rss / 1024, 1)} MiB RSS, of which ${fmt(m.private / 1024, 1)} MiB its own (the rest is the node binary, shared).`
  );
}

export async function login(tandem: Server, email: string, password: string): Promise<string> {
  const res = await fetch(`${tandem.url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  const body = (await res.json()) as { accessToken?: unknown };
  if (res.status !== 200 || typeof body.accessToken !== 'string') {
    throw new Error(`login failed: ${res.status} ${JSON.stringify(body)}`);
  }
  return body.accessToken;
}

export interface Endpoint {
  key: string;
  label: string;
  request(): autocannon.Request;
  /** Runs before each server's warm-up (e.g. restart a cycle of ids). */
  before?(): void;
  /** Runs after each server's measured run (e.g. undo what a write endpoint created). */
  after?(): Promise<void>;
}

export interface Run {
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

/** Non-2xx responses and connection errors seen so far; any makes the run fail at the end. */
export const failures: string[] = [];

function cannon(settings: BenchSettings, server: Server, endpoint: Endpoint, token: string, seconds: number) {
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

/** Waits (up to BENCH_QUIET_WAIT seconds) until the machine is under 15 % busy: a shared box's other work skews runs. */
async function waitForQuiet(settings: BenchSettings): Promise<void> {
  const deadline = Date.now() + settings.quietWait * 1000;
  while (Date.now() < deadline) {
    const busy = await machineBusyPercent(1000);
    if (busy < 15) return;
    say(`  (machine ${fmt(busy, 0)} % busy with something else: waiting)`);
  }
}

/** Warm-up, then a measured run of one endpoint against one server. */
export async function measure(
  settings: BenchSettings,
  server: Server,
  endpoint: Endpoint,
  token: string,
  round: number,
  position: number,
): Promise<Run> {
  await waitForQuiet(settings);
  endpoint.before?.();
  const warm = await cannon(settings, server, endpoint, token, settings.warmup);
  if (warm.non2xx > 0 || warm.errors > 0) {
    failures.push(`${server.name} ${endpoint.label} warm-up: ${warm.non2xx} non-2xx, ${warm.errors} errors`);
  }
  const pgPid = postmasterPid();
  const cpu0 = processCpuMs(server.pid);
  const pg0 = pgPid ? processTreeCpuMs(pgPid) : Number.NaN;
  const own0 = process.cpuUsage();
  const m0 = machineCpu();
  const result = await cannon(settings, server, endpoint, token, settings.duration);
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
  await endpoint.after?.();
  const perReq = (ms: number) => fmt((1000 * ms) / Math.max(1, run.requests), 0);
  say(
    `  round ${round} ${server.name.padEnd(6)} ${endpoint.label.padEnd(34)} ${fmt(run.reqPerSec, 0).padStart(7)} req/s  p50 ${fmt(run.p50, 1)} ms  p99 ${fmt(run.p99, 1)} ms  non-2xx ${run.non2xx}  server CPU ${perReq(run.serverCpuMs)} µs/req  pg ${perReq(run.pgCpuMs)} µs/req  other ${perReq(run.otherCpuMs)} µs/req  machine ${fmt(run.machineBusyPct, 0)}% busy  RSS ${fmt(run.rssKb / 1024, 1)} MiB`,
  );
  return run;
}

/** Every endpoint on both servers, round after round; the order flips every round and endpoint. */
export async function runRounds(settings: BenchSettings, endpoints: Endpoint[], servers: [Server, Server], token: string): Promise<Run[]> {
  const runs: Run[] = [];
  for (let round = 1; round <= settings.rounds; round++) {
    for (const [i, endpoint] of endpoints.entries()) {
      const order = (round + i) % 2 === 1 ? servers : [servers[1], servers[0]];
      for (const [position, server] of order.entries()) runs.push(await measure(settings, server, endpoint, token, round, position + 1));
    }
  }
  return runs;
}

/** How much Tandem's access log grew over the measured runs and warm-ups. */
export function tandemLogSize(tandem: Server, runs: Run[]): void {
  const logBytes = statSync(tandem.logFile).size;
  const tandemRequests = sum(runs.filter((r) => r.server === tandem.name).map((r) => r.requests));
  say(
    `\nTandem's log: ${fmt(logBytes / 1024 / 1024, 1)} MiB for the measured runs and warm-ups (~${fmt(logBytes / Math.max(1, tandemRequests), 0)} bytes per measured request)`,
  );
}

/**
 * Stops both servers, keeps their logs (BENCH_KEEP_LOGS), summarises Tandem's CPU profile
 * (BENCH_PROFILE). Says the log size first unless `logSize: false` (the caller said it earlier).
 */
export async function finish(
  settings: BenchSettings,
  tandem: Server,
  bare: Server,
  runs: Run[],
  options: { logSize?: boolean } = {},
): Promise<void> {
  if (options.logSize ?? true) tandemLogSize(tandem, runs);
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
}
