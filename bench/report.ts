// The markdown tables of a `npm run bench` workload, and writing them into bench/README.md
// between a workload's markers.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BenchSettings, Endpoint, Run } from './harness.js';
import { benchDir, fmt, mean, root, say, sum } from './lib.js';

const README = path.join(benchDir, 'README.md');

interface Aggregate {
  endpoint: string;
  server: string;
  reqPerSec: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  cpuUsPerReq: number;
  loadgenUsPerReq: number;
  pgUsPerReq: number;
  otherUsPerReq: number;
  irqUsPerReq: number;
  rssMiB: number;
  hwmMiB: number;
}

function aggregate(runs: Run[], endpoint: string, server: string): Aggregate {
  const mine = runs.filter((r) => r.endpoint === endpoint && r.server === server);
  const requests = sum(mine.map((r) => r.requests));
  const last = mine.at(-1);
  const perReq = (ms: number[]) => (1000 * sum(ms)) / Math.max(1, requests);
  return {
    endpoint,
    server,
    reqPerSec: mean(mine.map((r) => r.reqPerSec)),
    p50: mean(mine.map((r) => r.p50)),
    p99: mean(mine.map((r) => r.p99)),
    non2xx: sum(mine.map((r) => r.non2xx)),
    errors: sum(mine.map((r) => r.errors)),
    cpuUsPerReq: perReq(mine.map((r) => r.serverCpuMs)),
    loadgenUsPerReq: perReq(mine.map((r) => r.loadgenCpuMs)),
    pgUsPerReq: perReq(mine.map((r) => r.pgCpuMs)),
    otherUsPerReq: perReq(mine.map((r) => r.otherCpuMs)),
    irqUsPerReq: perReq(mine.map((r) => r.irqCpuMs)),
    rssMiB: (last?.rssKb ?? Number.NaN) / 1024,
    hwmMiB: Math.max(...mine.map((r) => r.hwmKb)) / 1024,
  };
}

export interface ReportContext {
  database: string;
  /** What was seeded, for the run's description ("10,000 users"). */
  workload: string;
  sqlParity: string;
  /** Response bytes per endpoint label: [Tandem, bare]. */
  sizes: Record<string, number[]>;
  idleBusy: number;
  /** A memory bar to judge Tandem's peak RSS by (the tasks workload: 150 MiB). */
  rssBarMiB?: number;
  /** A paragraph after the first table (how Tandem was started). */
  note?: string;
  /** Where autocannon ran, for the CPU table's caption (default: "the benchmark's own process"). */
  loadgenProcess?: string;
}

