// Projects: keys, lists (guests see only their projects), conditional reads and writes,
// archive (read-only) and unarchive, delete with confirmation, project members.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { assertError, assertStatus, auditRows, invitationLinkToken, lastInvitationToken, startApiServer } from './helpers/api.js';
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
before(async () => {
  server = await startApiServer();
});
after(() => server.close());

async function team() {
  const owner = await createUser(server);
  const ws = await createWorkspace(server, owner);
  const admin = await addWorkspaceMember(server, owner, ws.id, 'admin');
  const member = await addWorkspaceMember(server, owner, ws.id, 'member');
  const guest = await addWorkspaceMember(server, owner, ws.id, 'guest');
  return { owner, ws, admin, member, guest };
}

const get = (user: RegisteredUser, path: string, headers?: Record<string, string>) =>
  server.request('GET', path, { token: user.accessToken, headers });
const createBody = (user: RegisteredUser, workspaceId: string, body: unknown) =>
  server.request('POST', `/api/v1/workspaces/${workspaceId}/projects`, { token: user.accessToken, body });
/** Invites an existing user and answers the link's token. */
async function inviteExisting(by: RegisteredUser, workspaceId: string, user: RegisteredUser, role: string) {
  const previous = lastInvitationToken(server, user.email);
  assertStatus(
    await server.request('POST', `/api/v1/workspaces/${workspaceId}/invitations`, {
      token: by.accessToken,
      body: { email: user.email, role },
    }),
    201,
  );
  return { token: await invitationLinkToken(server, user.email, previous) };
}

const ids = (res: { body: { data: { id: string }[] } }) => res.body.data.map((p) => p.id).sort();

describe('creating projects', () => {
  it('lets admins create a project with a key: 201, Location, ETag, audit row', async () => {
    const { ws, admin } = await team();
    const res = await createBody(admin, ws.id, { key: 'WEB', name: '  Website  ', description: '# The site' });
    assertStatus(res, 201);
    const p = res.body.data;
    assert.equal(res.headers.get('location'), `/api/v1/projects/${p.id}`);
    assert.equal(res.headers.get('etag'), '"1"');
    assert.deepEqual(
      { ...p, id: undefined, createdAt: undefined, updatedAt: undefined },
      {
        id: undefined,
        workspaceId: ws.id,
        key: 'WEB',
        name: 'Website',
        description: '# The site',
        archived: false,
        archivedAt: null,
        taskCount: 0,
        role: 'admin',
        createdAt: undefined,
        updatedAt: undefined,
      },
    );
    assert.deepEqual((await auditRows(server, 'project.created', p.id))[0]?.metadata, { workspaceId: ws.id, key: 'WEB' });
  });

  it('takes keys of 2 to 10 upper-case letters only', async () => {
    const { ws, owner } = await team();
    for (const key of ['AB', 'ABCDEFGHIJ']) assertStatus(await createBody(owner, ws.id, { key, name: key }), 201);
    for (const key of ['A', 'ABCDEFGHIJK', 'web', 'WE1', 'WEB-', 'ÄÖ', '']) {
      assertError(await createBody(owner, ws.id, { key, name: 'Bad' }), 400, 'VALIDATION_FAILED');
    }
    assertError(await createBody(owner, ws.id, { name: 'No key' }), 400, 'VALIDATION_FAILED');
    assertError(await createBody(owner, ws.id, { key: 'OK', name: 'X', archivedAt: null }), 400, 'VALIDATION_FAILED');
  });

  it('keeps keys unique per workspace (409) but not across workspaces', async () => {
    const { ws, owner } = await team();
    await createProject(server, owner, ws.id, { key: 'OPS' });
    assertError(
      await createBody(owner, ws.id, { key: 'OPS', name: 'Again' }),
      409,
      'CONFLICT',
      'A project with this key already exists in the workspace',
    );
    const other = await createWorkspace(server, owner);
    assertStatus(await createBody(owner, other.id, { key: 'OPS', name: 'Elsewhere' }), 201);
  });

  it('refuses members (403) and people outside the workspace (404)', async () => {
    const { ws, member } = await team();
    assertError(await createBody(member, ws.id, { key: 'MINE', name: 'Mine' }), 403, 'FORBIDDEN');
    const outsider = await createUser(server);
    assertError(await createBody(outsider, ws.id, { key: 'MINE', name: 'Mine' }), 404, 'NOT_FOUND', 'Workspace not found');
  });
});

