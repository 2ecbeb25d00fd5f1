// Pure rules of a task change: what a patch changes (the before/after recorded as activity),
// how completion follows status, and where a board move lands.
import type { NewTaskRow, TaskRow, TaskStatus } from './tasks.table.js';

export const TRACKED_FIELDS = ['title', 'description', 'status', 'priority', 'assigneeId', 'dueDate', 'labels', 'estimateMinutes'] as const;
export type TrackedField = (typeof TRACKED_FIELDS)[number];
export type TaskFields = Pick<TaskRow, TrackedField>;
export type TaskChanges = Partial<Record<TrackedField | 'position', { before: unknown; after: unknown }>>;

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** The fields `next` actually changes, with their old and new values. */
export function diffTask(current: TaskRow, next: Partial<TaskFields>): TaskChanges {
  const changes: TaskChanges = {};
  for (const field of TRACKED_FIELDS) {
    if (next[field] === undefined || same(current[field], next[field])) continue;
    changes[field] = { before: current[field], after: next[field] };
  }
  return changes;
}

/** Completion follows the status: set when a task becomes done, cleared when it leaves done. */
export function completionFor(from: TaskStatus, to: TaskStatus, now: Date): Pick<NewTaskRow, 'completedAt'> | undefined {
  if (from === to) return undefined;
  if (to === 'done') return { completedAt: now };
  if (from === 'done') return { completedAt: null };
  return undefined;
}

/** Smallest gap worth splitting: below it the column is spread out again first. */
export const MIN_GAP = 1e-6;

/**
 * The position between two neighbours (either may be absent: top or bottom of the column);
 * undefined when they are too close and the column needs rebalancing first.
 */
export function positionBetween(before: number | undefined, after: number | undefined, gap: number): number | undefined {
  if (before === undefined && after === undefined) return gap;
  if (before === undefined) return (after as number) - gap;
  if (after === undefined) return before + gap;
  if (after - before < MIN_GAP) return undefined;
  return before + (after - before) / 2;
}
