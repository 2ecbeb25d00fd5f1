// Tasks: create (numbers without gaps, also under 50 concurrent creates), read by id and by
// key, PATCH/PUT, conditional requests, completion, activity and domain events. Lists are in
// tasks-list.test.ts, board moves and bulk updates in tasks-board.test.ts.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { assertError, assertStatus, recordEvents, startApiServer } from './helpers/api.js';
import {
  addProjectMember,
  addWorkspaceMember,
  createProject,
  createTask,
  createUser,
  createWorkspace,
  type RegisteredUser,
} from './helpers/factories.js';
import type { TestServer } from './helpers/server.js';

let server: TestServer;
let owner: RegisteredUser;
let member: RegisteredUser;
let guest: RegisteredUser;
let ws: { id: string };
before(async () => {
  server = await startApiServer();
  owner = await createUser(server);
  ws = await createWorkspace(server, owner);
  member = await addWorkspaceMember(server, owner, ws.id, 'member');
  guest = await addWorkspaceMember(server, owner, ws.id, 'guest');
});
after(() => server.close());

const post = (user: RegisteredUser, projectId: string, body: unknown, headers?: Record<string, string>) =>
  server.request('POST', `/api/v1/projects/${projectId}/tasks`, { token: user.accessToken, body, headers });
const get = (user: RegisteredUser, path: string, headers?: Record<string, string>) =>
  server.request('GET', path, { token: user.accessToken, headers });
const write = (method: string, user: RegisteredUser, taskId: string, body?: unknown, headers?: Record<string, string>) =>
  server.request(method, `/api/v1/tasks/${taskId}`, { token: user.accessToken, body, headers });

const TASK_FIELDS = [
  'assigneeId',
  'completedAt',
  'createdAt',
  'description',
  'dueDate',
  'estimateMinutes',
  'id',
  'key',
  'labels',
  'number',
  'position',
  'priority',
  'projectId',
  'reporterId',
  'status',
  'title',
  'updatedAt',
  'version',
  'workspaceId',
];