describe('listing and reading projects', () => {
  it('shows a guest only the projects they were added to, and everyone else all of them', async () => {
    const { ws, owner, member, guest } = await team();
    const seen = await createProject(server, owner, ws.id);
    const hidden = await createProject(server, owner, ws.id);
    await addProjectMember(server, owner, seen.id, guest.id);
    const guestList = await get(guest, `/api/v1/workspaces/${ws.id}/projects`);
    assertStatus(guestList, 200);
    assert.deepEqual(ids(guestList), [seen.id]);
    assert.equal(guestList.body.pagination.total, 1);
    assert.deepEqual(ids(await get(member, `/api/v1/workspaces/${ws.id}/projects`)), [seen.id, hidden.id].sort());
    assertError(await get(guest, `/api/v1/projects/${hidden.id}`), 404, 'NOT_FOUND', 'Project not found');
    assertStatus(await get(guest, `/api/v1/projects/${seen.id}`), 200);
  });

  it('filters by archived state and by name or key, and pages by name', async () => {
    const { ws, owner } = await team();
    const alpha = await createProject(server, owner, ws.id, { key: 'ALPHA', name: 'Alpha site' });
    const beta = await createProject(server, owner, ws.id, { key: 'BETA', name: 'Beta app' });
    const gamma = await createProject(server, owner, ws.id, { key: 'GAMMA', name: 'Gamma site' });
    await server.request('POST', `/api/v1/projects/${beta.id}/archive`, { token: owner.accessToken });
    const list = (q: string) => get(owner, `/api/v1/workspaces/${ws.id}/projects${q}`);
    assert.deepEqual(ids(await list('?archived=true')), [beta.id]);
    assert.deepEqual(ids(await list('?archived=false')), [alpha.id, gamma.id].sort());
    assert.deepEqual(ids(await list('')), [alpha.id, beta.id, gamma.id].sort());
    assert.deepEqual(ids(await list('?q=site')), [alpha.id, gamma.id].sort());
    assert.deepEqual(ids(await list('?q=bet')), [beta.id]);
    const page = await list('?limit=2&page=2');
    assert.deepEqual(
      page.body.data.map((p: { name: string }) => p.name),
      ['Gamma site'],
    );
    assert.deepEqual(page.body.pagination, { page: 2, limit: 2, total: 3, totalPages: 2 });
    assertError(await list('?archived=yes'), 400, 'VALIDATION_FAILED');
    assertError(await list('?owner=me'), 400, 'VALIDATION_FAILED');
  });

  it('answers one project with an ETag and 304, and 404 outside the workspace', async () => {
    const { ws, owner, member } = await team();
    const project = await createProject(server, owner, ws.id);
    const res = await get(member, `/api/v1/projects/${project.id}`);
    assertStatus(res, 200);
    assert.equal(res.body.data.role, 'member');
    const etag = res.headers.get('etag') ?? '';
    assert.equal((await get(member, `/api/v1/projects/${project.id}`, { 'if-none-match': etag })).status, 304);
    const outsider = await createUser(server);
    assertError(await get(outsider, `/api/v1/projects/${project.id}`), 404, 'NOT_FOUND', 'Project not found');
    assertError(await get(owner, `/api/v1/projects/${randomUUID()}`), 404, 'NOT_FOUND');
    assertError(await get(owner, '/api/v1/projects/123'), 400, 'INVALID_ID', 'Invalid project ID');
  });
});

