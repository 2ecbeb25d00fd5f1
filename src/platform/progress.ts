// Progress of a long CLI job on stderr: a redrawn bar when stderr is a terminal, a plain line
// every 10 % otherwise (logs and CI keep a readable record instead of carriage returns).

export interface Progress {
  /** `done` of `total` units (bytes) in the current phase, with a short note such as a row count. */
  update(phase: string, done: number, total: number, note?: string): void;
  /** Ends the current line (terminal) so that what follows starts clean. */
  finish(): void;
}

const WIDTH = 30;
const REDRAW_MS = 100;

const percent = (done: number, total: number) => (total > 0 ? Math.min(100, Math.floor((done / total) * 100)) : 100);

export function createProgress(out: NodeJS.WriteStream = process.stderr, now: () => number = Date.now): Progress {
  const tty = out.isTTY === true;
  let lastDraw = 0;
  let lastPhase = '';
  let lastStep = -1;
  let drawn = false;
  return {
    update(phase, done, total, note = '') {
      const pct = percent(done, total);
      if (tty) {
        const t = now();
        if (phase === lastPhase && pct < 100 && t - lastDraw < REDRAW_MS) return;
        if (phase !== lastPhase && drawn) out.write('\n');
        lastDraw = t;
        lastPhase = phase;
        const filled = Math.round((pct / 100) * WIDTH);
        out.write(`\r${phase.padEnd(10)} [${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${String(pct).padStart(3)}% ${note}\x1b[K`);
        drawn = true;
        return;
      }
      const step = Math.floor(pct / 10);
      if (phase === lastPhase && step === lastStep) return;
      lastPhase = phase;
      lastStep = step;
      out.write(`${phase} ${pct}% ${note}`.trimEnd().concat('\n'));
    },
    finish() {
      if (tty && drawn) out.write('\n');
      drawn = false;
    },
  };
}
