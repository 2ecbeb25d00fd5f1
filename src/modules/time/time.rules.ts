// The rules of a time entry's span, pure so they can be tested without a clock or a database.
import { type ErrorDetail, validationFailed } from '../../platform/errors.js';

/** One entry covers at most a day; longer stretches are separate entries. */
export const MAX_ENTRY_MINUTES = 24 * 60;
/** How far ahead of the server's clock an end may be (clients' clocks drift). */
export const FUTURE_SKEW_MS = 5 * 60_000;
const MINUTE_MS = 60_000;

/** Whole minutes between two instants, rounded down: a timer stopped after 59 s records 0. */
export const elapsedMinutes = (startedAt: Date, endedAt: Date): number =>
  Math.max(0, Math.floor((endedAt.getTime() - startedAt.getTime()) / MINUTE_MS));

export interface EntrySpan {
  startedAt: Date;
  endedAt: Date;
  minutes: number;
}

/**
 * A finished entry's span from its start and either its end or its length in minutes. The end
 * must be at least a minute after the start, at most a day after it, and not in the future.
 */
export function resolveSpan(input: { startedAt: Date; endedAt?: Date; minutes?: number }, now: Date): EntrySpan {
  const { startedAt } = input;
  const endedAt = input.endedAt ?? new Date(startedAt.getTime() + (input.minutes ?? 0) * MINUTE_MS);
  const field = input.endedAt ? 'endedAt' : 'minutes';
  const errors: ErrorDetail[] = [];
  const span = endedAt.getTime() - startedAt.getTime();
  if (span < MINUTE_MS)
    errors.push({ path: field, message: input.endedAt ? 'must be at least one minute after startedAt' : 'must be at least 1' });
  else if (span > MAX_ENTRY_MINUTES * MINUTE_MS) errors.push({ path: field, message: 'must end at most 24 hours after startedAt' });
  if (endedAt.getTime() > now.getTime() + FUTURE_SKEW_MS) errors.push({ path: field, message: 'must not end in the future' });
  if (errors.length > 0) throw validationFailed(errors);
  return { startedAt, endedAt, minutes: input.endedAt ? elapsedMinutes(startedAt, endedAt) : (input.minutes ?? 0) };
}

/** A running timer's start may move, but not past now. */
export function checkRunningStart(startedAt: Date, now: Date): void {
  if (startedAt.getTime() > now.getTime() + FUTURE_SKEW_MS) {
    throw validationFailed([{ path: 'startedAt', message: 'must not be in the future' }]);
  }
}

export interface SpanPatch {
  startedAt?: Date;
  endedAt?: Date;
  minutes?: number;
}

/**
 * The span of a finished entry after a change. Moving only the start keeps the length (the
 * entry moves in time, so only the future is checked); an end or a length changes the length.
 */
export function patchSpan(current: EntrySpan, patch: SpanPatch, now: Date): EntrySpan {
  const startedAt = patch.startedAt ?? current.startedAt;
  if (patch.endedAt || patch.minutes !== undefined) return resolveSpan({ startedAt, endedAt: patch.endedAt, minutes: patch.minutes }, now);
  const endedAt = new Date(startedAt.getTime() + (current.endedAt.getTime() - current.startedAt.getTime()));
  if (endedAt.getTime() > now.getTime() + FUTURE_SKEW_MS) {
    throw validationFailed([{ path: 'startedAt', message: 'would make the entry end in the future' }]);
  }
  return { startedAt, endedAt, minutes: current.minutes };
}
