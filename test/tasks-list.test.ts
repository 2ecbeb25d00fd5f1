// Task lists: filters, allow-listed sorting with a unique tie-breaker, offset and cursor
// pages (also while tasks are being added), full-text search, and "my tasks".
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertError, assertStatus, invitationLinkToken, lastInvitationToken, startApiServer } from './helpers/api.js';
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
let other: RegisteredUser;
let ws: { id: string };
before(async () => {
  server = await startApiServer();
  owner = await createUser(server);
  ws = await createWorkspace(server, owner);
  member = await addWorkspaceMember(server, owner, ws.id, 'member');
  other = await addWorkspaceMember(server, owner, ws.id, 'member');
});
after(() => server.close());

interface TaskJson {
  id: string;
  key: string;
  number: number;
  dueDate: string | null;
  priority: string;
  title: string;
}

const list = (user: RegisteredUser, path: string) => server.request('GET', path, { token: user.accessToken });
const dateIn = (timeZone: string) =>
  new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());

describe('filtering the task list', () => {
  let project: { id: string };
  const names = new Map<string, string>();
  // Kiritimati (UTC+14) is always one or two calendar days ahead of Pago Pago (UTC-11): a task
  // due "today in Pago Pago" is overdue in Kiritimati and not yet in Pago Pago.
  const pagoToday = dateIn('Pacific/Pago_Pago');

  before(async () => {
    project = await createProject(server, owner, ws.id);
    const specs: [string, RegisteredUser, Record<string, unknown>][] = [
      ['a', owner, { status: 'todo', priority: 'high', assigneeId: member.id, dueDate: '2030-01-10', labels: ['backend'] }],
      ['b', member, { status: 'in_progress', priority: 'low', assigneeId: other.id, dueDate: '2030-01-20', labels: ['frontend', 'bug'] }],
      ['c', member, { status: 'done', priority: 'high', dueDate: '2020-01-01', labels: ['bug'] }],
      ['d', owner, { status: 'todo', priority: 'urgent' }],
      ['e', owner, { status: 'cancelled', assigneeId: member.id, dueDate: '2020-06-01', labels: ['backend'] }],
      ['f', member, { status: 'in_review', priority: 'medium', assigneeId: member.id }],
      ['g', owner, { status: 'todo', dueDate: '2021-03-03' }],
      ['h', owner, { status: 'todo', dueDate: pagoToday }],
    ];
    for (const [name, reporter, body] of specs)
      names.set((await createTask(server, reporter, project.id, { title: `Task ${name}`, ...body })).id, name);
  });

  async function which(query: string, user = member): Promise<string> {
    const res = await list(user, `/api/v1/projects/${project.id}/tasks?limit=100${query}`);
    assertStatus(res, 200);
    assert.equal(res.body.pagination.total, res.body.data.length);
    return res.body.data
      .map((t: TaskJson) => names.get(t.id))
      .sort()
      .join('');
  }

  it('filters by a list of statuses and of priorities', async () => {
    assert.equal(await which(''), 'abcdefgh');
    assert.equal(await which('&status=todo,done'), 'acdgh');
    assert.equal(await which('&status=in_review'), 'f');
    assert.equal(await which('&priority=high,urgent'), 'acd');
    assert.equal(await which('&priority=none&status=todo'), 'gh');
  });

  it('filters by assignee (an id, me or none) and by reporter (an id or me)', async () => {
    assert.equal(await which(`&assignee=${other.id}`), 'b');
    assert.equal(await which('&assignee=me'), 'aef');
    assert.equal(await which('&assignee=me', other), 'b');
    assert.equal(await which('&assignee=none'), 'cdgh');
    assert.equal(await which('&reporter=me'), 'bcf');
    assert.equal(await which(`&reporter=${owner.id}`), 'adegh');
  });

  it('filters by label and by due date, both bounds exclusive', async () => {
    assert.equal(await which('&label=bug'), 'bc');
    assert.equal(await which('&label=backend&assignee=me'), 'ae');
    assert.equal(await which('&label=nothing'), '');
    assert.equal(await which('&dueAfter=2030-01-10'), 'b');
    assert.equal(await which('&dueBefore=2020-06-01'), 'c');
    assert.equal(await which('&dueAfter=2020-01-01&dueBefore=2030-01-20&status=done,cancelled,in_progress'), 'e');
  });

  it("finds overdue tasks by the caller's time zone, leaving done and cancelled ones out", async () => {
    assert.equal(await which('&overdue=true&tz=Pacific/Kiritimati'), 'gh');
    assert.equal(await which('&overdue=true&tz=Pacific/Pago_Pago'), 'g');
  });

  it('refuses unknown filters and malformed values', async () => {
    for (const query of [
      '?status=todo,blocked',
      '?priority=p1',
      '?assignee=someone',
      '?reporter=none',
      '?dueBefore=01/02/2030',
      '?overdue=false',
      '?overdue=true&tz=Mars/Olympus_Mons',
      '?colour=red',
      '?label=a,b',
      '?limit=101',
      '?limit=0',
    ]) {
      assertError(await list(member, `/api/v1/projects/${project.id}/tasks${query}`), 400, 'VALIDATION_FAILED');
    }
  });
});