describe('changing projects', () => {
  it('renames with If-Match (412 when stale) and never changes the key', async () => {
    const { ws, owner, admin, member } = await team();
    const project = await createProject(server, owner, ws.id, { key: 'KEEP' });
    const patch = (user: RegisteredUser, body: unknown, etag?: string) =>
      server.request('PATCH', `/api/v1/projects/${project.id}`, {
        token: user.accessToken,
        body,
        headers: etag ? { 'if-match': etag } : {},
      });
    const res = await patch(admin, { name: 'Renamed', description: 'Now with text' }, '"1"');
    assertStatus(res, 200);
    assert.equal(res.body.data.name, 'Renamed');
    assert.equal(res.body.data.description, 'Now with text');
    assert.equal(res.headers.get('etag'), '"2"');
    assertError(await patch(admin, { name: 'Lost' }, '"1"'), 412, 'PRECONDITION_FAILED');
    assertError(await patch(owner, { key: 'NEW' }), 400, 'VALIDATION_FAILED');
    assertError(await patch(owner, {}), 400, 'VALIDATION_FAILED');
    assertError(await patch(member, { name: 'Member edit' }), 403, 'FORBIDDEN');
    const stored = await get(owner, `/api/v1/projects/${project.id}`);
    assert.equal(stored.body.data.name, 'Renamed');
    assert.equal(stored.body.data.key, 'KEEP');
  });

  it('makes an archived project read-only: task writes answer 409 until it is unarchived', async () => {
    const { ws, owner, member } = await team();
    const project = await createProject(server, owner, ws.id);
    const task = await createTask(server, member, project.id);
    const archived = await server.request('POST', `/api/v1/projects/${project.id}/archive`, { token: owner.accessToken });
    assertStatus(archived, 200);
    assert.equal(archived.body.data.archived, true);
    assert.ok(archived.body.data.archivedAt);

    const tok = { token: member.accessToken };
    const writes = [
      () => server.request('POST', `/api/v1/projects/${project.id}/tasks`, { ...tok, body: { title: 'Nope' } }),
      () => server.request('PATCH', `/api/v1/tasks/${task.id}`, { ...tok, body: { title: 'Nope' } }),
      () => server.request('POST', `/api/v1/tasks/${task.id}/move`, { ...tok, body: { status: 'done' } }),
      () =>
        server.request('POST', `/api/v1/projects/${project.id}/tasks/bulk-update`, {
          ...tok,
          body: { ids: [task.id], set: { status: 'done' } },
        }),
      () => server.request('DELETE', `/api/v1/tasks/${task.id}`, tok),
      () => server.request('PATCH', `/api/v1/projects/${project.id}`, { token: owner.accessToken, body: { name: 'Nope' } }),
    ];
    for (const write of writes) assertError(await write(), 409, 'CONFLICT', 'The project is archived and read-only: unarchive it first.');
    assertStatus(await get(member, `/api/v1/tasks/${task.id}`), 200);
    assertStatus(await get(member, `/api/v1/projects/${project.id}/tasks`), 200);
    const { rows } = await server.sql.query('select title, version from tasks where id = $1', [task.id]);
    assert.deepEqual(rows[0], { title: task.title, version: 1 });

    const again = await server.request('POST', `/api/v1/projects/${project.id}/archive`, { token: owner.accessToken });
    assertStatus(again, 200);
    assert.equal(again.body.data.archivedAt, archived.body.data.archivedAt, 'archiving twice changes nothing');
    const unarchived = await server.request('POST', `/api/v1/projects/${project.id}/unarchive`, { token: owner.accessToken });
    assertStatus(unarchived, 200);
    assert.equal(unarchived.body.data.archived, false);
    assert.equal(unarchived.body.data.archivedAt, null);
    for (const write of writes.slice(0, 2)) assert.ok([200, 201].includes((await write()).status));
    assert.equal((await auditRows(server, 'project.archived', project.id)).length, 1);
    assert.equal((await auditRows(server, 'project.unarchived', project.id)).length, 1);
  });

  it('lets only admins archive, and honours If-Match', async () => {
    const { ws, owner, member } = await team();
    const project = await createProject(server, owner, ws.id);
    assertError(await server.request('POST', `/api/v1/projects/${project.id}/archive`, { token: member.accessToken }), 403, 'FORBIDDEN');
    const stale = await server.request('POST', `/api/v1/projects/${project.id}/archive`, {
      token: owner.accessToken,
      headers: { 'if-match': '"9"' },
    });
    assertError(stale, 412, 'PRECONDITION_FAILED');
    assert.equal((await get(owner, `/api/v1/projects/${project.id}`)).body.data.archived, false);
  });

  it('deletes a project with its key as confirmation, and its tasks with it', async () => {
    const { ws, owner, admin, member } = await team();
    const project = await createProject(server, owner, ws.id, { key: 'GONE' });
    await createTask(server, member, project.id);
    const del = (user: RegisteredUser, body: unknown, headers?: Record<string, string>) =>
      server.request('DELETE', `/api/v1/projects/${project.id}`, { token: user.accessToken, body, headers });
    assertError(await del(member, { confirm: 'GONE' }), 403, 'FORBIDDEN');
    assertError(await del(admin, { confirm: 'gone' }), 400, 'VALIDATION_FAILED', /confirm must repeat the project key \("GONE"\)/);
    assertError(await del(admin, {}), 400, 'VALIDATION_FAILED');
    assertError(await del(admin, { confirm: 'GONE' }, { 'if-match': '"5"' }), 412, 'PRECONDITION_FAILED');
    const res = await del(admin, { confirm: 'GONE' });
    assertStatus(res, 200);
    assert.deepEqual(res.body, { success: true, message: 'Project deleted successfully' });
    const { rows } = await server.sql.query('select count(*)::int as n from tasks where project_id = $1', [project.id]);
    assert.equal(rows[0]?.n, 0);
    assertError(await get(owner, `/api/v1/projects/${project.id}`), 404, 'NOT_FOUND');
    assert.deepEqual((await auditRows(server, 'project.deleted', project.id))[0]?.metadata, { workspaceId: ws.id, key: 'GONE' });
  });
});

