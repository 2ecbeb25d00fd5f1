// Time tracking: one running timer per person (decided by the database, also under races),
// stopping in whole minutes, manual entries and their rules, own entries only, and totals per
// task, project and person.
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
import type { ApiResponse, TestServer } from './helpers/server.js';

let server: TestServer;
before(async () => {
  server = await startApiServer();
});
after(() => server.close());

const ENTRY_FIELDS = [
  'createdAt',
  'endedAt',
  'id',
  'minutes',
  'note',
  'projectId',
  'running',
  'startedAt',
  'taskId',
  'taskKey',
  'updatedAt',
  'userId',
  'workspaceId',
];

async function team() {
  const owner = await createUser(server);
  const ws = await createWorkspace(server, owner);
  const admin = await addWorkspaceMember(server, owner, ws.id, 'admin');
  const member = await addWorkspaceMember(server, owner, ws.id, 'member');
  const other = await addWorkspaceMember(server, owner, ws.id, 'member');
  const projectGuest = await addWorkspaceMember(server, owner, ws.id, 'guest');
  const guest = await addWorkspaceMember(server, owner, ws.id, 'guest');
  const outsider = await createUser(server);
  const project = await createProject(server, owner, ws.id);
  await addProjectMember(server, owner, project.id, projectGuest.id);
  const task = await createTask(server, member, project.id);
  const task2 = await createTask(server, member, project.id);
  return { owner, ws, admin, member, other, projectGuest, guest, outsider, project, task, task2 };
}

const start = (user: RegisteredUser, taskId: string, body?: unknown, headers?: Record<string, string>) =>
  server.request('POST', `/api/v1/tasks/${taskId}/timer`, { token: user.accessToken, body, headers });
const stop = (user: RegisteredUser) => server.request('POST', '/api/v1/users/me/timer/stop', { token: user.accessToken });
const running = (user: RegisteredUser) => server.request('GET', '/api/v1/users/me/timer', { token: user.accessToken });
const log = (user: RegisteredUser, taskId: string, body: unknown) =>
  server.request('POST', `/api/v1/tasks/${taskId}/time-entries`, { token: user.accessToken, body });
const patch = (user: RegisteredUser, entryId: string, body: unknown) =>
  server.request('PATCH', `/api/v1/time-entries/${entryId}`, { token: user.accessToken, body });
const remove = (user: RegisteredUser, entryId: string) =>
  server.request('DELETE', `/api/v1/time-entries/${entryId}`, { token: user.accessToken });
const get = (user: RegisteredUser, path: string) => server.request('GET', path, { token: user.accessToken });

const hoursAgo = (h: number) => new Date(Date.now() - h * 3600_000).toISOString();
async function logged(user: RegisteredUser, taskId: string, body: Record<string, unknown>) {
  const res = await log(user, taskId, body);
  assertStatus(res, 201);
  return res.body.data as { id: string; minutes: number; startedAt: string; endedAt: string; note: string };
}

async function runningRows(userId: string): Promise<number> {
  const { rows } = await server.sql.query<{ n: number }>(
    'select count(*)::int as n from time_entries where user_id = $1 and ended_at is null',
    [userId],
  );
  return rows[0]?.n ?? 0;
}

const statuses = (responses: ApiResponse[]) => responses.map((r) => r.status).sort();

