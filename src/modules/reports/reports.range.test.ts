import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isAppError } from '../../platform/errors.js';
import { DEFAULT_FROM, MAX_RANGE_DAYS, mondayOf, resolveRange, wholeWeeks } from './reports.range.js';

describe('report ranges', () => {
  it('finds the Monday of an ISO week, Sundays belonging to the week before', () => {
    assert.equal(mondayOf('2025-03-09'), '2025-03-03'); // Sunday
    assert.equal(mondayOf('2025-03-10'), '2025-03-10'); // Monday
    assert.equal(mondayOf('2025-01-01'), '2024-12-30'); // across a year
  });

  it('widens a range to whole weeks, Monday to Sunday', () => {
    assert.deepEqual(wholeWeeks({ from: '2025-03-05', to: '2025-03-09' }), { from: '2025-03-03', to: '2025-03-09' });
    assert.deepEqual(wholeWeeks({ from: '2024-02-26', to: '2024-03-01' }), { from: '2024-02-26', to: '2024-03-03' });
  });

  it('defaults to ranges ending today: 30 days, 84 days, or 12 whole weeks', () => {
    assert.deepEqual(resolveRange({}, '2025-03-01', DEFAULT_FROM.days30, 366), { from: '2025-01-31', to: '2025-03-01' });
    assert.deepEqual(resolveRange({ to: '2025-03-31' }, '2026-01-01', DEFAULT_FROM.days84, 731), { from: '2025-01-07', to: '2025-03-31' });
    const weeks = wholeWeeks(resolveRange({}, '2025-03-12', DEFAULT_FROM.weeks12, 731));
    assert.deepEqual(weeks, { from: '2024-12-23', to: '2025-03-16' }); // 12 weeks: 84 days
  });

  it('refuses a reversed range and one longer than the cap, both ends included', () => {
    const refused = (from: string, to: string) =>
      assert.throws(
        () => resolveRange({ from, to }, '2025-01-01', DEFAULT_FROM.days30, MAX_RANGE_DAYS.daily),
        (e) => isAppError(e, 'VALIDATION_FAILED'),
      );
    refused('2025-01-02', '2025-01-01');
    refused('2025-01-01', '2026-01-02'); // 367 days
    assert.deepEqual(resolveRange({ from: '2025-01-01', to: '2026-01-01' }, '2025-01-01', DEFAULT_FROM.days30, 366), {
      from: '2025-01-01',
      to: '2026-01-01',
    });
  });
});