describe('creating tasks', () => {
  it('numbers tasks per project and fills in the defaults', async () => {
    const project = await createProject(server, owner, ws.id, { key: 'WEB' });
    const other = await createProject(server, owner, ws.id, { key: 'OPS' });
    const res = await post(member, project.id, { title: '  Ship the page  ' });
    assertStatus(res, 201);
    const task = res.body.data;
    assert.deepEqual(Object.keys(task).sort(), TASK_FIELDS);
    assert.equal(res.headers.get('location'), `/api/v1/tasks/${task.id}`);
    assert.equal(res.headers.get('etag'), '"1"');
    assert.deepEqual(
      { ...task, id: undefined, createdAt: undefined, updatedAt: undefined },
      {
        id: undefined,
        key: 'WEB-1',
        number: 1,
        projectId: project.id,
        workspaceId: ws.id,
        title: 'Ship the page',
        description: '',
        status: 'todo',
        priority: 'none',
        assigneeId: null,
        reporterId: member.id,
        dueDate: null,
        labels: [],
        estimateMinutes: null,
        position: 1024,
        version: 1,
        completedAt: null,
        createdAt: undefined,
        updatedAt: undefined,
      },
    );
    assert.equal((await createTask(server, member, project.id)).key, 'WEB-2');
    assert.equal((await createTask(server, member, other.id)).key, 'OPS-1');
    assert.equal((await get(member, `/api/v1/projects/${project.id}`)).body.data.taskCount, 2);
  });

  it('takes every writable field, dedupes labels, and completes a task created as done', async () => {
    const project = await createProject(server, owner, ws.id);
    await addProjectMember(server, owner, project.id, guest.id);
    const task = await createTask(server, member, project.id, {
      description: '## Steps\n\n- one',
      status: 'done',
      priority: 'urgent',
      assigneeId: guest.id,
      dueDate: '2031-02-28',
      labels: ['ui', 'ui', 'bug'],
      estimateMinutes: 90,
    });
    assert.equal(task.description, '## Steps\n\n- one');
    assert.equal(task.priority, 'urgent');
    assert.equal(task.assigneeId, guest.id);
    assert.equal(task.dueDate, '2031-02-28');
    assert.deepEqual(task.labels, ['ui', 'bug']);
    assert.equal(task.estimateMinutes, 90);
    assert.ok(task.completedAt, 'completedAt is set for a task created as done');
  });

  it('refuses invalid fields, fields nobody may set, and an assignee from outside the workspace', async () => {
    const project = await createProject(server, owner, ws.id);
    const outsider = await createUser(server);
    for (const body of [
      {},
      { title: '   ' },
      { title: 'x'.repeat(501) },
      { title: 'T', status: 'blocked' },
      { title: 'T', priority: 'p1' },
      { title: 'T', dueDate: '2031-02-30' },
      { title: 'T', labels: ['a,b'] },
      { title: 'T', labels: Array.from({ length: 21 }, (_, i) => `l${i}`) },
      { title: 'T', estimateMinutes: -5 },
      { title: 'T', number: 7 },
      { title: 'T', reporterId: owner.id },
      { title: 'T', version: 3 },
      { title: 'T', assigneeId: 'me' },
    ]) {
      assertError(await post(member, project.id, body), 400, 'VALIDATION_FAILED');
    }
    assertError(
      await post(member, project.id, { title: 'T', assigneeId: outsider.id }),
      400,
      'VALIDATION_FAILED',
      /assigneeId must be a member of the workspace/,
    );
    assert.equal((await get(member, `/api/v1/projects/${project.id}`)).body.data.taskCount, 0, 'no number was used up');
  });

  it('assigns a guest only once they were added to the project', async () => {
    const project = await createProject(server, owner, ws.id);
    assertError(
      await post(member, project.id, { title: 'For the guest', assigneeId: guest.id }),
      400,
      'VALIDATION_FAILED',
      /assigneeId must be a member of the workspace who can see this project/,
    );
    await addProjectMember(server, owner, project.id, guest.id);
    const res = await post(member, project.id, { title: 'For the guest', assigneeId: guest.id });
    assertStatus(res, 201);
    assert.equal(res.body.data.assigneeId, guest.id);
  });

  it('hands out 50 distinct consecutive numbers to 50 concurrent creates', async () => {
    const project = await createProject(server, owner, ws.id, { key: 'RACE' });
    const responses = await Promise.all(Array.from({ length: 50 }, (_, i) => post(member, project.id, { title: `Racer ${i}` })));
    for (const res of responses) assertStatus(res, 201);
    const numbers = responses.map((r) => r.body.data.number as number).sort((a, b) => a - b);
    assert.deepEqual(
      numbers,
      Array.from({ length: 50 }, (_, i) => i + 1),
    );
    const positions = new Set(responses.map((r) => r.body.data.position));
    assert.equal(positions.size, 50, 'every task has its own board position');
    const { rows } = await server.sql.query('select task_seq from projects where id = $1', [project.id]);
    assert.equal(rows[0]?.task_seq, 50);
  });
});