describe('project members', () => {
  it('adds workspace members to a project, which lets a guest see it, and removes them again', async () => {
    const { ws, owner, admin, guest } = await team();
    const project = await createProject(server, owner, ws.id);
    const path = `/api/v1/projects/${project.id}/members`;
    assertError(await get(guest, `/api/v1/projects/${project.id}`), 404, 'NOT_FOUND');
    const added = await server.request('POST', path, { token: admin.accessToken, body: { userId: guest.id } });
    assertStatus(added, 201);
    assert.deepEqual(added.body, { success: true, message: 'Project member added successfully' });
    assertStatus(await get(guest, `/api/v1/projects/${project.id}`), 200);
    const list = await get(guest, path);
    assert.deepEqual(
      list.body.data.map((m: { userId: string; email: string }) => [m.userId, m.email]),
      [[guest.id, guest.email]],
    );
    assertError(await server.request('POST', path, { token: admin.accessToken, body: { userId: guest.id } }), 409, 'CONFLICT');

    assertStatus(await server.request('DELETE', `${path}/${guest.id}`, { token: admin.accessToken }), 200);
    assertError(await get(guest, `/api/v1/projects/${project.id}`), 404, 'NOT_FOUND');
    assertError(
      await server.request('DELETE', `${path}/${guest.id}`, { token: admin.accessToken }),
      404,
      'NOT_FOUND',
      'Project member not found',
    );
  });

  it('takes only members of the workspace, and only from admins', async () => {
    const { ws, owner, member } = await team();
    const project = await createProject(server, owner, ws.id);
    const path = `/api/v1/projects/${project.id}/members`;
    const stranger = await createUser(server);
    assertError(
      await server.request('POST', path, { token: owner.accessToken, body: { userId: stranger.id } }),
      400,
      'VALIDATION_FAILED',
      /userId must be a member of the workspace/,
    );
    assertError(await server.request('POST', path, { token: owner.accessToken, body: { userId: randomUUID() } }), 400, 'VALIDATION_FAILED');
    assertError(await server.request('POST', path, { token: owner.accessToken, body: { userId: 'nope' } }), 400, 'VALIDATION_FAILED');
    assertError(await server.request('POST', path, { token: member.accessToken, body: { userId: member.id } }), 403, 'FORBIDDEN');
    assert.equal((await get(owner, path)).body.pagination.total, 0);
  });

  it('forgets project memberships when someone leaves the workspace', async () => {
    const { ws, owner, guest } = await team();
    const project = await createProject(server, owner, ws.id);
    await addProjectMember(server, owner, project.id, guest.id);
    assertStatus(await server.request('DELETE', `/api/v1/workspaces/${ws.id}/members/${guest.id}`, { token: guest.accessToken }), 200);
    assert.equal((await get(owner, `/api/v1/projects/${project.id}/members`)).body.pagination.total, 0);
    const { rows } = await server.sql.query('select count(*)::int as n from project_members where user_id = $1', [guest.id]);
    assert.equal(rows[0]?.n, 0);
  });

  it('keeps project memberships in other workspaces when someone leaves one', async () => {
    const { ws, owner, guest } = await team();
    const other = await createWorkspace(server, owner);
    const otherProject = await createProject(server, owner, other.id);
    const { token } = await inviteExisting(owner, other.id, guest, 'guest');
    assertStatus(await server.request('POST', '/api/v1/invitations/accept', { token: guest.accessToken, body: { token } }), 200);
    await addProjectMember(server, owner, otherProject.id, guest.id);
    assertStatus(await server.request('DELETE', `/api/v1/workspaces/${ws.id}/members/${guest.id}`, { token: guest.accessToken }), 200);
    assertStatus(await get(guest, `/api/v1/projects/${otherProject.id}`), 200);
  });
});
