// Summarises a V8 .cpuprofile (from `node --cpu-prof`): where the process spent its CPU, by
// package or source file (self time, and inclusive time: any frame of it on the stack) and by
// function. `npx tsx bench/profile-summary.ts <file.cpuprofile> [top] [skip-ms]`; bench/run.ts calls it when
// BENCH_PROFILE=1.
import { readFileSync } from 'node:fs';
import path from 'node:path';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const root = path.resolve(import.meta.dirname, '..');

/** The package (node_modules/<pkg>), Tandem source file, node internal area, or V8 pseudo-frame. */
export function categoryOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm !== -1) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? url);
  }
  if (url.startsWith('node:')) {
    const p = url.slice('node:'.length).replace(/^internal\//, '');
    return `node:${p.split('/')[0]}`;
  }
  const file = url.startsWith('file://') ? new URL(url).pathname : url;
  return `tandem:${path.relative(root, file)}`;
}

/** Where a frame is: the file under node_modules or relative to the project, with its line. */
function locationOf(frame: CallFrame): string {
  const { url } = frame;
  if (!url) return '';
  const nm = url.lastIndexOf('/node_modules/');
  const file =
    nm !== -1
      ? url.slice(nm + '/node_modules/'.length)
      : url.startsWith('file://')
        ? path.relative(root, new URL(url).pathname)
        : url.replace(/^node:internal\//, 'node:');
  return ` ${file}:${frame.lineNumber + 1}`;
}

const frameKey = (f: CallFrame) => `${f.functionName || '(anonymous)'}${locationOf(f)}`;

export interface SummaryOptions {
  top?: number;
  /** Leave out the first milliseconds of the profile (start-up, module loading). */
  skipMs?: number;
  /** Requests served in the profiled window: adds a µs-per-request column. */
  requests?: number;
}

export function summarizeProfile(file: string, options: SummaryOptions = {}): string {
  const { top = 25, skipMs = 0, requests } = options;
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  const selfByCategory = new Map<string, number>();
  const inclusiveByCategory = new Map<string, number>();
  const selfByFunction = new Map<string, number>();
  const inclusiveByFunction = new Map<string, number>();
  const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);

  let total = 0;
  let idle = 0;
  let elapsedUs = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    elapsedUs += dt;
    if (elapsedUs < skipMs * 1000) return;
    const node = byId.get(id);
    if (!node) return;
    total += dt;
    if (node.callFrame.functionName === '(idle)') {
      idle += dt;
      return;
    }
    add(selfByCategory, categoryOf(node.callFrame), dt);
    add(selfByFunction, frameKey(node.callFrame), dt);
    const categories = new Set<string>();
    const functions = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const n = byId.get(cur);
      if (!n || n.callFrame.functionName === '(root)') continue;
      categories.add(categoryOf(n.callFrame));
      functions.add(frameKey(n.callFrame));
    }
    for (const c of categories) add(inclusiveByCategory, c, dt);
    for (const f of functions) add(inclusiveByFunction, f, dt);
  });

  const busy = total - idle;
  const pct = (v: number) => `${((100 * v) / Math.max(1, busy)).toFixed(1).padStart(5)} %`;
  const ms = (v: number) => `${(v / 1000).toFixed(0).padStart(7)} ms${requests ? `  ${(v / requests).toFixed(1).padStart(6)} µs/req` : ''}`;
  const table = (title: string, m: Map<string, number>, n: number) =>
    [
      title,
      ...[...m.entries()]
        .sort((a, b) => b[1] - a[1])
        .slice(0, n)
        .map(([k, v]) => `  ${pct(v)} ${ms(v)}  ${k}`),
    ].join('\n');

  return [
    `profile ${path.basename(file)}: ${(total / 1e6).toFixed(1)} s sampled${skipMs ? ` after the first ${(skipMs / 1000).toFixed(1)} s` : ''}, ` +
      `${(busy / 1e6).toFixed(1)} s not idle (percentages are of that; samples are wall-clock, so a syscall's share includes ` +
      `time the thread waited for a CPU inside it)${requests ? `; ${requests} requests` : ''}`,
    table('\nself time by package / file:', selfByCategory, top),
    table('\ninclusive time by package / file (on the stack):', inclusiveByCategory, top),
    table('\nself time by function:', selfByFunction, top),
    table('\ninclusive time by function:', inclusiveByFunction, top + 15),
  ].join('\n');
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: tsx bench/profile-summary.ts <file.cpuprofile> [top] [skip-ms]\n');
    process.exit(64);
  }
  process.stdout.write(`${summarizeProfile(file, { top: Number(process.argv[3] ?? 25), skipMs: Number(process.argv[4] ?? 0) })}\n`);
}
