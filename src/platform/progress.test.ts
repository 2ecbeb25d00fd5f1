import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createProgress } from './progress.js';

function sink(isTTY: boolean) {
  const out = {
    text: '',
    isTTY,
    write(s: string) {
      out.text += s;
      return true;
    },
  };
  return out;
}

describe('progress', () => {
  it('redraws one bar per phase on a terminal, at most every 100 ms, always at 100 %', () => {
    const out = sink(true);
    let now = 0;
    const progress = createProgress(out as unknown as NodeJS.WriteStream, () => now);
    progress.update('validating', 0, 200, '0 rows');
    now = 50;
    progress.update('validating', 100, 200, '5 rows');
    now = 60;
    progress.update('validating', 200, 200, '10 rows');
    progress.update('importing', 200, 200, '10 rows');
    progress.finish();
    assert.equal(
      out.text,
      '\rvalidating [..............................]   0% 0 rows\x1b[K' +
        '\rvalidating [##############################] 100% 10 rows\x1b[K\n' +
        '\rimporting  [##############################] 100% 10 rows\x1b[K\n',
    );
  });

  it('writes a plain line every 10 % when stderr is not a terminal', () => {
    const out = sink(false);
    const progress = createProgress(out as unknown as NodeJS.WriteStream);
    for (let done = 0; done <= 25; done++) progress.update('importing', done, 25);
    progress.finish();
    assert.deepEqual(
      out.text.trimEnd().split('\n'),
      [0, 12, 20, 32, 40, 52, 60, 72, 80, 92, 100].map((p) => `importing ${p}%`),
    );
  });
});