describe('the timer', () => {
  it('starts on a task: 201, Location and the running entry, which GET /users/me/timer answers', async () => {
    const { member, task, project, ws } = await team();
    const res = await start(member, task.id, { note: 'Reviewing' });
    assertStatus(res, 201);
    const entry = res.body.data;
    assert.deepEqual(Object.keys(entry).sort(), ENTRY_FIELDS);
    assert.equal(res.headers.get('location'), `/api/v1/time-entries/${entry.id}`);
    assert.deepEqual(
      { ...entry, id: undefined, startedAt: undefined, createdAt: undefined, updatedAt: undefined },
      {
        id: undefined,
        startedAt: undefined,
        createdAt: undefined,
        updatedAt: undefined,
        taskId: task.id,
        taskKey: task.key,
        projectId: project.id,
        workspaceId: ws.id,
        userId: member.id,
        endedAt: null,
        minutes: null,
        running: true,
        note: 'Reviewing',
      },
    );
    const now = await running(member);
    assertStatus(now, 200);
    assert.deepEqual(now.body.data, entry);
    assert.equal(await runningRows(member.id), 1);
  });

  it('refuses a second timer with 409 naming the task the first one runs on', async () => {
    const { member, task, task2 } = await team();
    assertStatus(await start(member, task.id), 201);
    assertError(await start(member, task2.id), 409, 'CONFLICT', `A timer is already running on ${task.key}: stop it first`);
    assertError(await start(member, task.id), 409, 'CONFLICT', `A timer is already running on ${task.key}: stop it first`);
    assert.equal(await runningRows(member.id), 1);
  });

  it('lets exactly one of two concurrent starts on the same task win', async () => {
    const { member, task } = await team();
    const results = await Promise.all([start(member, task.id), start(member, task.id)]);
    assert.deepEqual(statuses(results), [201, 409], results.map((r) => r.text).join('\n'));
    const lost = results.find((r) => r.status === 409) as ApiResponse;
    assertError(lost, 409, 'CONFLICT', `A timer is already running on ${task.key}: stop it first`);
    assert.equal(await runningRows(member.id), 1);
  });

  it('lets exactly one of two concurrent starts on two different tasks win, round after round', async () => {
    const { member, task, task2 } = await team();
    for (let round = 0; round < 5; round++) {
      const results = await Promise.all([start(member, task.id), start(member, task2.id)]);
      assert.deepEqual(statuses(results), [201, 409], results.map((r) => r.text).join('\n'));
      const winner = (results.find((r) => r.status === 201) as ApiResponse).body.data;
      const winnerKey = winner.taskId === task.id ? task.key : task2.key;
      assert.equal(
        (results.find((r) => r.status === 409) as ApiResponse).body.error,
        `A timer is already running on ${winnerKey}: stop it first`,
      );
      assert.equal(await runningRows(member.id), 1);
      assertStatus(await stop(member), 200);
    }
  });

  it('runs one timer per person, not one per task', async () => {
    const { member, other, task } = await team();
    assertStatus(await start(member, task.id), 201);
    assertStatus(await start(other, task.id), 201);
    assert.equal(await runningRows(member.id), 1);
    assert.equal(await runningRows(other.id), 1);
  });

  it('stops with the whole minutes elapsed, rounded down, and then there is no timer', async () => {
    const { member, task } = await team();
    const started = (await start(member, task.id)).body.data;
    // Ninety minutes and 59 seconds ago, as if the timer had run that long.
    await server.sql.query("update time_entries set started_at = now() - interval '90 minutes 59 seconds' where id = $1", [started.id]);
    const res = await stop(member);
    assertStatus(res, 200);
    assert.equal(res.body.data.id, started.id);
    assert.equal(res.body.data.minutes, 90);
    assert.equal(res.body.data.running, false);
    assert.ok(Date.parse(res.body.data.endedAt) > Date.parse(res.body.data.startedAt));
    const { rows } = await server.sql.query('select minutes, ended_at from time_entries where id = $1', [started.id]);
    assert.equal(rows[0].minutes, 90);
    assert.ok(rows[0].ended_at);

    assertError(await running(member), 404, 'NOT_FOUND', 'Timer not found');
    assertError(await stop(member), 404, 'NOT_FOUND', 'Timer not found');
    assertStatus(await start(member, task.id), 201);
  });

  it('records 0 minutes for a timer stopped within its first minute', async () => {
    const { member, task } = await team();
    assertStatus(await start(member, task.id), 201);
    const res = await stop(member);
    assertStatus(res, 200);
    assert.equal(res.body.data.minutes, 0);
  });

  it('is for members and above: a guest added to the project gets 403, one not added 404, an archived project 409', async () => {
    const { owner, admin, projectGuest, guest, outsider, project, task } = await team();
    assertStatus(await start(owner, task.id), 201);
    assertStatus(await start(admin, task.id), 201);
    assertError(await start(projectGuest, task.id), 403, 'FORBIDDEN');
    assertError(await start(guest, task.id), 404, 'NOT_FOUND', 'Task not found');
    assertError(await start(outsider, task.id), 404, 'NOT_FOUND', 'Task not found');
    assertError(await start(owner, randomUUID()), 404, 'NOT_FOUND', 'Task not found');
    assertError(await start(owner, task.id, { note: 'x', taskId: task.id }), 400, 'VALIDATION_FAILED');

    assertStatus(await server.request('POST', `/api/v1/projects/${project.id}/archive`, { token: owner.accessToken }), 200);
    // A timer already running in a project that got archived can still be stopped.
    assertStatus(await stop(owner), 200);
    assertError(await start(owner, task.id), 409, 'CONFLICT', /archived/);
  });

  it('replays the first answer to a repeated Idempotency-Key instead of refusing a second timer', async () => {
    const { member, task } = await team();
    const first = await start(member, task.id, undefined, { 'idempotency-key': 'start-1' });
    const again = await start(member, task.id, undefined, { 'idempotency-key': 'start-1' });
    assertStatus(first, 201);
    assertStatus(again, 201);
    assert.equal(again.body.data.id, first.body.data.id);
    assert.equal(await runningRows(member.id), 1);
  });

  it('publishes time.started and time.stopped', async () => {
    const { member, task, project } = await team();
    const recorder = recordEvents(server);
    try {
      const started = (await start(member, task.id)).body.data;
      assertStatus(await stop(member), 200);
      const begun = await recorder.waitFor((e) => e.type === 'time.started' && e.actorId === member.id);
      const ended = await recorder.waitFor((e) => e.type === 'time.stopped' && e.actorId === member.id);
      assert.equal(begun.projectId, project.id);
      assert.equal((begun.data as { entry: { id: string } }).entry.id, started.id);
      assert.equal((ended.data as { entry: { minutes: number } }).entry.minutes, 0);
    } finally {
      recorder.stop();
    }
  });
});