describe('sorting and paging the task list', () => {
  let project: { id: string };
  before(async () => {
    project = await createProject(server, owner, ws.id);
    const dues = [
      '2030-05-01',
      null,
      '2030-01-01',
      '2030-05-01',
      null,
      '2030-03-01',
      '2030-01-01',
      '2030-05-01',
      null,
      '2030-02-01',
      '2030-03-01',
    ];
    const priorities = ['low', 'high', 'none', 'high', 'urgent', 'low', 'medium', 'low', 'none', 'high', 'medium'];
    for (const [i, dueDate] of dues.entries()) {
      await createTask(server, member, project.id, { title: `Item ${String.fromCharCode(107 - i)}`, dueDate, priority: priorities[i] });
    }
  });

  const url = (query: string) => `/api/v1/projects/${project.id}/tasks?${query}`;
  const all = async (sort: string): Promise<TaskJson[]> => (await list(member, url(`limit=100&sort=${sort}`))).body.data;
  const PRIORITY = ['none', 'low', 'medium', 'high', 'urgent'];
  const byId = (a: TaskJson, b: TaskJson) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

  it('sorts over the allow-list, descending with -, with the id breaking ties', async () => {
    const tasks = await all('-dueDate,priority');
    // Tasks without a due date come last in both directions.
    const dueDesc = (t: TaskJson) => t.dueDate ?? '0000-01-01';
    const expected = [...tasks].sort(
      (a, b) => dueDesc(b).localeCompare(dueDesc(a)) || PRIORITY.indexOf(a.priority) - PRIORITY.indexOf(b.priority) || byId(a, b),
    );
    assert.deepEqual(
      tasks.map((t) => t.id),
      expected.map((t) => t.id),
    );
    assert.notEqual(tasks[0]?.dueDate, null, 'the latest due date leads');
    assert.equal(tasks.at(-1)?.dueDate, null, 'no due date comes last, also descending');
    assert.equal((await all('dueDate')).at(-1)?.dueDate, null, 'and ascending');
    const byTitle = await all('title');
    assert.deepEqual(
      byTitle.map((t) => t.title),
      byTitle.map((t) => t.title).sort(),
    );
    const byNumberDesc = await all('-number');
    assert.deepEqual(
      byNumberDesc.map((t) => t.number),
      Array.from({ length: 11 }, (_, i) => 11 - i),
    );
    const byPriority = await all('priority');
    const ties = byPriority.filter((t) => t.priority === 'low').map((t) => t.id);
    assert.deepEqual(ties, [...ties].sort(), 'equal priorities come in id order');
  });

  it('refuses sort keys outside the allow-list, more than four keys, and relevance without q', async () => {
    for (const sort of ['colour', 'dueDate,bogus', '+dueDate', 'number,title,status,priority,dueDate', 'relevance', 'dueDate;drop']) {
      assertError(await list(member, url(`sort=${encodeURIComponent(sort)}`)), 400, 'VALIDATION_FAILED');
    }
  });

  it('answers offset pages with a total and a nextCursor while more follow', async () => {
    const first = await list(member, url('limit=4&sort=dueDate'));
    assertStatus(first, 200);
    assert.deepEqual(
      { ...first.body.pagination, nextCursor: typeof first.body.pagination.nextCursor },
      {
        page: 1,
        limit: 4,
        total: 11,
        totalPages: 3,
        nextCursor: 'string',
        hasMore: true,
      },
    );
    const last = await list(member, url('limit=4&sort=dueDate&page=3'));
    assert.equal(last.body.data.length, 3);
    assert.deepEqual(last.body.pagination, { page: 3, limit: 4, total: 11, totalPages: 3, nextCursor: null, hasMore: false });
    const offsetIds = [];
    for (let page = 1; page <= 3; page++) {
      offsetIds.push(...(await list(member, url(`limit=4&sort=dueDate&page=${page}`))).body.data.map((t: TaskJson) => t.id));
    }
    assert.deepEqual(
      offsetIds,
      (await all('dueDate')).map((t) => t.id),
    );
  });

  it('walks every task once with cursor pages, in the same order as one long page', async () => {
    for (const sort of ['-dueDate,priority', 'priority,-title', 'createdAt', '-updatedAt', 'status,position']) {
      const walked: string[] = [];
      let res = await list(member, url(`limit=3&sort=${sort}`));
      walked.push(...res.body.data.map((t: TaskJson) => t.id));
      while (res.body.pagination.nextCursor) {
        res = await list(member, url(`limit=3&sort=${sort}&cursor=${res.body.pagination.nextCursor}`));
        assertStatus(res, 200);
        assert.deepEqual(Object.keys(res.body.pagination).sort(), ['hasMore', 'limit', 'nextCursor'], 'cursor pages have no total');
        walked.push(...res.body.data.map((t: TaskJson) => t.id));
      }
      assert.deepEqual(
        walked,
        (await all(sort)).map((t) => t.id),
        `sort=${sort}`,
      );
    }
  });

  it('refuses a cursor of another sort order, a garbled cursor, and page with cursor', async () => {
    const first = await list(member, url('limit=2&sort=dueDate'));
    const cursor = first.body.pagination.nextCursor;
    assertError(await list(member, url(`limit=2&sort=-dueDate&cursor=${cursor}`)), 400, 'VALIDATION_FAILED', /cursor is invalid/);
    assertError(await list(member, url(`limit=2&cursor=${cursor}`)), 400, 'VALIDATION_FAILED');
    assertError(await list(member, url('cursor=bm9wZQ')), 400, 'VALIDATION_FAILED');
    assertError(await list(member, url(`page=2&sort=dueDate&cursor=${cursor}`)), 400, 'VALIDATION_FAILED');
  });

  it('answers 400, not 500, to a well-formed cursor with values that are not of the sort key', async () => {
    const id = (await all('number'))[0]?.id;
    const forged = (parts: unknown[]) => Buffer.from(JSON.stringify(parts)).toString('base64url');
    for (const [sort, parts] of [
      ['dueDate', ['dueDate', 'not-a-date', id]],
      ['dueDate', ['dueDate', '2030-02-30', id]],
      ['number', ['number', '99999999999', id]],
      ['priority', ['priority', 'high', id]],
      ['number', ['number', '3', 'not-a-uuid']],
      ['number', ['number', 3, id]],
    ] as const) {
      const res = await list(member, url(`sort=${sort}&cursor=${forged([...parts])}`));
      assertError(res, 400, 'VALIDATION_FAILED', /cursor is invalid/);
    }
  });
});