describe('reading tasks', () => {
  it('answers a task by id and by key or number, with an ETag and 304', async () => {
    const project = await createProject(server, owner, ws.id, { key: 'READ' });
    await createTask(server, member, project.id);
    const task = await createTask(server, member, project.id, { title: 'Second' });
    const byId = await get(member, `/api/v1/tasks/${task.id}`);
    assertStatus(byId, 200);
    assert.equal(byId.body.data.key, 'READ-2');
    const etag = byId.headers.get('etag') ?? '';
    assert.equal(etag, '"1"');
    for (const ref of ['READ-2', '2']) {
      const res = await get(member, `/api/v1/projects/${project.id}/tasks/${ref}`);
      assertStatus(res, 200);
      assert.equal(res.body.data.id, task.id);
      assert.equal((await get(member, `/api/v1/projects/${project.id}/tasks/${ref}`, { 'if-none-match': etag })).status, 304);
    }
    const cached = await get(member, `/api/v1/tasks/${task.id}`, { 'if-none-match': etag });
    assert.equal(cached.status, 304);
    assert.equal(cached.text, '');
    await write('PATCH', member, task.id, { title: 'Changed' });
    assert.equal((await get(member, `/api/v1/tasks/${task.id}`, { 'if-none-match': etag })).status, 200);
  });

  it('answers 404 for a wrong key prefix, an unknown number and another project, 400 for a malformed key', async () => {
    const project = await createProject(server, owner, ws.id, { key: 'KEYS' });
    const other = await createProject(server, owner, ws.id, { key: 'OTHER' });
    await createTask(server, member, project.id);
    const byKey = (projectId: string, ref: string) => get(member, `/api/v1/projects/${projectId}/tasks/${ref}`);
    assertError(await byKey(project.id, 'OTHER-1'), 404, 'NOT_FOUND', 'Task not found');
    assertError(await byKey(project.id, 'KEYS-99'), 404, 'NOT_FOUND');
    assertError(await byKey(other.id, 'KEYS-1'), 404, 'NOT_FOUND');
    for (const ref of ['keys-1', 'KEYS-0', 'KEYS-', '1.5', 'K-1']) assertStatus(await byKey(project.id, ref), 400);
    assertError(await get(member, `/api/v1/tasks/${randomUUID()}`), 404, 'NOT_FOUND', 'Task not found');
    assertError(await get(member, '/api/v1/tasks/123'), 400, 'INVALID_ID', 'Invalid task ID');
  });

  it('hides tasks from people outside the workspace and from guests not added to the project', async () => {
    const project = await createProject(server, owner, ws.id);
    const task = await createTask(server, member, project.id);
    const outsider = await createUser(server);
    assertError(await get(outsider, `/api/v1/tasks/${task.id}`), 404, 'NOT_FOUND');
    assertError(await get(guest, `/api/v1/tasks/${task.id}`), 404, 'NOT_FOUND');
    assertError(await get(guest, `/api/v1/projects/${project.id}/tasks/1`), 404, 'NOT_FOUND');
    await addProjectMember(server, owner, project.id, guest.id);
    assertStatus(await get(guest, `/api/v1/tasks/${task.id}`), 200);
    assertError(await write('PATCH', guest, task.id, { title: 'Guest edit' }), 403, 'FORBIDDEN');
  });
});