describe('manual entries', () => {
  it('take a start and an end (minutes rounded down) or a start and minutes', async () => {
    const { member, task } = await team();
    const startedAt = '2026-03-02T09:00:00.000Z';
    const byEnd = await log(member, task.id, { startedAt, endedAt: '2026-03-02T10:45:30+00:00', note: 'Design review' });
    assertStatus(byEnd, 201);
    assert.equal(byEnd.headers.get('location'), `/api/v1/time-entries/${byEnd.body.data.id}`);
    assert.equal(byEnd.body.data.minutes, 105);
    assert.equal(byEnd.body.data.running, false);
    assert.equal(byEnd.body.data.note, 'Design review');
    const byMinutes = await log(member, task.id, { startedAt: '2026-03-02T11:00:00+01:00', minutes: 90 });
    assertStatus(byMinutes, 201);
    assert.equal(byMinutes.body.data.startedAt, '2026-03-02T10:00:00.000Z');
    assert.equal(byMinutes.body.data.endedAt, '2026-03-02T11:30:00.000Z');
    assert.equal(byMinutes.body.data.minutes, 90);
    // A manual entry is finished, so it does not count as a running timer.
    assertStatus(await start(member, task.id), 201);
  });

  it('refuse spans that are empty, backwards, longer than a day or in the future, and malformed bodies', async () => {
    const { member, task } = await team();
    const cases: [string, Record<string, unknown>, string][] = [
      ['end before start', { startedAt: hoursAgo(2), endedAt: hoursAgo(3) }, 'endedAt'],
      ['end at start', { startedAt: '2026-03-02T09:00:00Z', endedAt: '2026-03-02T09:00:00Z' }, 'endedAt'],
      ['longer than 24 h', { startedAt: '2026-03-02T09:00:00Z', endedAt: '2026-03-03T09:01:00Z' }, 'endedAt'],
      ['end in the future', { startedAt: hoursAgo(1), endedAt: hoursAgo(-1) }, 'endedAt'],
      ['minutes reaching into the future', { startedAt: hoursAgo(1), minutes: 120 }, 'minutes'],
      ['minutes over a day', { startedAt: '2026-03-02T09:00:00Z', minutes: 24 * 60 + 1 }, 'minutes'],
      ['zero minutes', { startedAt: '2026-03-02T09:00:00Z', minutes: 0 }, 'minutes'],
      ['fractional minutes', { startedAt: '2026-03-02T09:00:00Z', minutes: 1.5 }, 'minutes'],
      ['both an end and minutes', { startedAt: '2026-03-02T09:00:00Z', endedAt: '2026-03-02T10:00:00Z', minutes: 60 }, 'endedAt'],
      ['neither an end nor minutes', { startedAt: '2026-03-02T09:00:00Z' }, 'endedAt'],
      ['no start', { minutes: 30 }, 'startedAt'],
      ['a start without a time zone', { startedAt: '2026-03-02T09:00:00', minutes: 30 }, 'startedAt'],
      ['a note too long', { startedAt: '2026-03-02T09:00:00Z', minutes: 30, note: 'x'.repeat(1001) }, 'note'],
      ['someone else as the user', { startedAt: '2026-03-02T09:00:00Z', minutes: 30, userId: randomUUID() }, 'userId'],
    ];
    for (const [what, body, path] of cases) {
      const res = await log(member, task.id, body);
      assertError(res, 400, 'VALIDATION_FAILED');
      assert.ok(
        res.body.details.some((d: { path: string }) => d.path === path),
        `${what}: expected a detail for ${path}, got ${res.text}`,
      );
    }
    const { rows } = await server.sql.query('select count(*)::int as n from time_entries where user_id = $1', [member.id]);
    assert.equal(rows[0].n, 0);
  });

  it('accept an end a little ahead of the server clock (clock skew)', async () => {
    const { member, task } = await team();
    const end = new Date(Date.now() + 60_000);
    const res = await log(member, task.id, { startedAt: new Date(end.getTime() - 30 * 60_000).toISOString(), endedAt: end.toISOString() });
    assertStatus(res, 201);
    assert.equal(res.body.data.minutes, 30);
  });

  it('are for members and above', async () => {
    const { projectGuest, guest, task } = await team();
    const body = { startedAt: '2026-03-02T09:00:00Z', minutes: 30 };
    assertError(await log(projectGuest, task.id, body), 403, 'FORBIDDEN');
    assertError(await log(guest, task.id, body), 404, 'NOT_FOUND', 'Task not found');
  });
});

