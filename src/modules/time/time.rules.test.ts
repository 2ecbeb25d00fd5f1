import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isAppError } from '../../platform/errors.js';
import { checkRunningStart, elapsedMinutes, patchSpan, resolveSpan } from './time.rules.js';

const now = new Date('2026-03-10T12:00:00Z');
const at = (iso: string) => new Date(iso);

/** The details of the validation error `fn` throws. */
function rejects(fn: () => unknown): { path: string; message: string }[] {
  try {
    fn();
  } catch (err) {
    assert.ok(isAppError(err, 'VALIDATION_FAILED'), String(err));
    return err.details ?? [];
  }
  assert.fail('expected a validation error');
}

describe('elapsedMinutes', () => {
  it('rounds down to whole minutes', () => {
    assert.equal(elapsedMinutes(at('2026-03-10T10:00:00Z'), at('2026-03-10T10:59:59.999Z')), 59);
    assert.equal(elapsedMinutes(at('2026-03-10T10:00:00Z'), at('2026-03-10T10:00:59Z')), 0);
    assert.equal(elapsedMinutes(at('2026-03-10T10:00:00Z'), at('2026-03-10T12:30:00Z')), 150);
  });

  it('never answers less than zero when the end is before the start', () => {
    assert.equal(elapsedMinutes(at('2026-03-10T10:00:00Z'), at('2026-03-10T09:00:00Z')), 0);
  });
});

describe('resolveSpan', () => {
  it('derives minutes from an end', () => {
    const span = resolveSpan({ startedAt: at('2026-03-10T09:00:00Z'), endedAt: at('2026-03-10T10:45:30Z') }, now);
    assert.equal(span.minutes, 105);
    assert.equal(span.endedAt.toISOString(), '2026-03-10T10:45:30.000Z');
  });

  it('derives the end from minutes', () => {
    const span = resolveSpan({ startedAt: at('2026-03-10T09:00:00Z'), minutes: 90 }, now);
    assert.equal(span.endedAt.toISOString(), '2026-03-10T10:30:00.000Z');
    assert.equal(span.minutes, 90);
  });

  it('refuses an end before, at or less than a minute after the start', () => {
    for (const endedAt of ['2026-03-10T08:00:00Z', '2026-03-10T09:00:00Z', '2026-03-10T09:00:59Z']) {
      assert.deepEqual(
        rejects(() => resolveSpan({ startedAt: at('2026-03-10T09:00:00Z'), endedAt: at(endedAt) }, now)),
        [{ path: 'endedAt', message: 'must be at least one minute after startedAt' }],
      );
    }
  });

  it('refuses more than 24 hours in one entry', () => {
    assert.deepEqual(
      rejects(() => resolveSpan({ startedAt: at('2026-03-08T09:00:00Z'), endedAt: at('2026-03-09T09:01:00Z') }, now)),
      [{ path: 'endedAt', message: 'must end at most 24 hours after startedAt' }],
    );
    assert.equal(resolveSpan({ startedAt: at('2026-03-08T09:00:00Z'), minutes: 24 * 60 }, now).minutes, 1440);
  });

  it('refuses an end in the future beyond a few minutes of clock skew', () => {
    assert.equal(resolveSpan({ startedAt: at('2026-03-10T11:00:00Z'), endedAt: at('2026-03-10T12:04:00Z') }, now).minutes, 64);
    assert.deepEqual(
      rejects(() => resolveSpan({ startedAt: at('2026-03-10T11:30:00Z'), minutes: 60 }, now)),
      [{ path: 'minutes', message: 'must not end in the future' }],
    );
  });
});

describe('patchSpan', () => {
  const current = { startedAt: at('2026-03-09T09:00:00Z'), endedAt: at('2026-03-09T10:00:00Z'), minutes: 60 };

  it('moves the entry in time when only the start changes', () => {
    const span = patchSpan(current, { startedAt: at('2026-03-08T14:00:00Z') }, now);
    assert.equal(span.endedAt.toISOString(), '2026-03-08T15:00:00.000Z');
    assert.equal(span.minutes, 60);
  });

  it('changes the length with an end or with minutes', () => {
    assert.equal(patchSpan(current, { endedAt: at('2026-03-09T09:20:00Z') }, now).minutes, 20);
    assert.equal(patchSpan(current, { minutes: 45 }, now).endedAt.toISOString(), '2026-03-09T09:45:00.000Z');
  });

  it('refuses a move that would end in the future', () => {
    assert.deepEqual(
      rejects(() => patchSpan(current, { startedAt: at('2026-03-10T11:30:00Z') }, now)),
      [{ path: 'startedAt', message: 'would make the entry end in the future' }],
    );
  });
});

describe('checkRunningStart', () => {
  it('lets a running timer start in the past but not in the future', () => {
    checkRunningStart(at('2026-03-10T08:00:00Z'), now);
    assert.deepEqual(
      rejects(() => checkRunningStart(at('2026-03-10T13:00:00Z'), now)),
      [{ path: 'startedAt', message: 'must not be in the future' }],
    );
  });
});