describe('changing tasks', () => {
  it('PATCH changes only the given fields and bumps the version', async () => {
    const project = await createProject(server, owner, ws.id);
    const task = await createTask(server, member, project.id, { description: 'Keep me', labels: ['a'], assigneeId: member.id });
    const res = await write('PATCH', member, task.id, { title: 'New title', priority: 'high', assigneeId: null });
    assertStatus(res, 200);
    assert.equal(res.headers.get('etag'), '"2"');
    const t = res.body.data;
    assert.deepEqual(
      [t.title, t.priority, t.assigneeId, t.description, t.labels, t.version],
      ['New title', 'high', null, 'Keep me', ['a'], 2],
    );
    const same = await write('PATCH', member, task.id, { title: 'New title' });
    assert.equal(same.body.data.version, 2, 'a PATCH that changes nothing keeps the version');
  });

  it('PATCH refuses unknown fields, read-only fields and an empty body', async () => {
    const project = await createProject(server, owner, ws.id);
    const task = await createTask(server, member, project.id);
    for (const body of [
      {},
      { colour: 'red' },
      { number: 9 },
      { reporterId: owner.id },
      { completedAt: null },
      { position: 1 },
      { projectId: project.id },
    ]) {
      assertError(await write('PATCH', member, task.id, body), 400, 'VALIDATION_FAILED');
    }
    assertError(
      await write('PATCH', member, task.id, { colour: 'red' }),
      400,
      'VALIDATION_FAILED',
      'Validation failed: colour is not an allowed field',
    );
    const outsider = await createUser(server);
    assertError(await write('PATCH', member, task.id, { assigneeId: outsider.id }), 400, 'VALIDATION_FAILED');
    assert.equal((await get(member, `/api/v1/tasks/${task.id}`)).body.data.version, 1);
  });

  it('PUT needs every writable field and replaces them all', async () => {
    const project = await createProject(server, owner, ws.id);
    const task = await createTask(server, member, project.id, {
      description: 'Old',
      labels: ['x'],
      dueDate: '2030-01-01',
      estimateMinutes: 5,
    });
    const full = {
      title: 'Replaced',
      description: '',
      status: 'in_progress',
      priority: 'low',
      assigneeId: owner.id,
      dueDate: null,
      labels: [],
      estimateMinutes: null,
    };
    const partial = { ...full } as Record<string, unknown>;
    delete partial.labels;
    assertError(await write('PUT', member, task.id, partial), 400, 'VALIDATION_FAILED', /labels is required/);
    const res = await write('PUT', member, task.id, full);
    assertStatus(res, 200);
    const t = res.body.data;
    assert.deepEqual(
      [t.title, t.description, t.status, t.priority, t.assigneeId, t.dueDate, t.labels, t.estimateMinutes],
      ['Replaced', '', 'in_progress', 'low', owner.id, null, [], null],
    );
    assertError(await write('PUT', member, task.id, { ...full, number: 3 }), 400, 'VALIDATION_FAILED');
  });

  it('answers 412 to a stale If-Match on PATCH, PUT and DELETE, and accepts the current one', async () => {
    const project = await createProject(server, owner, ws.id);
    const task = await createTask(server, member, project.id, { title: 'Versioned' });
    await write('PATCH', member, task.id, { title: 'Version 2' });
    const stale = { 'if-match': '"1"' };
    assertError(await write('PATCH', member, task.id, { title: 'Lost' }, stale), 412, 'PRECONDITION_FAILED');
    const full = {
      title: 'Lost',
      description: '',
      status: 'todo',
      priority: 'none',
      assigneeId: null,
      dueDate: null,
      labels: [],
      estimateMinutes: null,
    };
    assertError(await write('PUT', member, task.id, full, stale), 412, 'PRECONDITION_FAILED');
    assertError(await write('DELETE', member, task.id, undefined, stale), 412, 'PRECONDITION_FAILED');
    assertError(await write('PATCH', member, task.id, { title: 'Lost' }, { 'if-match': 'garbage' }), 412, 'PRECONDITION_FAILED');
    const stored = await get(member, `/api/v1/tasks/${task.id}`);
    assert.equal(stored.body.data.title, 'Version 2');
    assertStatus(await write('PATCH', member, task.id, { title: 'Version 3' }, { 'if-match': 'W/"2"' }), 200);
    assertStatus(await write('PATCH', member, task.id, { title: 'Version 4' }, { 'if-match': '*' }), 200);
    assertStatus(await write('DELETE', member, task.id, undefined, { 'if-match': '"1", "4"' }), 200);
  });

  it('lets exactly one of two concurrent PATCHes with the same If-Match win', async () => {
    const project = await createProject(server, owner, ws.id);
    const task = await createTask(server, member, project.id);
    const [a, b] = await Promise.all(
      ['Writer A', 'Writer B'].map((title) => write('PATCH', member, task.id, { title }, { 'if-match': '"1"' })),
    );
    assert.deepEqual([a?.status, b?.status].sort(), [200, 412]);
    const winner = a?.status === 200 ? a : b;
    const stored = await get(member, `/api/v1/tasks/${task.id}`);
    assert.equal(stored.body.data.version, 2);
    assert.equal(stored.body.data.title, winner?.body.data.title);
  });

  it('sets completedAt when a task becomes done and clears it when it leaves done', async () => {
    const project = await createProject(server, owner, ws.id);
    const task = await createTask(server, member, project.id);
    const done = await write('PATCH', member, task.id, { status: 'done' });
    const completedAt = done.body.data.completedAt;
    assert.ok(completedAt);
    const edited = await write('PATCH', member, task.id, { title: 'Still done' });
    assert.equal(edited.body.data.completedAt, completedAt, 'other edits keep the completion time');
    const cancelled = await write('PATCH', member, task.id, { status: 'cancelled' });
    assert.equal(cancelled.body.data.completedAt, null);
    const reopened = await write('PATCH', member, task.id, { status: 'done' });
    assert.ok(reopened.body.data.completedAt);
    assert.equal((await write('PATCH', member, task.id, { status: 'in_review' })).body.data.completedAt, null);
  });

  it('moves a task whose status changes to the end of its new column', async () => {
    const project = await createProject(server, owner, ws.id);
    const first = await createTask(server, member, project.id, { status: 'in_progress' });
    const task = await createTask(server, member, project.id);
    const res = await write('PATCH', member, task.id, { status: 'in_progress' });
    assert.ok(res.body.data.position > first.position);
  });

  it('deletes a task (writers only) and answers 404 afterwards', async () => {
    const project = await createProject(server, owner, ws.id);
    const task = await createTask(server, member, project.id);
    await addProjectMember(server, owner, project.id, guest.id);
    assertError(await write('DELETE', guest, task.id), 403, 'FORBIDDEN');
    const res = await write('DELETE', member, task.id);
    assertStatus(res, 200);
    assert.deepEqual(res.body, { success: true, message: 'Task deleted successfully' });
    assertError(await get(member, `/api/v1/tasks/${task.id}`), 404, 'NOT_FOUND');
    assertError(await write('DELETE', member, task.id), 404, 'NOT_FOUND');
  });
});