describe('editing and deleting entries', () => {
  it('changes the note, moves the entry keeping its length, or changes its length', async () => {
    const { member, task } = await team();
    const entry = await logged(member, task.id, { startedAt: '2026-03-02T09:00:00Z', minutes: 60 });
    let res = await patch(member, entry.id, { note: 'Pairing' });
    assertStatus(res, 200);
    assert.equal(res.body.data.note, 'Pairing');
    assert.equal(res.body.data.minutes, 60);
    res = await patch(member, entry.id, { startedAt: '2026-03-01T14:00:00Z' });
    assert.deepEqual(
      [res.body.data.startedAt, res.body.data.endedAt, res.body.data.minutes],
      ['2026-03-01T14:00:00.000Z', '2026-03-01T15:00:00.000Z', 60],
    );
    res = await patch(member, entry.id, { endedAt: '2026-03-01T14:20:59Z' });
    assert.equal(res.body.data.minutes, 20);
    res = await patch(member, entry.id, { minutes: 45 });
    assert.equal(res.body.data.endedAt, '2026-03-01T14:45:00.000Z');
    const { rows } = await server.sql.query('select minutes, note, started_at from time_entries where id = $1', [entry.id]);
    assert.deepEqual([rows[0].minutes, rows[0].note, rows[0].started_at.toISOString()], [45, 'Pairing', '2026-03-01T14:00:00.000Z']);
  });

  it('applies the span rules to edits', async () => {
    const { member, task } = await team();
    const entry = await logged(member, task.id, { startedAt: '2026-03-02T09:00:00Z', minutes: 60 });
    assertError(await patch(member, entry.id, { endedAt: '2026-03-02T08:00:00Z' }), 400, 'VALIDATION_FAILED');
    assertError(await patch(member, entry.id, { minutes: 24 * 60 + 1 }), 400, 'VALIDATION_FAILED');
    assertError(await patch(member, entry.id, { startedAt: hoursAgo(0.5) }), 400, 'VALIDATION_FAILED', /future/);
    assertError(await patch(member, entry.id, { endedAt: '2026-03-02T10:00:00Z', minutes: 60 }), 400, 'VALIDATION_FAILED');
    assertError(await patch(member, entry.id, {}), 400, 'VALIDATION_FAILED');
    assertError(await patch(member, entry.id, { userId: randomUUID() }), 400, 'VALIDATION_FAILED');
    assertError(await patch(member, 'nope', { note: 'x' }), 400, 'INVALID_ID', 'Invalid time entry ID');
  });

  it('lets a running timer change its start and note, but not its end', async () => {
    const { member, task } = await team();
    const timer = (await start(member, task.id)).body.data;
    const earlier = hoursAgo(2);
    const res = await patch(member, timer.id, { startedAt: earlier, note: 'Since lunch' });
    assertStatus(res, 200);
    assert.equal(res.body.data.startedAt, earlier);
    assert.equal(res.body.data.running, true);
    assertError(await patch(member, timer.id, { minutes: 30 }), 409, 'CONFLICT', 'The timer is still running: stop it first');
    assertError(await patch(member, timer.id, { startedAt: hoursAgo(-1) }), 400, 'VALIDATION_FAILED');
    assert.equal((await stop(member)).body.data.minutes, 120);
  });

  it('refuses to change or delete someone else’s entry with 403, admins and owners included', async () => {
    const { owner, admin, other, projectGuest, member, task } = await team();
    const entry = await logged(member, task.id, { startedAt: '2026-03-02T09:00:00Z', minutes: 60, note: 'Mine' });
    for (const user of [owner, admin, other, projectGuest]) {
      assertError(await patch(user, entry.id, { note: 'Not yours' }), 403, 'FORBIDDEN', 'Insufficient permissions.');
      assertError(await remove(user, entry.id), 403, 'FORBIDDEN', 'Insufficient permissions.');
    }
    const { rows } = await server.sql.query('select note from time_entries where id = $1', [entry.id]);
    assert.equal(rows[0].note, 'Mine');
  });

  it('answers 404 Time entry not found outside the entry’s workspace or project', async () => {
    const { member, guest, outsider, task } = await team();
    const entry = await logged(member, task.id, { startedAt: '2026-03-02T09:00:00Z', minutes: 60 });
    await createWorkspace(server, outsider);
    for (const user of [outsider, guest]) {
      assertError(await patch(user, entry.id, { note: 'x' }), 404, 'NOT_FOUND', 'Time entry not found');
      assertError(await remove(user, entry.id), 404, 'NOT_FOUND', 'Time entry not found');
      assertError(await get(user, `/api/v1/time-entries/${entry.id}`), 404, 'NOT_FOUND', 'Time entry not found');
    }
    assertError(await remove(member, randomUUID()), 404, 'NOT_FOUND', 'Time entry not found');
  });

  it('deletes one’s own entry; deleting a running timer discards it', async () => {
    const { member, task } = await team();
    const entry = await logged(member, task.id, { startedAt: '2026-03-02T09:00:00Z', minutes: 60 });
    const res = await remove(member, entry.id);
    assertStatus(res, 200);
    assert.deepEqual(res.body, { success: true, message: 'Time entry deleted successfully' });
    assertError(await get(member, `/api/v1/time-entries/${entry.id}`), 404, 'NOT_FOUND', 'Time entry not found');
    const timer = (await start(member, task.id)).body.data;
    assertStatus(await remove(member, timer.id), 200);
    assertError(await running(member), 404, 'NOT_FOUND', 'Timer not found');
    const { rows } = await server.sql.query('select count(*)::int as n from time_entries where user_id = $1', [member.id]);
    assert.equal(rows[0].n, 0);
  });
});