describe('cursor pages while tasks are being added', () => {
  it('has no duplicates and no gaps, and picks up tasks added behind the cursor', async () => {
    const project = await createProject(server, owner, ws.id);
    for (let i = 0; i < 10; i++) await createTask(server, member, project.id, { dueDate: `2030-01-${String(10 + i).padStart(2, '0')}` });
    const url = (sort: string, cursor?: string) =>
      `/api/v1/projects/${project.id}/tasks?limit=3&sort=${sort}${cursor ? `&cursor=${cursor}` : ''}`;

    // By number: every new task sorts after the cursor, so the walk ends with all of them.
    const seen: number[] = [];
    let res = await list(member, url('number'));
    for (;;) {
      seen.push(...res.body.data.map((t: TaskJson) => t.number));
      await createTask(server, member, project.id);
      await createTask(server, member, project.id);
      if (!res.body.pagination.nextCursor || seen.length > 60) break;
      res = await list(member, url('number', res.body.pagination.nextCursor));
    }
    const total = (await list(member, `/api/v1/projects/${project.id}`)).body.data.taskCount;
    assert.deepEqual(
      seen,
      Array.from({ length: seen.length }, (_, i) => i + 1),
    );
    assert.ok(seen.length >= 10 && total - seen.length <= 2, `walked ${seen.length} of ${total}`);

    // By due date: tasks added in front of the cursor are not seen; none seen twice or skipped.
    const before = new Set((await list(member, `/api/v1/projects/${project.id}/tasks?limit=100`)).body.data.map((t: TaskJson) => t.id));
    const walked: TaskJson[] = [];
    res = await list(member, url('dueDate'));
    for (let day = 1; ; day++) {
      walked.push(...res.body.data);
      await createTask(server, member, project.id, { dueDate: `2030-01-${String(day).padStart(2, '0')}` });
      if (!res.body.pagination.nextCursor) break;
      res = await list(member, url('dueDate', res.body.pagination.nextCursor));
    }
    const ids = walked.map((t) => t.id);
    assert.equal(new Set(ids).size, ids.length, 'no task twice');
    for (const id of before) assert.ok(ids.includes(id as string), 'every task that existed is seen');
    const keys = walked.map((t) => `${t.dueDate ?? '9999-12-31'} ${t.id}`);
    assert.deepEqual(keys, [...keys].sort(), 'in order');
  });
});

