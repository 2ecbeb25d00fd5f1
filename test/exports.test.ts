import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EXPORT_RECORDS } from '../src/modules/exports/exports.schemas.js';
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

const root = path.resolve(import.meta.dirname, '..');

const CSV_COLUMNS =
  'id, key, number, projectId, workspaceId, title, description, status, priority, assigneeId, reporterId, dueDate, labels, estimateMinutes, position, version, completedAt, createdAt, updatedAt';

function assertError(res: ApiResponse, status: number, code: string, error?: string | RegExp): void {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${res.text}`);
  assert.equal(res.body.code, code);
  if (typeof error === 'string') assert.equal(res.body.error, error);
  else if (error) assert.match(res.body.error, error);
  assert.equal(res.body.requestId, res.headers.get('x-request-id'));
}

const ndjsonLines = (text: string) =>
  text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, any>);

/** The fields an import keeps, for comparing a task before export and after import. */
const kept = (t: Record<string, any>) => ({
  title: t.title,
  description: t.description,
  status: t.status,
  priority: t.priority,
  assigneeId: t.assigneeId,
  dueDate: t.dueDate,
  labels: t.labels,
  estimateMinutes: t.estimateMinutes,
});

describe('export and import', () => {
  let server: TestServer;
  let owner: RegisteredUser;
  let admin: RegisteredUser;
  let member: RegisteredUser;
  let projectGuest: RegisteredUser;
  let outsider: RegisteredUser;
  let workspace: { id: string; slug: string };
  let project: { id: string; key: string };

  const exportUrl = (projectId: string, format = 'ndjson') => `${server.url}/api/v1/projects/${projectId}/export?format=${format}`;
  const bearer = (user: RegisteredUser) => ({ authorization: `Bearer ${user.accessToken}` });
  const importFile = (user: RegisteredUser, projectId: string, body: string, type = 'application/x-ndjson') =>
    server.request('POST', `/api/v1/projects/${projectId}/import`, {
      token: user.accessToken,
      raw: body,
      headers: { 'content-type': type },
    });
  const projectTasks = async (projectId: string) =>
    (
      await server.sql.query(
        `select number, title, description, status, priority, assignee_id as "assigneeId", reporter_id as "reporterId",
                due_date::text as "dueDate", labels, estimate_minutes as "estimateMinutes", completed_at as "completedAt"
         from tasks where project_id = $1 order by number`,
        [projectId],
      )
    ).rows;

  before(async () => {
    server = await startTestServer();
    owner = await createUser(server);
    workspace = await createWorkspace(server, owner);
    admin = await addWorkspaceMember(server, owner, workspace.id, 'admin');
    member = await addWorkspaceMember(server, owner, workspace.id, 'member');
    projectGuest = await addWorkspaceMember(server, owner, workspace.id, 'guest');
    outsider = await createUser(server);
    project = await createProject(server, owner, workspace.id, { key: 'WEB' });
    await addProjectMember(server, owner, project.id, projectGuest.id);
    await createTask(server, member, project.id, {
      title: 'Ship the export',
      description: 'Line one\nLine "two", with a comma',
      status: 'in_progress',
      priority: 'high',
      assigneeId: member.id,
      dueDate: '2026-12-01',
      labels: ['backend', 'needs review'],
      estimateMinutes: 90,
    });
    await createTask(server, member, project.id, { title: '=HYPERLINK("http://evil.example")', labels: ['-1'] });
    await createTask(server, member, project.id, { title: "'=already quoted", description: '@mention-like start', status: 'done' });
    await createTask(server, member, project.id, { title: 'Plain', priority: 'low' });
  });

  after(async () => {
    await server?.close();
  });

  describe('project export', () => {
    it('streams every task as NDJSON in number order, each exactly as the API shows it', async () => {
      const res = await fetch(exportUrl(project.id), { headers: bearer(member) });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'application/x-ndjson');
      const today = new Date().toISOString().slice(0, 10);
      assert.equal(res.headers.get('content-disposition'), `attachment; filename="WEB-tasks-${today}.ndjson"`);
      const lines = ndjsonLines(await res.text());
      assert.deepEqual(
        lines.map((t) => t.key),
        ['WEB-1', 'WEB-2', 'WEB-3', 'WEB-4'],
      );
      for (const line of lines) {
        const api = await server.request('GET', `/api/v1/tasks/${line.id}`, { token: member.accessToken });
        assert.deepEqual(line, api.body.data);
      }
    });

    it('writes CSV with one column per task field and escapes cells a spreadsheet would run as formulas', async () => {
      const res = await fetch(exportUrl(project.id, 'csv'), { headers: bearer(member) });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'text/csv; charset=utf-8');
      assert.match(res.headers.get('content-disposition') ?? '', /^attachment; filename="WEB-tasks-\d{4}-\d{2}-\d{2}\.csv"$/);
      const text = await res.text();
      const [header] = text.split('\n');
      assert.equal(
        header,
        'id,key,number,projectId,workspaceId,title,description,status,priority,assigneeId,reporterId,dueDate,labels,estimateMinutes,position,version,completedAt,createdAt,updatedAt',
      );
      assert.match(text, /,"Line one\nLine ""two"", with a comma",/);
      assert.match(text, /,"backend, needs review",/);
      assert.match(text, /,"'=HYPERLINK\(""http:\/\/evil\.example""\)",/);
      assert.match(text, /,''=already quoted,'@mention-like start,done,/);
    });

    it('lets members export, also from an archived project, but not guests', async () => {
      const archived = await createProject(server, owner, workspace.id);
      await createTask(server, member, archived.id, { title: 'Old work' });
      const archive = await server.request('POST', `/api/v1/projects/${archived.id}/archive`, { token: owner.accessToken });
      assert.equal(archive.status, 200);
      const res = await fetch(exportUrl(archived.id), { headers: bearer(member) });
      assert.equal(res.status, 200);
      assert.equal(ndjsonLines(await res.text()).length, 1);
      assertError(
        await server.request('GET', `/api/v1/projects/${project.id}/export`, { token: projectGuest.accessToken }),
        403,
        'FORBIDDEN',
      );
      assertError(await server.request('GET', `/api/v1/projects/${project.id}/export`, { token: outsider.accessToken }), 404, 'NOT_FOUND');
    });

    it('answers 400 for an unknown format and records each export in the audit trail', async () => {
      assertError(
        await server.request('GET', `/api/v1/projects/${project.id}/export?format=xlsx`, { token: member.accessToken }),
        400,
        'VALIDATION_FAILED',
      );
      const res = await fetch(exportUrl(project.id, 'csv'), { headers: { ...bearer(admin), 'x-request-id': 'export-audit-1' } });
      await res.text();
      const { rows } = await server.sql.query(
        `select actor_id, metadata, request_id from audit_events where action = 'project.exported' and request_id = 'export-audit-1'`,
      );
      assert.deepEqual(rows, [{ actor_id: admin.id, metadata: { format: 'csv' }, request_id: 'export-audit-1' }]);
    });
  });

  describe('workspace export', () => {
    it('writes every record of the workspace as { type, data }, parents before children', async () => {
      const [task] = ndjsonLines(await (await fetch(exportUrl(project.id), { headers: bearer(member) })).text());
      assert.ok(task);
      await server.sql.query(
        `insert into task_comments (id, workspace_id, task_id, author_id, body) values (gen_random_uuid(), $1, $2, $3, 'Looks good')`,
        [workspace.id, task.id, member.id],
      );
      await server.sql.query(
        `insert into task_comments (id, workspace_id, task_id, author_id, body, deleted_at) values (gen_random_uuid(), $1, $2, $3, 'gone', now())`,
        [workspace.id, task.id, member.id],
      );
      await server.sql.query(
        `insert into time_entries (id, workspace_id, project_id, task_id, user_id, started_at, ended_at, minutes, note)
         values (gen_random_uuid(), $1, $2, $3, $4, now() - interval '1 hour', now(), 60, 'pairing')`,
        [workspace.id, project.id, task.id, member.id],
      );
      const res = await fetch(`${server.url}/api/v1/workspaces/${workspace.id}/export`, { headers: bearer(admin) });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'application/x-ndjson');
      assert.match(
        res.headers.get('content-disposition') ?? '',
        new RegExp(`filename="${workspace.slug}-workspace-\\d{4}-\\d{2}-\\d{2}\\.ndjson"`),
      );
      const records = ndjsonLines(await res.text());
      const order = Object.keys(EXPORT_RECORDS);
      assert.deepEqual(order, ['workspace', 'member', 'project', 'projectMember', 'task', 'comment', 'timeEntry']);
      const ranks = records.map((r) => order.indexOf(r.type));
      assert.ok(!ranks.includes(-1), 'every record has a known type');
      assert.deepEqual(
        ranks,
        [...ranks].sort((a, b) => a - b),
        'parents come before children',
      );
      for (const r of records) EXPORT_RECORDS[r.type as keyof typeof EXPORT_RECORDS].parse(r.data);
      const ofType = (type: string) => records.filter((r) => r.type === type).map((r) => r.data);
      assert.deepEqual(
        ofType('workspace').map((w) => [w.id, w.slug]),
        [[workspace.id, workspace.slug]],
      );
      assert.deepEqual(new Set(ofType('member').map((m) => m.userId)), new Set([owner.id, admin.id, member.id, projectGuest.id]));
      assert.ok(ofType('member').every((m) => typeof m.email === 'string' && !Number.isNaN(Date.parse(m.joinedAt))));
      assert.ok(ofType('project').some((p) => p.key === 'WEB' && p.taskCount >= 4));
      assert.ok(ofType('projectMember').some((m) => m.projectId === project.id && m.userId === projectGuest.id));
      const exportedTask = ofType('task').find((t) => t.id === task.id);
      assert.deepEqual(exportedTask, task);
      assert.deepEqual(
        ofType('comment').map((c) => c.body),
        ['Looks good'],
      );
      assert.deepEqual(
        ofType('timeEntry').map((e) => [e.taskId, e.minutes, e.note]),
        [[task.id, 60, 'pairing']],
      );
    });

    it('is for admins and owners only', async () => {
      const path = `/api/v1/workspaces/${workspace.id}/export`;
      assertError(await server.request('GET', path, { token: member.accessToken }), 403, 'FORBIDDEN');
      assertError(await server.request('GET', path, { token: outsider.accessToken }), 404, 'NOT_FOUND', 'Workspace not found');
      assertError(await server.request('GET', path), 401, 'NO_TOKEN');
    });
  });

  describe('import', () => {
    it('reads back what the export wrote, CSV and NDJSON alike, with new consecutive numbers', async () => {
      const originals = ndjsonLines(await (await fetch(exportUrl(project.id), { headers: bearer(member) })).text());
      for (const format of ['csv', 'ndjson'] as const) {
        const target = await createProject(server, owner, workspace.id);
        await createTask(server, member, target.id, { title: 'Already here' });
        const file = await (await fetch(exportUrl(project.id, format), { headers: bearer(member) })).text();
        const res = await importFile(admin, target.id, file, format === 'csv' ? 'text/csv' : 'application/x-ndjson');
        assert.equal(res.status, 200, res.text);
        assert.deepEqual(res.body, { success: true, data: { imported: 4, clearedAssignees: 0, firstNumber: 2, lastNumber: 5 } });
        const stored = (await projectTasks(target.id)).slice(1);
        assert.deepEqual(stored.map(kept), originals.map(kept), `${format} round trip`);
        assert.deepEqual(
          stored.map((t) => t.number),
          [2, 3, 4, 5],
        );
        assert.ok(stored.every((t) => t.reporterId === admin.id));
        const done = stored.find((t) => t.status === 'done');
        assert.equal(done?.completedAt?.toISOString(), originals.find((t) => t.status === 'done')?.completedAt);
      }
    });

    it('keeps assignees who are members of the workspace, clears the others, and records created activity', async () => {
      const target = await createProject(server, owner, workspace.id);
      const file = [{ title: 'Mine', assigneeId: member.id }, { title: 'Theirs', assigneeId: outsider.id }, { title: 'Nobody’s' }]
        .map((t) => JSON.stringify(t))
        .join('\n');
      const res = await importFile(owner, target.id, `${file}\n`);
      assert.deepEqual(res.body.data, { imported: 3, clearedAssignees: 1, firstNumber: 1, lastNumber: 3 });
      assert.deepEqual(
        (await projectTasks(target.id)).map((t) => [t.title, t.assigneeId]),
        [
          ['Mine', member.id],
          ['Theirs', null],
          ['Nobody’s', null],
        ],
      );
      const { rows: activity } = await server.sql.query(
        `select a.verb, a.actor_id, a.changes from activities a join tasks t on t.id = a.task_id where t.project_id = $1 order by t.number`,
        [target.id],
      );
      assert.deepEqual(
        activity.map((a) => [a.verb, a.actor_id]),
        [
          ['created', owner.id],
          ['created', owner.id],
          ['created', owner.id],
        ],
      );
      assert.deepEqual(activity[0].changes, {
        title: { before: '', after: 'Mine' },
        status: { before: null, after: 'todo' },
        priority: { before: null, after: 'none' },
        assigneeId: { before: null, after: member.id },
      });
      const list = await server.request('GET', `/api/v1/projects/${target.id}/tasks`, { token: member.accessToken });
      assert.deepEqual(
        list.body.data.map((t: { key: string }) => t.key),
        [1, 2, 3].map((n) => `${target.key}-${n}`),
      );
      const { rows: audit } = await server.sql.query(
        `select actor_id, metadata from audit_events where action = 'project.imported' and target_id = $1`,
        [target.id],
      );
      assert.deepEqual(audit, [
        { actor_id: owner.id, metadata: { format: 'ndjson', imported: 3, clearedAssignees: 1, firstNumber: 1, lastNumber: 3, via: 'api' } },
      ]);
      const byHand = await createTask(server, owner, target.id, { title: 'Mine', assigneeId: member.id });
      const { rows: handActivity } = await server.sql.query('select changes from activities where task_id = $1', [byHand.id]);
      assert.deepEqual(handActivity[0].changes, activity[0].changes, 'an imported task starts its history like one created by hand');
    });

    it('reports every bad NDJSON row with its line number and imports nothing', async () => {
      const target = await createProject(server, owner, workspace.id);
      const file = [
        '{"title":"Fine"}',
        '{"title":""}',
        'not json',
        '',
        '{"title":"Late","dueDate":"2026-13-45"}',
        '{"title":"Typo","colour":"red","labels":["ok","bad,label"]}',
      ].join('\n');
      const res = await importFile(admin, target.id, file);
      assertError(res, 400, 'VALIDATION_FAILED', /^Validation failed: line 2: title must not be empty; line 3 is not valid JSON; /);
      assert.deepEqual(res.body.details, [
        { path: 'line 2: title', message: 'must not be empty' },
        { path: 'line 3', message: 'is not valid JSON' },
        { path: 'line 5: dueDate', message: 'must be a date (YYYY-MM-DD)' },
        { path: 'line 6: labels.1', message: 'must not contain commas' },
        { path: 'line 6: colour', message: 'is not an allowed field' },
      ]);
      assert.deepEqual(await projectTasks(target.id), []);
      const { rows } = await server.sql.query('select task_seq from projects where id = $1', [target.id]);
      assert.equal(rows[0].task_seq, 0, 'no numbers were used up');
    });

    it('reports bad CSV rows by the line they start on, and unknown columns in the header', async () => {
      const target = await createProject(server, owner, workspace.id);
      const rows = ['title,description,status', '"Two\nlines",fine,todo', 'Short row', '', 'Bad status,,later', 'Good,"x",done'];
      const res = await importFile(admin, target.id, `${rows.join('\n')}\n`, 'text/csv; charset=utf-8');
      assertError(res, 400, 'VALIDATION_FAILED');
      assert.deepEqual(res.body.details, [
        { path: 'line 4', message: 'has 1 cells; the header has 3' },
        { path: 'line 6: status', message: 'must be one of: todo, in_progress, in_review, done, cancelled' },
      ]);
      const header = await importFile(admin, target.id, 'title,colour\nA,red\n', 'text/csv');
      assert.deepEqual(header.body.details, [{ path: 'line 1: colour', message: `is not a column of a task export (${CSV_COLUMNS})` }]);
      const unclosed = await importFile(admin, target.id, 'title\nfine\n"never closed\n', 'text/csv');
      assert.deepEqual(unclosed.body.details, [{ path: 'line 3', message: 'is not valid CSV (Quote Not Closed)' }]);
      assert.deepEqual(await projectTasks(target.id), []);
    });

    it('stops after 100 errors and says there are more', async () => {
      const target = await createProject(server, owner, workspace.id);
      const res = await importFile(admin, target.id, Array.from({ length: 150 }, () => '{}').join('\n'));
      assertError(res, 400, 'VALIDATION_FAILED');
      assert.equal(res.body.details.length, 101);
      assert.deepEqual(res.body.details[99], { path: 'line 100: title', message: 'is required' });
      assert.deepEqual(res.body.details[100], { path: 'file', message: 'has more errors; stopped after the first 100' });
    });

    it('refuses an empty file, an archived project, members, and other media types', async () => {
      const target = await createProject(server, owner, workspace.id);
      assert.deepEqual((await importFile(admin, target.id, '\n\n')).body.details, [{ path: 'file', message: 'contains no tasks' }]);
      assertError(await importFile(member, target.id, '{"title":"x"}'), 403, 'FORBIDDEN');
      assertError(await importFile(outsider, target.id, '{"title":"x"}'), 404, 'NOT_FOUND', 'Project not found');
      const json = await server.request('POST', `/api/v1/projects/${target.id}/import`, {
        token: admin.accessToken,
        body: [{ title: 'x' }],
      });
      assertError(json, 415, 'UNSUPPORTED_MEDIA_TYPE', 'Unsupported media type "application/json"; send application/x-ndjson or text/csv');
      await server.request('POST', `/api/v1/projects/${target.id}/archive`, { token: owner.accessToken });
      assertError(await importFile(admin, target.id, '{"title":"x"}'), 409, 'CONFLICT');
      assert.deepEqual(await projectTasks(target.id), []);
    });

    it('answers 413 for a body over 50 MB', async () => {
      const res = await importFile(admin, project.id, 'x'.repeat(50 * 1024 * 1024 + 1));
      assertError(res, 413, 'PAYLOAD_TOO_LARGE', 'Request body is larger than the limit of 52428800 bytes');
    });

    it('writes nothing when the database refuses a row of a later batch', async () => {
      const target = await createProject(server, owner, workspace.id);
      // A trigger stands in for any failure the validation cannot foresee (a constraint, a lost connection).
      await server.sql.query(`create function refuse_exploding() returns trigger language plpgsql as $$
        begin if new.title = 'Explodes' then raise exception 'refused'; end if; return new; end $$`);
      await server.sql.query('create trigger refuse_exploding before insert on tasks for each row execute function refuse_exploding()');
      try {
        const file = Array.from({ length: 1001 }, (_, i) => JSON.stringify({ title: i === 1000 ? 'Explodes' : `Row ${i + 1}` })).join('\n');
        assertError(await importFile(admin, target.id, file), 500, 'INTERNAL', 'Internal server error');
      } finally {
        await server.sql.query('drop trigger refuse_exploding on tasks');
        await server.sql.query('drop function refuse_exploding()');
      }
      assert.deepEqual(await projectTasks(target.id), [], 'the first batch of 1000 was rolled back too');
      const { rows } = await server.sql.query('select task_seq from projects where id = $1', [target.id]);
      assert.equal(rows[0].task_seq, 0);
      const ok = await importFile(admin, target.id, '{"title":"After the failure"}');
      assert.deepEqual(ok.body.data, { imported: 1, clearedAssignees: 0, firstNumber: 1, lastNumber: 1 });
    });
  });

  describe('the CLI: tandem tasks import', () => {
    const runCli = (args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        const env = {
          ...process.env,
          NODE_ENV: 'test',
          DATABASE_URL: String(server.sql.options.connectionString),
          DATA_DIR: scratch,
          JWT_SECRET: server.jwtSecret,
          LOG_LEVEL: 'warn',
        };
        execFile(
          process.execPath,
          ['--import', 'tsx', path.join(root, 'src', 'cli.ts'), 'tasks', 'import', ...args],
          { cwd: root, env },
          (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
        );
      });
    let scratch: string;
    before(() => {
      scratch = mkdtempSync(path.join(os.tmpdir(), 'tandem-import-'));
    });
    after(() => rmSync(scratch, { recursive: true, force: true }));

    it('imports a file as the workspace owner by default, with progress on stderr', async () => {
      const target = await createProject(server, owner, workspace.id);
      const file = path.join(scratch, 'tasks.ndjson');
      writeFileSync(file, ['{"title":"One"}', JSON.stringify({ title: 'Two', assigneeId: member.id }), '{"title":"Three"}'].join('\n'));
      const run = await runCli(['--project', target.id, '--file', file]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stdout, `imported 3 tasks as ${owner.email}, numbers 1 to 3\n`);
      assert.match(run.stderr, /^validating 100% 3 rows\nimporting 100% 3 rows\n$/);
      assert.deepEqual(
        (await projectTasks(target.id)).map((t) => [t.number, t.title, t.assigneeId, t.reporterId]),
        [
          [1, 'One', null, owner.id],
          [2, 'Two', member.id, owner.id],
          [3, 'Three', null, owner.id],
        ],
      );
      const { rows } = await server.sql.query(
        `select metadata->>'via' as via from audit_events where action = 'project.imported' and target_id = $1`,
        [target.id],
      );
      assert.deepEqual(rows, [{ via: 'cli' }]);
    });

    it('lists the bad rows and imports nothing; refuses a member', async () => {
      const target = await createProject(server, owner, workspace.id);
      const file = path.join(scratch, 'bad.csv');
      writeFileSync(file, 'title,priority\nFine,low\n,high\nAlso fine,extreme\n');
      const bad = await runCli(['--project', target.id, '--file', file, '--as', admin.email]);
      assert.equal(bad.code, 65);
      assert.match(
        bad.stderr,
        /tandem: nothing imported: the file has invalid rows\n {2}line 3: title must not be empty\n {2}line 4: priority must be one of: none, low, medium, high, urgent\n$/,
      );
      assert.deepEqual(await projectTasks(target.id), []);
      writeFileSync(file, 'title\nFine\n');
      const refused = await runCli(['--project', target.id, '--file', file, '--as', member.email]);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /tandem: Insufficient permissions\.\n$/);
      assert.deepEqual(await projectTasks(target.id), []);
    });
  });
});
