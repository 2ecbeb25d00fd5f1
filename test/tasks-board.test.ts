// The board: moving tasks within and across status columns (positions between neighbours,
// rebalancing when a gap runs out), and bulk updates (all or nothing).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { assertError, assertStatus, recordEvents, startApiServer } from './helpers/api.js';
import { addWorkspaceMember, createProject, createTask, createUser, createWorkspace, type RegisteredUser } from './helpers/factories.js';
import type { TestServer } from './helpers/server.js';

let server: TestServer;
let owner: RegisteredUser;
let member: RegisteredUser;
let ws: { id: string };
before(async () => {
  server = await startApiServer();
  owner = await createUser(server);
  ws = await createWorkspace(server, owner);
  member = await addWorkspaceMember(server, owner, ws.id, 'member');
});
after(() => server.close());

interface TaskJson {
  id: string;
  status: string;
  position: number;
  version: number;
  labels: string[];
  assigneeId: string | null;
  completedAt: string | null;
}

const move = (taskId: string, body: unknown, headers?: Record<string, string>) =>
  server.request('POST', `/api/v1/tasks/${taskId}/move`, { token: member.accessToken, body, headers });

/** The ids of a column, top to bottom, as the board shows it. */
async function column(projectId: string, status: string): Promise<string[]> {
  const res = await server.request('GET', `/api/v1/projects/${projectId}/tasks?status=${status}&sort=position&limit=100`, {
    token: member.accessToken,
  });
  assertStatus(res, 200);
  return res.body.data.map((t: TaskJson) => t.id);
}

async function positions(projectId: string, status: string): Promise<number[]> {
  const { rows } = await server.sql.query<{ position: number }>(
    'select position from tasks where project_id = $1 and status = $2 order by position',
    [projectId, status],
  );
  return rows.map((r) => r.position);
}

async function board(n: number) {
  const project = await createProject(server, owner, ws.id);
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await createTask(server, member, project.id, { title: `Card ${i}` })).id);
  return { project, ids };
}

describe('moving tasks on the board', () => {
  it('puts new tasks at the end of their column, a gap apart', async () => {
    const { project } = await board(3);
    assert.deepEqual(await positions(project.id, 'todo'), [1024, 2048, 3072]);
  });

  it('moves a task after or before a neighbour, between the two, without touching the others', async () => {
    const { project, ids } = await board(4);
    const [a, b, c, d] = ids as [string, string, string, string];
    const res = await move(d, { afterId: a });
    assertStatus(res, 200);
    assert.equal(res.body.data.position, 1536);
    assert.equal(res.headers.get('etag'), '"2"');
    assert.deepEqual(await column(project.id, 'todo'), [a, d, b, c]);
    assertStatus(await move(a, { beforeId: c }), 200);
    assert.deepEqual(await column(project.id, 'todo'), [d, b, a, c]);
    assertStatus(await move(c, { beforeId: d }), 200);
    assert.deepEqual(await column(project.id, 'todo'), [c, d, b, a]);
    assertStatus(await move(c, {}), 200);
    assert.deepEqual(await column(project.id, 'todo'), [d, b, a, c]);
    const { rows } = await server.sql.query('select id, version from tasks where id = $1', [b]);
    assert.equal(rows[0]?.version, 1, 'a neighbour is not rewritten');
  });

  it('moves a task across columns, to the end or next to a card there, completing it in done', async () => {
    const { project, ids } = await board(3);
    const [a, b, c] = ids as [string, string, string];
    const first = await move(a, { status: 'done' });
    assertStatus(first, 200);
    assert.equal(first.body.data.status, 'done');
    assert.ok(first.body.data.completedAt);
    assertStatus(await move(b, { status: 'done', beforeId: a }), 200);
    assertStatus(await move(c, { status: 'done', afterId: b }), 200);
    assert.deepEqual(await column(project.id, 'done'), [b, c, a]);
    assert.deepEqual(await column(project.id, 'todo'), []);
    const back = await move(c, { status: 'todo' });
    assert.equal(back.body.data.completedAt, null);
    const activity = await server.request('GET', `/api/v1/tasks/${c}/activity`, { token: member.accessToken });
    const moved = activity.body.data.filter((a: { verb: string }) => a.verb === 'moved');
    assert.equal(moved.length, 2);
    assert.deepEqual(moved[0].changes.status, { before: 'todo', after: 'done' });
    assert.equal(moved[0].changes.position.before, 3072);
  });

  it('spreads a column out again when repeated moves use up a gap, keeping the order', async () => {
    const { project, ids } = await board(4);
    const [a, b, x, y] = ids as [string, string, string, string];
    // Alternately dropping x and y right after a halves the gap next to a on every move.
    let top = x;
    for (let i = 0; i < 40; i++) {
      top = i % 2 === 0 ? x : y;
      assertStatus(await move(top, { afterId: a }), 200);
    }
    const second = top === x ? y : x;
    assert.deepEqual(await column(project.id, 'todo'), [a, top, second, b]);
    const spread = await positions(project.id, 'todo');
    for (let i = 1; i < spread.length; i++) {
      assert.ok((spread[i] as number) - (spread[i - 1] as number) > 1e-3, `room between neighbours: ${spread.join(', ')}`);
    }
    const { rows } = await server.sql.query('select position from tasks where id = $1', [b]);
    assert.notEqual(rows[0]?.position, 2048, 'the column was rebalanced');
  });

  it('refuses anchors in another column or project, the task itself, and both anchors at once', async () => {
    const { ids } = await board(2);
    const [a, b] = ids as [string, string];
    const elsewhere = await board(1);
    const done = await createTask(server, member, (await createProject(server, owner, ws.id)).id, { status: 'done' });
    assertError(await move(a, { afterId: a }), 400, 'VALIDATION_FAILED', /cannot be the task being moved/);
    assertError(await move(a, { afterId: elsewhere.ids[0] }), 400, 'VALIDATION_FAILED', /target column of the same project/);
    assertError(await move(a, { status: 'done', afterId: b }), 400, 'VALIDATION_FAILED');
    assertError(await move(a, { status: 'done', afterId: done.id }), 400, 'VALIDATION_FAILED');
    assertError(await move(a, { afterId: b, beforeId: b }), 400, 'VALIDATION_FAILED', /not both/);
    assertError(await move(a, { afterId: 'nope' }), 400, 'VALIDATION_FAILED');
    assertError(await move(a, { position: 5 }), 400, 'VALIDATION_FAILED');
    const { rows } = await server.sql.query('select version from tasks where id = $1', [a]);
    assert.equal(rows[0]?.version, 1);
  });

  it('honours If-Match and publishes task.updated', async () => {
    const { ids } = await board(2);
    const [a, b] = ids as [string, string];
    assertError(await move(a, { afterId: b }, { 'if-match': '"2"' }), 412, 'PRECONDITION_FAILED');
    const recorder = recordEvents(server);
    try {
      assertStatus(await move(a, { afterId: b }, { 'if-match': '"1"' }), 200);
      const event = await recorder.waitFor((e) => e.type === 'task.updated');
      assert.deepEqual((event.data as { changes: unknown }).changes, { position: { before: 1024, after: 3072 } });
    } finally {
      recorder.stop();
    }
  });
});

