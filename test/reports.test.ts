import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { dateIn } from '../src/platform/time.js';
import {
  addProjectMember,
  addWorkspaceMember,
  createProject,
  createTask,
  createUser,
  createWorkspace,
  type RegisteredUser,
} from './helpers/factories.js';
import { type ApiResponse, startTestServer, type TestServer } from './helpers/server.js';

const zeros = (keys: string[]) => Object.fromEntries(keys.map((k) => [k, 0]));
const STATUS_ZEROS = zeros(['todo', 'in_progress', 'in_review', 'done', 'cancelled']);
const PRIORITY_ZEROS = zeros(['none', 'low', 'medium', 'high', 'urgent']);

function assertValidation(res: ApiResponse, pattern: RegExp): void {
  assert.equal(res.status, 400, res.text);
  assert.equal(res.body.code, 'VALIDATION_FAILED');
  assert.match(res.body.error, pattern);
}

describe('reports: summary, overdue, empty projects, validation and access', () => {
  let server: TestServer;
  let owner: RegisteredUser;
  let member: RegisteredUser;
  let workspaceId: string;

  before(async () => {
    server = await startTestServer();
    owner = await createUser(server, { name: 'Olga Owner' });
    workspaceId = (await createWorkspace(server, owner)).id;
    member = await addWorkspaceMember(server, owner, workspaceId, 'member');
  });
  after(() => server.close());

  const report = (projectId: string, name: string, query = '', token = member.accessToken) =>
    server.request('GET', `/api/v1/projects/${projectId}/reports/${name}${query}`, { token });

  it('counts tasks by status, priority and assignee, with zeros, the unassigned and the overdue', async () => {
    const project = await createProject(server, owner, workspaceId);
    await createTask(server, member, project.id, { assigneeId: member.id, priority: 'high' });
    await createTask(server, member, project.id, { assigneeId: member.id, status: 'done' });
    await createTask(server, member, project.id, { status: 'in_progress', priority: 'urgent', dueDate: '2020-01-01' });
    await createTask(server, member, project.id, { assigneeId: owner.id, status: 'cancelled', dueDate: '2020-01-01' });

    const res = await report(project.id, 'summary', '?tz=Europe/Berlin');
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body.data, {
      tz: 'Europe/Berlin',
      today: dateIn('Europe/Berlin', new Date()),
      total: 4,
      open: 2,
      overdue: 1,
      byStatus: { ...STATUS_ZEROS, todo: 1, in_progress: 1, done: 1, cancelled: 1 },
      byPriority: { ...PRIORITY_ZEROS, none: 2, high: 1, urgent: 1 },
      byAssignee: [
        { assigneeId: member.id, name: member.name, count: 2, open: 1 },
        { assigneeId: owner.id, name: 'Olga Owner', count: 1, open: 0 },
        { assigneeId: null, name: null, count: 1, open: 1 },
      ],
    });
  });

  it('answers zeros, empty weeks and nulls for a project without tasks, not errors', async () => {
    const { id } = await createProject(server, owner, workspaceId);
    const range = '?from=2025-03-05&to=2025-03-18';
    const [summary, overdue, throughput, cycle, burndown, time] = await Promise.all([
      report(id, 'summary'),
      report(id, 'overdue'),
      report(id, 'throughput', range),
      report(id, 'cycle-time', range),
      report(id, 'burndown', '?from=2025-03-01&to=2025-03-03'),
      report(id, 'time', range),
    ]);
    for (const res of [summary, overdue, throughput, cycle, burndown, time]) assert.equal(res.status, 200, res.text);
    assert.deepEqual(
      { ...summary.body.data, today: undefined },
      {
        tz: 'UTC',
        today: undefined,
        total: 0,
        open: 0,
        overdue: 0,
        byStatus: STATUS_ZEROS,
        byPriority: PRIORITY_ZEROS,
        byAssignee: [{ assigneeId: null, name: null, count: 0, open: 0 }],
      },
    );
    assert.deepEqual(overdue.body, { success: true, data: [], pagination: { page: 1, limit: 20, total: 0, totalPages: 0 } });
    const weeks = ['2025-03-03', '2025-03-10', '2025-03-17'];
    assert.deepEqual(throughput.body.data, {
      from: '2025-03-03',
      to: '2025-03-23',
      tz: 'UTC',
      total: 0,
      weeks: weeks.map((weekStart) => ({ weekStart, completed: 0 })),
    });
    assert.deepEqual(cycle.body.data, { from: '2025-03-05', to: '2025-03-18', tz: 'UTC', count: 0, medianHours: null, p90Hours: null });
    assert.deepEqual(burndown.body.data, {
      from: '2025-03-01',
      to: '2025-03-03',
      tz: 'UTC',
      startOpen: 0,
      days: ['2025-03-01', '2025-03-02', '2025-03-03'].map((date) => ({ date, open: 0, ideal: 0 })),
    });
    assert.deepEqual(time.body.data, {
      from: '2025-03-03',
      to: '2025-03-23',
      tz: 'UTC',
      totalMinutes: 0,
      users: [],
      weeks: weeks.map((weekStart) => ({ weekStart, minutes: 0, users: [] })),
    });
  });

  it('lists overdue tasks oldest due first in offset pages, in the task list shape', async () => {
    const project = await createProject(server, owner, workspaceId);
    const late = await createTask(server, member, project.id, { dueDate: '2020-03-01' });
    const oldest = await createTask(server, member, project.id, { dueDate: '2020-01-01', status: 'in_review' });
    const third = await createTask(server, member, project.id, { dueDate: '2021-01-01' });
    await createTask(server, member, project.id, { dueDate: '2019-01-01', status: 'done' });
    await createTask(server, member, project.id, { dueDate: '2999-01-01' });
    await createTask(server, member, project.id);

    const first = await report(project.id, 'overdue', '?limit=2');
    assert.equal(first.status, 200, first.text);
    assert.deepEqual(first.body.pagination, { page: 1, limit: 2, total: 3, totalPages: 2 });
    assert.deepEqual(
      first.body.data.map((t: { id: string }) => t.id),
      [oldest.id, late.id],
    );
    const listed = await server.request('GET', `/api/v1/tasks/${oldest.id}`, { token: member.accessToken });
    assert.deepEqual(first.body.data[0], listed.body.data);
    const second = await report(project.id, 'overdue', '?limit=2&page=2');
    assert.deepEqual(
      second.body.data.map((t: { id: string }) => t.id),
      [third.id],
    );
  });

  it("decides what is overdue by today in the caller's time zone", async () => {
    const project = await createProject(server, owner, workspaceId);
    // Kiritimati (UTC+14) is always at least a calendar day ahead of Pago Pago (UTC−11).
    const due = await createTask(server, member, project.id, { dueDate: dateIn('Pacific/Pago_Pago', new Date()) });
    const ahead = await report(project.id, 'overdue', '?tz=Pacific/Kiritimati');
    assert.deepEqual(
      ahead.body.data.map((t: { id: string }) => t.id),
      [due.id],
    );
    assert.equal((await report(project.id, 'summary', '?tz=Pacific/Kiritimati')).body.data.overdue, 1);
    assert.deepEqual((await report(project.id, 'overdue', '?tz=Pacific/Pago_Pago')).body.data, []);
    assert.equal((await report(project.id, 'summary', '?tz=Pacific/Pago_Pago')).body.data.overdue, 0);
  });

  it('refuses unknown time zones, reversed and too long ranges, bad dates and unknown fields', async () => {
    const { id } = await createProject(server, owner, workspaceId);
    assertValidation(await report(id, 'summary', '?tz=Mars/Olympus'), /^Validation failed: tz must be an IANA time zone/);
    assertValidation(await report(id, 'burndown', `?tz=${encodeURIComponent('+01:00')}`), /tz must be an IANA time zone/);
    assertValidation(await report(id, 'throughput', '?from=2025-03-10&to=2025-03-09'), /^Validation failed: from must not be after to/);
    assertValidation(await report(id, 'cycle-time', '?from=2999-01-01'), /from must not be after to/);
    assertValidation(await report(id, 'burndown', '?from=2024-01-01&to=2025-01-01'), /to must be at most 366 days from from/);
    assertValidation(await report(id, 'time', '?from=2023-01-01&to=2025-01-02'), /to must be at most 731 days from from/);
    assertValidation(await report(id, 'throughput', '?from=2025-02-30'), /from/);
    assertValidation(await report(id, 'cycle-time', '?to=0000-01-01'), /to must be a date between 1970-01-01 and 2999-12-31/);
    assertValidation(await report(id, 'summary', '?from=2025-01-01'), /from/);
    assertValidation(await report(id, 'overdue', '?limit=101'), /limit/);
    // A leap year is 366 days: the longest burndown there is.
    const year = await report(id, 'burndown', '?from=2024-01-01&to=2024-12-31');
    assert.equal(year.status, 200, year.text);
    assert.equal(year.body.data.days.length, 366);
  });

  it('defaults to the last 30 days, 12 weeks or 84 days ending today in tz, and names the zone canonically', async () => {
    const { id } = await createProject(server, owner, workspaceId);
    const today = dateIn('Asia/Tokyo', new Date());
    const burndown = await report(id, 'burndown', '?tz=asia/tokyo');
    assert.equal(burndown.body.data.tz, 'Asia/Tokyo');
    assert.equal(burndown.body.data.to, today);
    assert.equal(burndown.body.data.days.length, 30);
    const throughput = await report(id, 'throughput', '?tz=Asia/Tokyo');
    assert.equal(throughput.body.data.weeks.length, 12);
    const last = throughput.body.data.weeks.at(-1).weekStart;
    assert.ok(last <= today && today <= throughput.body.data.to, JSON.stringify(throughput.body.data));
    const cycle = await report(id, 'cycle-time', '?to=2025-03-31');
    assert.deepEqual([cycle.body.data.from, cycle.body.data.to], ['2025-01-07', '2025-03-31']);
  });

  it('lets guests added to the project read its reports and hides them from everyone else', async () => {
    const project = await createProject(server, owner, workspaceId);
    const added = await addWorkspaceMember(server, owner, workspaceId, 'guest');
    const notAdded = await addWorkspaceMember(server, owner, workspaceId, 'guest');
    const outsider = await createUser(server);
    await addProjectMember(server, owner, project.id, added.id);
    assert.equal((await report(project.id, 'burndown', '', added.accessToken)).status, 200);
    const hidden = await report(project.id, 'burndown', '', notAdded.accessToken);
    assert.deepEqual([hidden.status, hidden.body.error], [404, 'Project not found']);
    assert.equal((await report(project.id, 'summary', '', outsider.accessToken)).status, 404);
    assert.equal((await server.request('GET', `/api/v1/projects/${project.id}/reports/summary`)).status, 401);
    assert.equal((await report('not-a-uuid', 'summary')).body.code, 'INVALID_ID');
  });
});