export function report(settings: BenchSettings, runs: Run[], endpoints: Endpoint[], context: ReportContext): string {
  const servers = ['Tandem', 'bare'];
  const rows = endpoints.flatMap((e) => servers.map((s) => aggregate(runs, e.label, s)));
  const lines: string[] = [];
  const cpuModel = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
  lines.push(
    `Run on ${new Date().toISOString().slice(0, 10)} · ${os.cpus().length} cores (\`nproc\` ${os.availableParallelism()}, ${cpuModel}) · ` +
      `Node ${process.version} · ${os.type()} ${os.release()} · ${context.database}.`,
    '',
    `autocannon: ${settings.connections} connections, pipelining 1, ${settings.warmup} s warm-up + ${settings.duration} s measured per run, ` +
      `${settings.rounds} round${settings.rounds > 1 ? 's' : ''} (order flipped each round and endpoint; figures are the mean over rounds). ` +
      `${context.workload}; pool size ${settings.poolMax} on both sides; baseline SQL parity: ${context.sqlParity}. ` +
      `Machine ${fmt(context.idleBusy, 0)} % busy before the run started.`,
    '',
    '| endpoint | server | req/s | p50 ms | p99 ms | non-2xx | server CPU µs/req | RSS after MiB | peak RSS MiB |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  );
  for (const r of rows) {
    lines.push(
      `| \`${r.endpoint}\` | ${r.server} | ${fmt(r.reqPerSec, 0)} | ${fmt(r.p50, 1)} | ${fmt(r.p99, 1)} | ${r.non2xx + r.errors} | ${fmt(r.cpuUsPerReq, 0)} | ${fmt(r.rssMiB, 1)} | ${fmt(r.hwmMiB, 1)} |`,
    );
  }
  const rssBar = context.rssBarMiB;
  if (context.note) lines.push('', context.note);
  lines.push(
    '',
    `| endpoint | Tandem / bare (req/s) | bar (≥ 60 %${rssBar ? `, Tandem RSS ≤ ${rssBar} MiB` : ''}) |`,
    '| --- | ---: | --- |',
  );
  for (const e of endpoints) {
    const t = aggregate(runs, e.label, 'Tandem');
    const b = aggregate(runs, e.label, 'bare');
    const ratio = t.reqPerSec / b.reqPerSec;
    const verdicts = [ratio >= 0.6 ? 'req/s met' : 'req/s not met'];
    if (rssBar) verdicts.push(t.hwmMiB <= rssBar ? `RSS met (peak ${fmt(t.hwmMiB, 0)} MiB)` : `RSS not met (peak ${fmt(t.hwmMiB, 0)} MiB)`);
    lines.push(`| \`${e.label}\` | ${fmt(100 * ratio, 1)} % | ${rssBar ? verdicts.join(', ') : ratio >= 0.6 ? 'met' : 'not met'} |`);
  }
  lines.push(
    '',
    'Where the two cores went during the measured runs, in CPU µs per request (server: that process; load generator: autocannon, in ' +
      `${context.loadgenProcess ?? "the benchmark's own process"}; PostgreSQL: postmaster and backends; kernel irq: interrupt and softirq time, mostly loopback TCP, charged to no process; ` +
      'other: the rest of the machine, i.e. work that is not ours):',
    '',
    '| endpoint | server | server | load generator | PostgreSQL | kernel irq | other | response bytes |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  );
  for (const r of rows) {
    const size = context.sizes[r.endpoint];
    const bytes = size ? (r.server === 'Tandem' ? size[0] : size[1]) : undefined;
    lines.push(
      `| \`${r.endpoint}\` | ${r.server} | ${fmt(r.cpuUsPerReq, 0)} | ${fmt(r.loadgenUsPerReq, 0)} | ${Number.isNaN(r.pgUsPerReq) ? 'n/a' : fmt(r.pgUsPerReq, 0)} | ${fmt(r.irqUsPerReq, 0)} | ${fmt(r.otherUsPerReq, 0)} | ${bytes ?? '?'} |`,
    );
  }
  lines.push(
    '',
    '<details><summary>Every measured run</summary>',
    '',
    '| round | order | endpoint | server | req/s | p50 ms | p99 ms | non-2xx | machine busy | of which other |',
    '| ---: | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  );
  for (const r of runs) {
    lines.push(
      `| ${r.round} | ${r.position} | \`${r.endpoint}\` | ${r.server} | ${fmt(r.reqPerSec, 0)} | ${fmt(r.p50, 1)} | ${fmt(r.p99, 1)} | ${r.non2xx + r.errors} | ${fmt(r.machineBusyPct, 0)} % | ${fmt((100 * r.otherCpuMs) / (r.seconds * 1000 * os.cpus().length), 0)} % |`,
    );
  }
  lines.push('', '</details>');
  return lines.join('\n');
}

/** Replaces the text between `<!-- bench:<name>:start -->` and its end marker (or appends a section with `heading`). */
export function writeReadme(name: string, heading: string, table: string): void {
  const start = `<!-- bench:${name}:start -->`;
  const end = `<!-- bench:${name}:end -->`;
  const section = `${start}\n${table}\n${end}`;
  const current = existsSync(README) ? readFileSync(README, 'utf8') : '# Benchmarks\n';
  const from = current.indexOf(start);
  const to = current.indexOf(end);
  const next =
    from !== -1 && to > from
      ? `${current.slice(0, from)}${section}${current.slice(to + end.length)}`
      : `${current.trimEnd()}\n\n## ${heading}\n\n### Latest results\n\n${section}\n`;
  writeFileSync(README, next);
  // The project formats Markdown with Biome too (`npx biome check bench` must stay clean).
  const biome = spawnSync(path.join(root, 'node_modules', '.bin', 'biome'), ['format', '--write', README], { cwd: root, encoding: 'utf8' });
  if (biome.status !== 0) process.stderr.write(`biome format of ${README} failed:\n${biome.stdout}${biome.stderr}\n`);
  say(`\nwrote the results into ${path.relative(root, README)}`);
}
