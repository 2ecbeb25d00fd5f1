// Report date ranges: calendar dates (YYYY-MM-DD) as people in `tz` see them, defaulted from
// "today" there, checked (from ≤ to, capped length) and, for weekly reports, widened to whole
// ISO weeks. Pure date arithmetic on UTC midnights, so no host time zone leaks in.
import { validationFailed } from '../../platform/errors.js';

export interface DateRange {
  from: string;
  to: string;
}

/** Longest range per kind of report: a daily series (burndown) and weekly or aggregate ones. */
export const MAX_RANGE_DAYS = { daily: 366, weekly: 731 } as const;

const DAY_MS = 86_400_000;
const toMs = (date: string) => Date.parse(`${date}T00:00:00Z`);
const fromMs = (ms: number) => new Date(ms).toISOString().slice(0, 10);

export const addDays = (date: string, days: number): string => fromMs(toMs(date) + days * DAY_MS);

/** Days from `from` to `to`, both included. */
export const daysIn = ({ from, to }: DateRange): number => Math.round((toMs(to) - toMs(from)) / DAY_MS) + 1;

/** The Monday of the ISO week that holds `date`. */
export function mondayOf(date: string): string {
  const weekday = new Date(toMs(date)).getUTCDay(); // 0 is Sunday
  return addDays(date, -((weekday + 6) % 7));
}

/** Default starts, from the range's end: the last 30 days, the last 12 weeks (84 days), 12 ISO weeks. */
export const DEFAULT_FROM = {
  days30: (to: string) => addDays(to, -29),
  days84: (to: string) => addDays(to, -83),
  weeks12: (to: string) => addDays(mondayOf(to), -77),
} as const;

/**
 * The range a report covers. `to` defaults to today; `from` to `defaultFrom(to)`. Throws
 * VALIDATION_FAILED when from > to or the range is longer than `maxDays` (both ends included).
 */
export function resolveRange(input: Partial<DateRange>, today: string, defaultFrom: (to: string) => string, maxDays: number): DateRange {
  const to = input.to ?? today;
  const from = input.from ?? defaultFrom(to);
  if (from > to) throw validationFailed([{ path: 'from', message: `must not be after to (${to})` }]);
  if (daysIn({ from, to }) > maxDays)
    throw validationFailed([{ path: 'to', message: `must be at most ${maxDays} days from from, both included` }]);
  return { from, to };
}

/** Widens a range to whole ISO weeks: from its first Monday to its last Sunday. */
export const wholeWeeks = ({ from, to }: DateRange): DateRange => ({ from: mondayOf(from), to: addDays(mondayOf(to), 6) });
