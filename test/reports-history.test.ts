import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { addWorkspaceMember, createProject, createTask, createUser, createWorkspace, type RegisteredUser } from './helpers/factories.js';
import { type ApiResponse, startTestServer, type TestServer } from './helpers/server.js';

describe('reports over the history: throughput, cycle time, burndown, time tracked', () => {
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

  const report = async (projectId: string, name: string, query: string) => {
    const res = await server.request('GET', `/api/v1/projects/${projectId}/reports/${name}${query}`, { token: member.accessToken });
    assert.equal(res.status, 200, res.text);
    return res.body.data;
  };
  const ok = (res: ApiResponse) => assert.equal(res.status, 200, res.text);

  /**
   * Tells a task's story through the API, one line per change: `<instant> create [status]`,
   * `<instant> patch|move|bulk <status>` or `<instant> delete`; an instant without a date
   * (`10:00Z`) is on the day of the line before. Returns the task id.
   */
  async function story(projectId: string, ...lines: string[]): Promise<string> {
    let taskId = '';
    let day = '';
    const instants: string[] = [];
    const token = member.accessToken;
    for (const line of lines) {
      const [at = '', verb, status] = line.split(' ');
      day = at.includes('T') ? at.slice(0, 10) : day;
      instants.push(at.includes('T') ? at : `${day}T${at}`);
      if (verb === 'create') taskId = (await createTask(server, member, projectId, status ? { status } : {})).id;
      else if (verb === 'patch') ok(await server.request('PATCH', `/api/v1/tasks/${taskId}`, { token, body: { status } }));
      else if (verb === 'move') ok(await server.request('POST', `/api/v1/tasks/${taskId}/move`, { token, body: { status } }));
      else if (verb === 'bulk')
        ok(
          await server.request('POST', `/api/v1/projects/${projectId}/tasks/bulk-update`, {
            token,
            body: { ids: [taskId], set: { status } },
          }),
        );
      else if (verb === 'delete') ok(await server.request('DELETE', `/api/v1/tasks/${taskId}`, { token }));
      else throw new Error(`unknown step ${line}`);
    }
    // The API stamps every change with the current time, and reports are about the past: the
    // history just written is moved to the instants the story names, in the order it happened.
    const { rows } = await server.sql.query<{ id: string }>('select id from activities where task_id = $1 order by id', [taskId]);
    assert.equal(rows.length, lines.length);
    for (const [i, row] of rows.entries())
      await server.sql.query('update activities set created_at = $2 where id = $1', [row.id, instants[i]]);
    await server.sql.query('update tasks set created_at = $2 where id = $1', [taskId, instants[0]]);
    return taskId;
  }

  it('counts completions per ISO week of the time zone, from the history: reopened, deleted and empty weeks included', async () => {
    const { id } = await createProject(server, owner, workspaceId);
    await story(id, '2025-03-01T09:00Z create', '2025-03-05T10:00Z patch done');
    // Sunday 23:30 in UTC is Monday 08:30 in Tokyo: another week there.
    await story(id, '2025-03-01T09:00Z create', '2025-03-09T23:30Z move done');
    // Reopened and completed again a later week: counts in both.
    await story(
      id,
      '2025-03-01T09:00Z create',
      '2025-03-04T09:00Z patch done',
      '2025-03-06T09:00Z patch in_progress',
      '2025-03-18T12:00Z patch done',
    );
    // Reopened and completed again within one week: counts once.
    await story(id, '2025-03-10T08:00Z create', '2025-03-11T09:00Z bulk done', '10:00Z bulk todo', '2025-03-12T09:00Z bulk done');
    await story(id, '2025-03-12T12:00Z create done');
    await story(id, '2025-03-15T09:00Z create', '2025-03-19T09:00Z patch done', '2025-03-20T09:00Z delete');
    await story(id, '2025-02-10T09:00Z create', '2025-02-20T09:00Z patch done');
    await story(id, '2025-03-10T09:00Z create', '2025-03-11T09:00Z patch cancelled');

    const weeks = (...completed: number[]) =>
      ['2025-03-03', '2025-03-10', '2025-03-17', '2025-03-24'].map((weekStart, i) => ({ weekStart, completed: completed[i] }));
    assert.deepEqual(await report(id, 'throughput', '?from=2025-03-05&to=2025-03-24'), {
      from: '2025-03-03',
      to: '2025-03-30',
      tz: 'UTC',
      total: 7,
      weeks: weeks(3, 2, 2, 0),
    });
    const tokyo = await report(id, 'throughput', '?from=2025-03-05&to=2025-03-24&tz=Asia/Tokyo');
    assert.deepEqual(tokyo.weeks, weeks(2, 3, 2, 0));
  });

  it('measures cycle time from the first move into in_progress to the last completion in the range', async () => {
    const { id } = await createProject(server, owner, workspaceId);
    await story(id, '2025-04-10T08:00Z create', '09:00Z patch in_progress', '10:00Z patch done'); // 1 h
    await story(id, '2025-04-11T09:00Z create in_progress', '11:00Z move done'); // 2 h, created in progress
    await story(id, '2025-04-12T08:00Z create', '09:00Z move in_progress', '10:00Z move in_review', '12:00Z move done'); // 3 h
    await story(id, '2025-04-13T08:00Z create', '09:00Z bulk in_progress', '13:00Z bulk done'); // 4 h
    // Reopened: from the first start to the last completion, 10 h.
    await story(
      id,
      '2025-04-14T08:00Z create',
      '09:00Z patch in_progress',
      '10:00Z patch done',
      '14:00Z patch todo',
      '15:00Z patch in_progress',
      '19:00Z patch done',
    );
    // 3 h, completed on 30 April in UTC but on 1 May in Tokyo.
    await story(id, '2025-04-30T20:00Z create', '20:30Z patch in_progress', '23:30Z patch done');
    // Completed in April (2 h), reopened, completed again in May (411 h after its first start).
    await story(
      id,
      '2025-04-18T08:00Z create',
      '09:00Z patch in_progress',
      '11:00Z patch done',
      '12:00Z patch todo',
      '2025-05-05T12:00Z patch done',
    );
    // Not counted: never in progress, created done, completed before the range, not completed.
    await story(id, '2025-04-15T08:00Z create', '09:00Z patch done');
    await story(id, '2025-04-16T08:00Z create done');
    await story(id, '2025-03-01T08:00Z create', '09:00Z patch in_progress', '2025-03-20T09:00Z patch done');
    await story(id, '2025-04-17T08:00Z create', '09:00Z patch in_progress');

    const april = '?from=2025-04-01&to=2025-04-30';
    // Hours 1, 2, 2, 3, 3, 4, 10: the median is the 4th; p90 lies 0.4 of the way from 4 to 10.
    assert.deepEqual(await report(id, 'cycle-time', april), {
      from: '2025-04-01',
      to: '2025-04-30',
      tz: 'UTC',
      count: 7,
      medianHours: 3,
      p90Hours: 6.4,
    });
    // Without the late one, 1, 2, 2, 3, 4, 10: the median halves 2 and 3; p90 halves 4 and 10.
    assert.deepEqual(await report(id, 'cycle-time', `${april}&tz=Asia/Tokyo`), {
      from: '2025-04-01',
      to: '2025-04-30',
      tz: 'Asia/Tokyo',
      count: 6,
      medianHours: 2.5,
      p90Hours: 7,
    });
    const may = await report(id, 'cycle-time', '?from=2025-05-01&to=2025-05-31');
    assert.deepEqual([may.count, may.medianHours, may.p90Hours], [1, 411, 411]);
  });

  it('replays open tasks at the end of each day in the time zone, with the ideal line', async () => {
    const { id } = await createProject(server, owner, workspaceId);
    await story(id, '2025-04-20T09:00Z create', '2025-05-01T09:00Z move in_progress', '2025-05-03T12:00Z patch done');
    await story(id, '2025-05-02T10:00Z create', '2025-05-04T09:00Z move done', '2025-05-06T09:00Z patch todo');
    await story(id, '2025-04-25T09:00Z create', '2025-05-05T08:00Z delete');
    await story(id, '2025-04-01T09:00Z create done');
    // 22:30 in UTC is 07:30 the next morning in Tokyo.
    await story(id, '2025-05-06T22:30Z create');
    await story(id, '2025-04-28T09:00Z create', '2025-05-01T10:00Z bulk cancelled');
    await story(id, '2025-05-10T09:00Z create');
    // A task written without any history (as seed data is): open from its created_at on.
    const imported = await createTask(server, member, id, { status: 'in_progress' });
    await server.sql.query('delete from activities where task_id = $1', [imported.id]);
    await server.sql.query(`update tasks set created_at = '2025-04-29T09:00Z' where id = $1`, [imported.id]);

    const days = (open: number[], ideal: number[]) => open.map((n, i) => ({ date: `2025-05-0${i + 1}`, open: n, ideal: ideal[i] }));
    const week = '?from=2025-05-01&to=2025-05-07';
    assert.deepEqual(await report(id, 'burndown', week), {
      from: '2025-05-01',
      to: '2025-05-07',
      tz: 'UTC',
      startOpen: 4,
      days: days([3, 4, 3, 2, 1, 3, 3], [3.43, 2.86, 2.29, 1.71, 1.14, 0.57, 0]),
    });
    const tokyo = await report(id, 'burndown', `${week}&tz=Asia/Tokyo`);
    assert.deepEqual(
      tokyo.days.map((d: { open: number }) => d.open),
      [3, 4, 3, 2, 1, 2, 3],
    );
    const middle = await report(id, 'burndown', '?from=2025-05-04&to=2025-05-05');
    assert.deepEqual(
      [middle.startOpen, middle.days],
      [
        3,
        [
          { date: '2025-05-04', open: 2, ideal: 1.5 },
          { date: '2025-05-05', open: 1, ideal: 0 },
        ],
      ],
    );
  });

  it('sums ended time entries per user and per ISO week of the time zone, every week present', async () => {
    const { id } = await createProject(server, owner, workspaceId);
    const other = await createProject(server, owner, workspaceId);
    const task = await createTask(server, member, id);
    const elsewhere = await createTask(server, member, other.id);
    // Logged by hand through the time API, which takes past start times; a running timer counts for nothing yet.
    const entry = async (taskId: string, user: RegisteredUser, startedAt: string, minutes: number) => {
      const body = { startedAt, minutes };
      const res = await server.request('POST', `/api/v1/tasks/${taskId}/time-entries`, { token: user.accessToken, body });
      assert.equal(res.status, 201, res.text);
    };
    await entry(task.id, member, '2025-03-03T09:00:00Z', 90);
    await entry(task.id, member, '2025-03-09T23:30:00Z', 30); // Monday morning in Tokyo
    await entry(task.id, owner, '2025-03-12T10:00:00Z', 45);
    await entry(task.id, member, '2025-02-01T10:00:00Z', 600); // before the range
    await entry(elsewhere.id, member, '2025-03-04T10:00:00Z', 60); // another project
    const timer = await server.request('POST', `/api/v1/tasks/${task.id}/timer`, { token: owner.accessToken, body: {} });
    assert.equal(timer.status, 201, timer.text);
    // Started inside the range (the API starts timers now), still running: not counted.
    await server.sql.query(`update time_entries set started_at = '2025-03-13T10:00Z' where id = $1`, [timer.body.data.id]);

    assert.deepEqual(await report(id, 'time', '?from=2025-03-03&to=2025-03-23'), {
      from: '2025-03-03',
      to: '2025-03-23',
      tz: 'UTC',
      totalMinutes: 165,
      users: [
        { userId: member.id, name: member.name, minutes: 120 },
        { userId: owner.id, name: 'Olga Owner', minutes: 45 },
      ],
      weeks: [
        { weekStart: '2025-03-03', minutes: 120, users: [{ userId: member.id, minutes: 120 }] },
        { weekStart: '2025-03-10', minutes: 45, users: [{ userId: owner.id, minutes: 45 }] },
        { weekStart: '2025-03-17', minutes: 0, users: [] },
      ],
    });
    const tokyo = await report(id, 'time', '?from=2025-03-03&to=2025-03-23&tz=Asia/Tokyo');
    assert.deepEqual(tokyo.weeks.slice(0, 2), [
      { weekStart: '2025-03-03', minutes: 90, users: [{ userId: member.id, minutes: 90 }] },
      {
        weekStart: '2025-03-10',
        minutes: 75,
        users: [
          { userId: owner.id, minutes: 45 },
          { userId: member.id, minutes: 30 },
        ],
      },
    ]);
  });
});
