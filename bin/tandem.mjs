#!/usr/bin/env node
// Builds Tandem when the compiled output is missing or older than the sources, then runs the CLI.
// On Linux, `serve` runs in a child node process started with memory settings (see SERVE_ENV).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const stamp = path.join(root, 'dist', 'cli.js');

/**
 * Settings that only take effect when a process starts. glibc's malloc raises its mmap threshold
 * the first time a large block is freed: after the first argon2 hash (19 MiB), every libuv thread
 * that hashes keeps its 19 MiB, and other large blocks stay too, 25–80 MiB of RSS on a server that
 * has seen a few sign-ins (bench/README.md, "Memory"). A fixed threshold hands blocks of 1 MiB and
 * more back to the system when they are freed; the price is ~10 ms more CPU per password hash,
 * whose 19 MiB are then fresh pages each time. `node dist/cli.js serve` runs without it.
 */
const SERVE_ENV = { MALLOC_MMAP_THRESHOLD_: '1048576' };
const RELAUNCHED = 'TANDEM_RELAUNCHED';
/** Which of SERVE_ENV the launcher added (the caller's own values win and are left alone). */
const ADDED_ENV = 'TANDEM_LAUNCHER_ENV';
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'];

function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(full) : statSync(full).mtimeMs);
  }
  return newest;
}

function buildIfStale() {
  const sources = path.join(root, 'src');
  if (!existsSync(sources) || (existsSync(stamp) && statSync(stamp).mtimeMs >= newestSource(sources))) return;
  process.stderr.write('Building Tandem (tsc)…\n');
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

/**
 * Whether this invocation starts the server in a child. Not when node was given flags of its own
 * (`node --inspect bin/tandem.mjs`) or is inspected or profiled through NODE_OPTIONS: that is
 * meant for the process that serves, and the launcher would take the inspector's port first.
 */
function shouldRelaunch(args) {
  const command = args[0] ?? 'serve';
  const tooling = /--(inspect|cpu-prof|heap-prof|prof)\b/.test(process.env.NODE_OPTIONS ?? '');
  return command === 'serve' && process.platform === 'linux' && !process.env[RELAUNCHED] && process.execArgv.length === 0 && !tooling;
}

/**
 * The launcher: passes its signals on over IPC (the child decides whether one is new, see
 * acceptForwardedSignals) and ends as the child did, with its exit code or by its signal.
 */
function relaunch(args) {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), ...args], {
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    env: {
      ...SERVE_ENV,
      ...process.env,
      [RELAUNCHED]: '1',
      [ADDED_ENV]: Object.keys(SERVE_ENV)
        .filter((name) => process.env[name] === undefined)
        .join(','),
    },
  });
  // With a callback, a message that can no longer be sent (the child is exiting) is no 'error'.
  const forward = (signal) => child.connected && child.send({ signal }, () => {});
  for (const signal of SIGNALS) process.on(signal, forward);
  child.on('error', (err) => {
    process.stderr.write(`tandem: could not start the server process: ${err.message}\n`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    if (code !== null) process.exit(code);
    for (const s of SIGNALS) process.removeListener(s, forward);
    process.kill(process.pid, signal ?? 'SIGTERM');
  });
}

/**
 * The child's side. A signal may reach it directly as well as through the launcher: Ctrl-C goes to
 * the terminal's whole process group, systemd signals every process of the unit. cli.ts exits at
 * once on a second signal, so a forwarded one counts only if the same signal did not arrive
 * directly around the same time; it is taken after a short wait, since the direct one can be
 * handled after the message.
 */
function acceptForwardedSignals() {
  const direct = new Map(); // signal → when it last arrived from outside
  const raised = new Map(); // signal → how many this process sent itself that have not arrived yet
  const raise = (signal) => {
    raised.set(signal, (raised.get(signal) ?? 0) + 1);
    process.kill(process.pid, signal);
  };
  for (const signal of SIGNALS) {
    const note = () => {
      const own = raised.get(signal) ?? 0;
      if (own > 0) raised.set(signal, own - 1);
      else direct.set(signal, Date.now());
      // Alone, this listener would swallow the signal: let its default action happen instead.
      if (process.listenerCount(signal) === 1) {
        process.removeListener(signal, note);
        process.kill(process.pid, signal);
      }
    };
    process.on(signal, note);
  }
  process.on('message', (message) => {
    const signal = SIGNALS.includes(message?.signal) ? message.signal : undefined;
    if (signal) setTimeout(() => Date.now() - (direct.get(signal) ?? 0) > 1000 && raise(signal), 200);
  });
  // The launcher is gone (killed): stop rather than serve on unsupervised.
  process.on('disconnect', () => raise('SIGTERM'));
  process.channel?.unref();
}

/** The settings were for this process; what it starts (PostgreSQL, tsc) gets the caller's environment. */
function forgetServeEnv() {
  for (const name of (process.env[ADDED_ENV] ?? '').split(',').filter(Boolean)) delete process.env[name];
  delete process.env[ADDED_ENV];
  delete process.env[RELAUNCHED];
}

const args = process.argv.slice(2);
const relaunched = Boolean(process.env[RELAUNCHED]) && typeof process.send === 'function';
if (relaunched) {
  acceptForwardedSignals();
  forgetServeEnv();
} else {
  buildIfStale();
}
if (!relaunched && shouldRelaunch(args)) relaunch(args);
else await import(pathToFileURL(stamp).href);