describe('bulk updates', () => {
  const bulk = (projectId: string, body: unknown, user = member) =>
    server.request('POST', `/api/v1/projects/${projectId}/tasks/bulk-update`, { token: user.accessToken, body });

  it('changes status, assignee and labels of many tasks in one go', async () => {
    const project = await createProject(server, owner, ws.id);
    const one = await createTask(server, member, project.id, { labels: ['old', 'keep'] });
    const two = await createTask(server, member, project.id, { labels: ['keep'] });
    const recorder = recordEvents(server);
    try {
      const res = await bulk(project.id, {
        ids: [one.id, two.id, one.id],
        set: { status: 'done', assigneeId: owner.id, addLabels: ['new'], removeLabels: ['old'] },
      });
      assertStatus(res, 200);
      const byId = new Map<string, TaskJson>(res.body.data.map((t: TaskJson) => [t.id, t]));
      assert.equal(byId.size, 2);
      for (const t of byId.values()) {
        assert.equal(t.status, 'done');
        assert.ok(t.completedAt);
        assert.equal(t.assigneeId, owner.id);
        assert.equal(t.version, 2);
      }
      assert.deepEqual(byId.get(one.id)?.labels, ['keep', 'new']);
      assert.deepEqual(byId.get(two.id)?.labels, ['keep', 'new']);
      await recorder.waitFor((e) => e.type === 'task.assigned' && (e.data as { task: { id: string } }).task.id === two.id);
      assert.equal(recorder.events.filter((e) => e.type === 'task.updated').length, 2);
    } finally {
      recorder.stop();
    }
    const { rows } = await server.sql.query("select count(*)::int as n from activities where task_id = any($1) and verb = 'updated'", [
      [one.id, two.id],
    ]);
    assert.equal(rows[0]?.n, 2);
  });

  it('changes nothing when one id is not a task of the project (404 naming it)', async () => {
    const project = await createProject(server, owner, ws.id);
    const mine = await createTask(server, member, project.id);
    const foreign = await createTask(server, member, (await createProject(server, owner, ws.id)).id);
    const res = await bulk(project.id, { ids: [mine.id, foreign.id], set: { status: 'in_progress' } });
    assertError(res, 404, 'NOT_FOUND', 'Task not found');
    assert.deepEqual(res.body.details, [{ path: 'ids', message: `${foreign.id} is not a task of this project` }]);
    const { rows } = await server.sql.query('select id, status, version from tasks where id = any($1) order by id', [
      [mine.id, foreign.id],
    ]);
    assert.deepEqual(
      rows.map((r) => [r.status, r.version]),
      [
        ['todo', 1],
        ['todo', 1],
      ],
    );
  });

  it('takes up to 100 ids and refuses more, an empty change and an assignee from outside', async () => {
    const project = await createProject(server, owner, ws.id);
    const task = await createTask(server, member, project.id, { labels: Array.from({ length: 20 }, (_, i) => `l${i}`) });
    const ids = (n: number) => [task.id, ...Array.from({ length: n - 1 }, () => randomUUID())];
    assertError(await bulk(project.id, { ids: ids(100), set: { status: 'done' } }), 404, 'NOT_FOUND');
    assertError(await bulk(project.id, { ids: ids(101), set: { status: 'done' } }), 400, 'VALIDATION_FAILED');
    assertError(await bulk(project.id, { ids: [], set: { status: 'done' } }), 400, 'VALIDATION_FAILED');
    assertError(await bulk(project.id, { ids: [task.id], set: {} }), 400, 'VALIDATION_FAILED');
    assertError(await bulk(project.id, { ids: [task.id], set: { title: 'x' } }), 400, 'VALIDATION_FAILED');
    const outsider = await createUser(server);
    assertError(await bulk(project.id, { ids: [task.id], set: { assigneeId: outsider.id } }), 400, 'VALIDATION_FAILED');
    assertError(
      await bulk(project.id, { ids: [task.id], set: { addLabels: ['one-too-many'] } }),
      400,
      'VALIDATION_FAILED',
      /more than 20 labels/,
    );
    const { rows } = await server.sql.query('select version from tasks where id = $1', [task.id]);
    assert.equal(rows[0]?.version, 1);
  });
});