describe('task activity', () => {
  it('records who changed what, with before and after of each changed field, oldest first', async () => {
    const project = await createProject(server, owner, ws.id);
    const task = await createTask(server, member, project.id, { title: 'Start', labels: ['a'] });
    await write('PATCH', owner, task.id, { title: 'Renamed', labels: ['a', 'b'], priority: 'high' });
    await write('PATCH', member, task.id, { status: 'done' });
    const res = await get(member, `/api/v1/tasks/${task.id}/activity`);
    assertStatus(res, 200);
    const [created, renamed, completed] = res.body.data;
    assert.equal(res.body.data.length, 3);
    assert.deepEqual([created.verb, created.actorId], ['created', member.id]);
    assert.deepEqual(created.changes.title, { before: '', after: 'Start' });
    assert.deepEqual(created.changes.labels, { before: [], after: ['a'] });
    assert.deepEqual(created.changes.status, { before: null, after: 'todo' }, 'creation records the status a task started in');
    assert.deepEqual([renamed.verb, renamed.actorId], ['updated', owner.id]);
    assert.deepEqual(renamed.changes, {
      title: { before: 'Start', after: 'Renamed' },
      labels: { before: ['a'], after: ['a', 'b'] },
      priority: { before: 'none', after: 'high' },
    });
    assert.deepEqual(completed.changes, { status: { before: 'todo', after: 'done' } });
    assert.deepEqual(res.body.pagination, { limit: 50, nextCursor: null, hasMore: false });
  });

  it('pages activity with a cursor, and refuses a bad one', async () => {
    const project = await createProject(server, owner, ws.id);
    const task = await createTask(server, member, project.id);
    for (let i = 1; i <= 4; i++) await write('PATCH', member, task.id, { estimateMinutes: i * 10 });
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await get(member, `/api/v1/tasks/${task.id}/activity?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      assertStatus(res, 200);
      seen.push(...res.body.data.map((a: { id: string }) => a.id));
      cursor = res.body.pagination.nextCursor;
      pages++;
    } while (cursor);
    assert.equal(pages, 3);
    assert.equal(seen.length, 5);
    assert.equal(new Set(seen).size, 5);
    assert.deepEqual(seen, [...seen].sort());
    assertError(await get(member, `/api/v1/tasks/${task.id}/activity?cursor=%%%`), 400, 'VALIDATION_FAILED');
    const forged = Buffer.from(JSON.stringify(['not-an-id'])).toString('base64url');
    assertError(await get(member, `/api/v1/tasks/${task.id}/activity?cursor=${forged}`), 400, 'VALIDATION_FAILED');
    assertError(await get(member, `/api/v1/tasks/${task.id}/activity?limit=101`), 400, 'VALIDATION_FAILED');
  });

  it('keeps the history of a deleted task', async () => {
    const project = await createProject(server, owner, ws.id);
    const task = await createTask(server, member, project.id, { title: 'Short-lived' });
    await write('DELETE', member, task.id);
    const { rows } = await server.sql.query('select verb, actor_id, changes from activities where task_id = $1 order by id', [task.id]);
    assert.deepEqual(
      rows.map((r) => r.verb),
      ['created', 'deleted'],
    );
    assert.deepEqual(rows[1]?.changes, { title: { before: 'Short-lived', after: null } });
    assert.equal(rows[1]?.actor_id, member.id);
  });
});

describe('domain events', () => {
  it('publishes task.created, task.assigned, task.updated and task.deleted after commit', async () => {
    const project = await createProject(server, owner, ws.id);
    const committed = new Map<string, boolean>();
    // A handler sees the change committed: the task row is visible to another connection
    // (and gone again for task.deleted).
    const recorder = recordEvents(server, async (e) => {
      const taskId = (e.data as { task?: { id: string } }).task?.id;
      if (!taskId) return;
      const { rowCount } = await server.sql.query('select 1 from tasks where id = $1', [taskId]);
      committed.set(`${e.type}:${taskId}`, e.type === 'task.deleted' ? rowCount === 0 : rowCount === 1);
    });
    try {
      const task = await createTask(server, member, project.id, { title: 'Evented', assigneeId: owner.id });
      const created = await recorder.waitFor((e) => e.type === 'task.created');
      assert.equal(created.workspaceId, ws.id);
      assert.equal(created.projectId, project.id);
      assert.equal(created.actorId, member.id);
      assert.equal((created.data as { task: { id: string; title: string } }).task.title, 'Evented');
      const assigned = await recorder.waitFor((e) => e.type === 'task.assigned');
      assert.equal((assigned.data as { assigneeId: string }).assigneeId, owner.id);

      await write('PATCH', owner, task.id, { assigneeId: member.id, priority: 'low' });
      const updated = await recorder.waitFor((e) => e.type === 'task.updated');
      assert.equal(updated.actorId, owner.id);
      assert.deepEqual((updated.data as { changes: unknown }).changes, {
        priority: { before: 'none', after: 'low' },
        assigneeId: { before: owner.id, after: member.id },
      });
      await recorder.waitFor((e) => e.type === 'task.assigned' && (e.data as { assigneeId: string }).assigneeId === member.id);

      await write('PATCH', owner, task.id, { assigneeId: null });
      await write('PATCH', owner, task.id, { title: 'Evented, again' });
      await write('DELETE', member, task.id);
      const deleted = await recorder.waitFor((e) => e.type === 'task.deleted');
      assert.equal((deleted.data as { task: { id: string } }).task.id, task.id);

      const types = recorder.events.filter((e) => e.projectId === project.id).map((e) => e.type);
      assert.deepEqual(types, [
        'task.created',
        'task.assigned',
        'task.updated',
        'task.assigned',
        'task.updated',
        'task.updated',
        'task.deleted',
      ]);
      for (const type of ['task.created', 'task.updated', 'task.deleted']) {
        for (let i = 0; i < 100 && !committed.has(`${type}:${task.id}`); i++) await new Promise((r) => setTimeout(r, 10));
        assert.equal(committed.get(`${type}:${task.id}`), true, `${type} was published after commit`);
      }
    } finally {
      recorder.stop();
    }
  });

  it('publishes nothing for a refused or empty change', async () => {
    const project = await createProject(server, owner, ws.id);
    const task = await createTask(server, member, project.id, { title: 'Quiet' });
    const recorder = recordEvents(server);
    try {
      await write('PATCH', member, task.id, { title: 'Loud' }, { 'if-match': '"9"' });
      await write('PATCH', member, task.id, { title: 'Quiet' });
      await write('PATCH', member, task.id, { title: 'Marker' });
      await recorder.waitFor((e) => e.type === 'task.updated');
      assert.deepEqual(
        recorder.events.map((e) => (e.data as { changes: { title: { after: string } } }).changes.title.after),
        ['Marker'],
      );
    } finally {
      recorder.stop();
    }
  });
});
