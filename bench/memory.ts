// `npx tsx bench/memory.ts`: what Tandem's resident memory is made of, and what node flags and
// malloc settings do to it. Each variant starts Tandem as `npm start` does (`bin/tandem.mjs serve`,
// production settings, built first), or as `node [flags] dist/cli.js serve` in one process, signs in
// once (as `npm run bench` does), drives the by-id read closed-loop with 50 connections like
// `npm run bench`, and reports req/s, CPU per request, RSS after the run and its peak, V8's heap
// spaces from the server's own /metrics, and RSS after four more sign-ins at once (argon2 runs on
// libuv's four threads; see bin/tandem.mjs).
//
// Settings: MEMORY_VARIANTS (`;`-separated; each `name=words`, words space-separated: node flags,
// or `NAME=value` environment variables; `start` means bin/tandem.mjs as `npm start` runs it;
// default "start;direct="), MEMORY_DURATION (s, 10), MEMORY_WARMUP (s, 3), MEMORY_REPEAT (2),
// MEMORY_BARE=1 (the bare server too).
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import autocannon from 'autocannon';
import { runMigrations } from '../src/platform/db/migrate.js';
import { createLogger } from '../src/platform/observability/logger.js';
import {
  fmt,
  freePort,
  intEnv,
  makeWorkDir,
  memoryKb,
  processCpuMs,
  root,
  runMain,
  runToCompletion,
  type Seed,
  type Server,
  say,
  seed,
  serverEnv,
  startDatabase,
  startServer,
  stopServer,
  transpileBareServer,
  workDir,
} from './lib.js';

const settings = {
  duration: intEnv('MEMORY_DURATION', 10),
  warmup: intEnv('MEMORY_WARMUP', 3),
  repeat: intEnv('MEMORY_REPEAT', 2),
  bare: process.env.MEMORY_BARE === '1',
  variants: (process.env.MEMORY_VARIANTS ?? 'start;direct=').split(';').map(parseVariant),
};

interface Variant {
  name: string;
  flags: string[];
  env: Record<string, string>;
}

function parseVariant(spec: string): Variant {
  const at = spec.indexOf('=');
  const name = (at === -1 ? spec : spec.slice(0, at)).trim();
  const words =
    at === -1
      ? []
      : spec
          .slice(at + 1)
          .split(' ')
          .filter(Boolean);
  const isEnv = (w: string) => /^[A-Z][A-Z0-9_]*=/.test(w);
  const env = Object.fromEntries(words.filter(isEnv).map((w) => [w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1)]));
  return { name, flags: words.filter((w) => !isEnv(w)), env };
}

const log = createLogger('warn');
const METRICS_TOKEN = randomBytes(16).toString('hex');

/** The heap figures of prom-client's default metrics, in MiB. */
async function heapBreakdown(server: Server): Promise<Record<string, number>> {
  const res = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  const text = await res.text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^nodejs_heap_space_size_total_bytes\{space="(\w+)"\} (\d+)/gm)) out[m[1] ?? '?'] = Number(m[2]) / 2 ** 20;
  for (const [key, metric] of [
    ['heap total', 'nodejs_heap_size_total_bytes'],
    ['heap used', 'nodejs_heap_size_used_bytes'],
    ['external', 'nodejs_external_memory_bytes'],
  ] as const) {
    const m = new RegExp(`^${metric} (\\d+)`, 'm').exec(text);
    if (m) out[key] = Number(m[1]) / 2 ** 20;
  }
  return out;
}

