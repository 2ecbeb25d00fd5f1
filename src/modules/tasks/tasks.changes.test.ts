import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { completionFor, diffTask, positionBetween } from './tasks.changes.js';
import type { TaskRow } from './tasks.table.js';

const task = {
  title: 'Ship it',
  description: '',
  status: 'todo',
  priority: 'none',
  assigneeId: null,
  dueDate: null,
  labels: ['a'],
  estimateMinutes: null,
} as unknown as TaskRow;

describe('task change rules', () => {
  it('records only the fields that really change, with before and after', () => {
    assert.deepEqual(diffTask(task, { title: 'Ship it', labels: ['a', 'b'], priority: 'high' }), {
      priority: { before: 'none', after: 'high' },
      labels: { before: ['a'], after: ['a', 'b'] },
    });
  });

  it('treats clearing a field (null) as a change', () => {
    const assigned = { ...task, assigneeId: 'u1' } as TaskRow;
    assert.deepEqual(diffTask(assigned, { assigneeId: null }), { assigneeId: { before: 'u1', after: null } });
  });

  it('sets completion on done and clears it when a task is reopened', () => {
    const now = new Date();
    assert.deepEqual(completionFor('in_progress', 'done', now), { completedAt: now });
    assert.deepEqual(completionFor('done', 'todo', now), { completedAt: null });
    assert.equal(completionFor('todo', 'in_review', now), undefined);
    assert.equal(completionFor('done', 'done', now), undefined);
  });

  it('places a moved task between its neighbours, at either end, or asks for a rebalance', () => {
    assert.equal(positionBetween(1024, 2048, 1024), 1536);
    assert.equal(positionBetween(undefined, 1024, 1024), 0);
    assert.equal(positionBetween(2048, undefined, 1024), 3072);
    assert.equal(positionBetween(undefined, undefined, 1024), 1024);
    assert.equal(positionBetween(1, 1 + 1e-9, 1024), undefined);
  });
});