describe('totals', () => {
  it('lists a task’s entries newest first in offset pages, with the total of finished entries', async () => {
    const { member, other, projectGuest, guest, task, task2 } = await team();
    await logged(member, task.id, { startedAt: '2026-03-02T09:00:00Z', minutes: 30 });
    await logged(other, task.id, { startedAt: '2026-03-03T09:00:00Z', minutes: 45 });
    await logged(member, task.id, { startedAt: '2026-03-04T09:00:00Z', endedAt: '2026-03-04T10:00:59Z' });
    await logged(member, task2.id, { startedAt: '2026-03-04T09:00:00Z', minutes: 500 });
    assertStatus(await start(other, task.id), 201);

    const first = await get(projectGuest, `/api/v1/tasks/${task.id}/time-entries?limit=2`);
    assertStatus(first, 200);
    assert.deepEqual(first.body.pagination, { page: 1, limit: 2, total: 4, totalPages: 2 });
    assert.equal(first.body.totalMinutes, 135);
    assert.deepEqual(
      first.body.data.map((e: { running: boolean; minutes: number | null }) => [e.running, e.minutes]),
      [
        [true, null],
        [false, 60],
      ],
    );
    const second = await get(projectGuest, `/api/v1/tasks/${task.id}/time-entries?limit=2&page=2`);
    assert.deepEqual(
      second.body.data.map((e: { minutes: number }) => e.minutes),
      [45, 30],
    );
    assertError(await get(guest, `/api/v1/tasks/${task.id}/time-entries`), 404, 'NOT_FOUND', 'Task not found');
    assertError(await get(member, `/api/v1/tasks/${task.id}/time-entries?limit=101`), 400, 'VALIDATION_FAILED');

    const summary = await get(projectGuest, `/api/v1/tasks/${task.id}/time-summary`);
    assertStatus(summary, 200);
    assert.deepEqual(summary.body.data, {
      taskId: task.id,
      totalMinutes: 135,
      users: [
        { userId: member.id, minutes: 90 },
        { userId: other.id, minutes: 45 },
      ],
    });
  });

  it('sums a project per person and per task between two days of a time zone', async () => {
    const { member, other, projectGuest, guest, project, task, task2 } = await team();
    const task3 = await createTask(server, member, project.id);
    // 23:30 UTC on 9 March is already 10 March in Berlin.
    await logged(member, task.id, { startedAt: '2026-03-09T23:30:00Z', minutes: 60 });
    await logged(member, task2.id, { startedAt: '2026-03-10T12:00:00Z', minutes: 120 });
    await logged(other, task2.id, { startedAt: '2026-03-11T22:59:00Z', minutes: 30 });
    await logged(other, task3.id, { startedAt: '2026-03-11T23:00:00Z', minutes: 15 });
    await logged(other, task3.id, { startedAt: '2026-02-01T09:00:00Z', minutes: 5 });

    const path = `/api/v1/projects/${project.id}/time-summary`;
    const berlin = await get(projectGuest, `${path}?from=2026-03-10&to=2026-03-11&tz=Europe/Berlin`);
    assertStatus(berlin, 200);
    assert.deepEqual(berlin.body.data, {
      projectId: project.id,
      from: '2026-03-10',
      to: '2026-03-11',
      tz: 'Europe/Berlin',
      totalMinutes: 210,
      users: [
        { userId: member.id, minutes: 180 },
        { userId: other.id, minutes: 30 },
      ],
      tasks: [
        { taskId: task2.id, taskKey: task2.key, title: task2.title, minutes: 150 },
        { taskId: task.id, taskKey: task.key, title: task.title, minutes: 60 },
      ],
    });

    const utc = await get(projectGuest, `${path}?from=2026-03-10&to=2026-03-11`);
    assert.equal(utc.body.data.totalMinutes, 165);
    const allTime = await get(projectGuest, `${path}?top=1`);
    assert.equal(allTime.body.data.totalMinutes, 230);
    assert.deepEqual(
      allTime.body.data.tasks.map((t: { taskId: string; minutes: number }) => [t.taskId, t.minutes]),
      [[task2.id, 150]],
    );
    assert.deepEqual((await get(member, `${path}?from=2025-01-01&to=2025-01-31`)).body.data.users, []);

    assertError(await get(guest, path), 404, 'NOT_FOUND', 'Project not found');
    assertError(await get(member, `${path}?from=2026-03-11&to=2026-03-10`), 400, 'VALIDATION_FAILED');
    assertError(await get(member, `${path}?tz=Mars/Olympus`), 400, 'VALIDATION_FAILED');
    assertError(await get(member, `${path}?top=0`), 400, 'VALIDATION_FAILED');
  });

  it('lists my entries across the workspaces I am still in, with their total', async () => {
    const { owner, ws, member, task } = await team();
    const elsewhere = await createWorkspace(server, member);
    const ownProject = await createProject(server, member, elsewhere.id);
    const ownTask = await createTask(server, member, ownProject.id);
    await logged(member, task.id, { startedAt: '2026-03-02T09:00:00Z', minutes: 30 });
    await logged(member, ownTask.id, { startedAt: '2026-03-05T09:00:00Z', minutes: 50 });
    await logged(owner, task.id, { startedAt: '2026-03-03T09:00:00Z', minutes: 70 });

    const mine = await get(member, '/api/v1/users/me/time-entries');
    assertStatus(mine, 200);
    assert.equal(mine.body.totalMinutes, 80);
    assert.deepEqual(
      mine.body.data.map((e: { taskKey: string }) => e.taskKey),
      [ownTask.key, task.key],
    );
    assert.deepEqual(mine.body.pagination, { page: 1, limit: 20, total: 2, totalPages: 1 });
    const march2 = await get(member, '/api/v1/users/me/time-entries?from=2026-03-01&to=2026-03-04');
    assert.equal(march2.body.totalMinutes, 30);

    assertStatus(await server.request('DELETE', `/api/v1/workspaces/${ws.id}/members/${member.id}`, { token: owner.accessToken }), 200);
    const after = await get(member, '/api/v1/users/me/time-entries');
    assert.equal(after.body.totalMinutes, 50);
    assert.equal(after.body.data.length, 1);
    assertError(await get(member, '/api/v1/users/me/time-entries?page=0'), 400, 'VALIDATION_FAILED');
  });
});