/** A real sign-in (argon2 verify on a libuv thread); its access token for the load. */
async function login(server: Server, email: string, password: string): Promise<string> {
  const res = await fetch(`${server.url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  const body = (await res.json()) as { accessToken?: string };
  if (!body.accessToken) throw new Error(`login failed: ${res.status}`);
  return body.accessToken;
}

interface Reading {
  reqPerSec: number;
  cpuUsPerReq: number;
  startMiB: number;
  afterMiB: number;
  peakMiB: number;
  afterSignInsMiB: number;
  launcherPrivateMiB: number | undefined;
  heap: Record<string, number>;
}

function drive(server: Server, ids: string[], token: string, seconds: number) {
  let next = 0;
  return autocannon({
    url: server.url,
    connections: 50,
    pipelining: 1,
    duration: seconds,
    headers: { authorization: `Bearer ${token}` },
    requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: `/api/v1/users/${ids[next++ % ids.length]}` }) }],
  });
}

async function measure(server: Server, seeded: Seed): Promise<Reading> {
  const bare = server.name.startsWith('bare');
  const startMiB = memoryKb(server.pid).rss / 1024;
  const token = bare ? '' : await login(server, seeded.email, seeded.password);
  await drive(server, seeded.ids, token, settings.warmup);
  const cpu0 = processCpuMs(server.pid);
  const r = await drive(server, seeded.ids, token, settings.duration);
  const cpu = processCpuMs(server.pid) - cpu0;
  if (r.non2xx + r.errors > 0) throw new Error(`${server.name}: ${r.non2xx} non-2xx, ${r.errors} errors`);
  const mem = memoryKb(server.pid);
  const heap = bare ? {} : await heapBreakdown(server);
  if (!bare) await Promise.all([1, 2, 3, 4].map(() => login(server, seeded.email, seeded.password)));
  return {
    reqPerSec: r.requests.total / r.duration,
    cpuUsPerReq: (1000 * cpu) / r.requests.total,
    startMiB,
    afterMiB: mem.rss / 1024,
    peakMiB: mem.hwm / 1024,
    afterSignInsMiB: memoryKb(server.pid).rss / 1024,
    launcherPrivateMiB: server.launcherPid ? memoryKb(server.launcherPid).private / 1024 : undefined,
    heap,
  };
}

function row(v: Variant, rep: number, r: Reading): string {
  const heap = Object.entries(r.heap)
    .filter(([, mib]) => mib >= 0.5)
    .map(([space, mib]) => `${space.replace(/_space$/, '')} ${fmt(mib, 1)}`)
    .join(', ');
  const how = [...Object.entries(v.env).map(([k, val]) => `${k}=${val}`), ...v.flags].join(' ');
  const launcher = r.launcherPrivateMiB === undefined ? '' : ` (+ launcher ${fmt(r.launcherPrivateMiB, 1)} private)`;
  return (
    `| ${v.name} | ${how ? `\`${how}\`` : ''} | ${rep} | ${fmt(r.reqPerSec, 0)} | ${fmt(r.cpuUsPerReq, 0)} | ${fmt(r.startMiB, 1)} | ` +
    `${fmt(r.afterMiB, 1)}${launcher} | ${fmt(r.peakMiB, 1)} | ${fmt(r.afterSignInsMiB, 1)} | ${heap} |`
  );
}

async function main(): Promise<void> {
  makeWorkDir();
  const database = await startDatabase(log);
  await runMigrations(database.url, log);
  const seeded = await seed(database.url, 10_000);
  await runToCompletion('npm', ['run', '--silent', 'build'], 'npm run build');
  const dataDir = path.join(workDir, 'tandem-data');
  mkdirSync(dataDir, { recursive: true });
  const tandemEnv = (port: number, extra: Record<string, string>) =>
    serverEnv({
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
      DATABASE_URL: database.url,
      DATABASE_POOL_MAX: '10',
      DATA_DIR: dataDir,
      JWT_SECRET: randomBytes(48).toString('base64url'),
      ACCESS_TOKEN_TTL: '3600',
      LOG_LEVEL: 'info',
      RATE_LIMIT_MAX: '100000000',
      METRICS_TOKEN,
      ...extra,
    });
  const bareScript = settings.bare ? transpileBareServer() : '';
  const variants: Variant[] = [...settings.variants, ...(settings.bare ? [{ name: 'bare', flags: [], env: {} }] : [])];
  const rows: string[] = [];
  for (let rep = 1; rep <= settings.repeat; rep++) {
    for (const v of variants) {
      const port = await freePort();
      const bare = v.name === 'bare';
      const args = bare
        ? [bareScript]
        : v.name === 'start'
          ? [path.join(root, 'bin', 'tandem.mjs'), 'serve']
          : [...v.flags, path.join(root, 'dist', 'cli.js'), 'serve'];
      const env = bare
        ? serverEnv({ HOST: '127.0.0.1', PORT: String(port), DATABASE_URL: database.url, ...v.env })
        : tandemEnv(port, v.env);
      const server = await startServer(`${v.name}-${rep}`, args, env, port, bare ? '/health' : '/health/ready');
      const r = await measure(server, seeded);
      await stopServer(server);
      rows.push(row(v, rep, r));
      say(rows.at(-1) ?? '');
    }
  }
  say(
    [
      '',
      '| variant | settings | rep | req/s by id | CPU µs/req | RSS at start MiB | RSS after load MiB | peak RSS MiB | RSS after 4 more sign-ins MiB | V8 heap after load (MiB committed per space; used) |',
      '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
      ...rows,
    ].join('\n'),
  );
}

runMain(main);
