// `npm run bench`: the users workload (bench/run.ts), then the tasks workload (bench/tasks.ts),
// each in its own process with its own PostgreSQL, so neither's data or heap weighs on the other.
// BENCH_WORKLOAD=users or BENCH_WORKLOAD=tasks runs one (default: users,tasks); every other
// BENCH_* setting applies to each. The exit code is non-zero when any workload failed.
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';

const WORKLOADS: Record<string, string> = { users: 'run.ts', tasks: 'tasks.ts' };

const chosen = (process.env.BENCH_WORKLOAD ?? 'users,tasks')
  .split(',')
  .map((w) => w.trim())
  .filter(Boolean);
const unknown = chosen.filter((w) => !(w in WORKLOADS));
if (unknown.length > 0 || chosen.length === 0) {
  process.stderr.write(`BENCH_WORKLOAD must name ${Object.keys(WORKLOADS).join(' and/or ')}, comma-separated; got ${unknown.join(', ')}\n`);
  process.exit(2);
}

let current: ChildProcess | undefined;
// A signal goes on to the running workload (which cleans up and exits; a second one is harmless), then we exit after it.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => current?.kill(signal));

function run(script: string): Promise<number> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, script)], { stdio: 'inherit' });
  current = child;
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1))));
}

const failed: string[] = [];
for (const workload of chosen) {
  const code = await run(WORKLOADS[workload] as string);
  if (code !== 0) failed.push(`${workload} (exit code ${code})`);
  if (code >= 128) break; // interrupted
}
if (failed.length > 0) process.stderr.write(`\nbenchmark workloads failed: ${failed.join(', ')}\n`);
process.exit(failed.length > 0 ? 1 : 0);