describe('searching tasks', () => {
  let project: { id: string };
  let deployTitle: string;
  let deployBody: string;
  before(async () => {
    project = await createProject(server, owner, ws.id);
    deployTitle = (await createTask(server, member, project.id, { title: 'Deploy the API', description: 'blue/green' })).id;
    deployBody = (
      await createTask(server, member, project.id, { title: 'Write the handbook', description: 'Explains how we deploy on Fridays' })
    ).id;
    await createTask(server, member, project.id, { title: 'Fix login', description: 'The form forgets the address' });
  });
  const search = async (q: string, extra = '') => {
    const res = await list(member, `/api/v1/projects/${project.id}/tasks?q=${encodeURIComponent(q)}${extra}`);
    assertStatus(res, 200);
    return res.body.data.map((t: TaskJson) => t.id);
  };

  it('finds words by their stem in title and description, title matches first', async () => {
    assert.deepEqual(await search('deploying'), [deployTitle, deployBody]);
    assert.deepEqual(await search('deployed'), [deployTitle, deployBody]);
    assert.deepEqual(await search('deploy', '&sort=-number'), [deployBody, deployTitle]);
    assert.deepEqual(await search('forgetting addresses'), [(await search('login'))[0]]);
  });

  it('understands phrases, exclusions and words that match nothing', async () => {
    assert.deepEqual(await search('"deploy the api"'), [deployTitle]);
    assert.deepEqual(await search('deploy -fridays'), [deployTitle]);
    assert.deepEqual(await search('xylophone'), []);
    const res = await list(member, `/api/v1/projects/${project.id}/tasks?q=deploy&limit=1`);
    assert.equal(res.body.pagination.total, 2);
    const next = await list(member, `/api/v1/projects/${project.id}/tasks?q=deploy&limit=1&cursor=${res.body.pagination.nextCursor}`);
    assert.deepEqual(
      next.body.data.map((t: TaskJson) => t.id),
      [deployBody],
    );
  });
});

describe('my tasks', () => {
  it('lists tasks assigned to me across workspaces, and no longer those of a workspace I left', async () => {
    const me = await createUser(server);
    const boss = await createUser(server);
    const home = await createWorkspace(server, boss);
    const away = await createWorkspace(server, boss);
    for (const w of [home, away]) {
      const previous = lastInvitationToken(server, me.email);
      await server.request('POST', `/api/v1/workspaces/${w.id}/invitations`, { token: boss.accessToken, body: { email: me.email } });
      const token = await invitationLinkToken(server, me.email, previous);
      assertStatus(await server.request('POST', '/api/v1/invitations/accept', { token: me.accessToken, body: { token } }), 200);
    }
    const homeProject = await createProject(server, boss, home.id, { key: 'HOME' });
    const awayProject = await createProject(server, boss, away.id, { key: 'AWAY' });
    const mine1 = await createTask(server, boss, homeProject.id, { assigneeId: me.id, status: 'done' });
    const mine2 = await createTask(server, boss, awayProject.id, { assigneeId: me.id });
    await createTask(server, boss, awayProject.id, { assigneeId: boss.id });

    const res = await list(me, '/api/v1/users/me/tasks?sort=number,createdAt');
    assertStatus(res, 200);
    assert.deepEqual(res.body.data.map((t: TaskJson) => t.key).sort(), ['AWAY-1', 'HOME-1']);
    assert.equal(res.body.pagination.total, 2);
    assert.deepEqual(
      (await list(me, '/api/v1/users/me/tasks?status=done')).body.data.map((t: TaskJson) => t.id),
      [mine1.id],
    );
    assertError(await list(me, `/api/v1/users/me/tasks?assignee=${boss.id}`), 400, 'VALIDATION_FAILED');

    assertStatus(await server.request('DELETE', `/api/v1/workspaces/${away.id}/members/${me.id}`, { token: me.accessToken }), 200);
    const after = await list(me, '/api/v1/users/me/tasks');
    assert.deepEqual(
      after.body.data.map((t: TaskJson) => t.id),
      [mine1.id],
    );
    assert.ok(!after.body.data.some((t: TaskJson) => t.id === mine2.id));
  });

  it("leaves out a guest's tasks in projects they are no longer added to", async () => {
    const guest = await addWorkspaceMember(server, owner, ws.id, 'guest');
    const project = await createProject(server, owner, ws.id);
    await addProjectMember(server, owner, project.id, guest.id);
    const task = await createTask(server, owner, project.id, { assigneeId: guest.id });
    assert.deepEqual(
      (await list(guest, '/api/v1/users/me/tasks')).body.data.map((t: TaskJson) => t.id),
      [task.id],
    );
    const removed = await server.request('DELETE', `/api/v1/projects/${project.id}/members/${guest.id}`, { token: owner.accessToken });
    assert.equal(removed.status, 200);
    assert.deepEqual((await list(guest, '/api/v1/users/me/tasks')).body.data, []);
  });
});
