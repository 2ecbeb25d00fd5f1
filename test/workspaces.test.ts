// Workspaces: create, list, read, rename, delete; members and their roles; the last owner.
// Invitations have their own file (invitations.test.ts).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { assertError, assertStatus, auditRows, startApiServer } from './helpers/api.js';
import { addWorkspaceMember, createProject, createTask, createUser, createWorkspace, type RegisteredUser } from './helpers/factories.js';
import type { TestServer } from './helpers/server.js';

let server: TestServer;
before(async () => {
  server = await startApiServer();
});
after(() => server.close());

const get = (user: RegisteredUser, path: string, headers?: Record<string, string>) =>
  server.request('GET', path, { token: user.accessToken, headers });

async function count(table: string, column: string, value: string): Promise<number> {
  const { rows } = await server.sql.query<{ n: number }>(`select count(*)::int as n from ${table} where ${column} = $1`, [value]);
  return rows[0]?.n ?? 0;
}

describe('creating workspaces', () => {
  it('makes the creator owner, derives the slug from the name and answers 201 with Location and ETag', async () => {
    const owner = await createUser(server);
    const res = await server.request('POST', '/api/v1/workspaces', {
      token: owner.accessToken,
      body: { name: '  Équipe Produit & Design!  ' },
    });
    assertStatus(res, 201);
    const ws = res.body.data;
    assert.deepEqual(Object.keys(ws).sort(), ['createdAt', 'id', 'name', 'role', 'slug', 'updatedAt']);
    assert.equal(ws.name, 'Équipe Produit & Design!');
    assert.equal(ws.slug, 'equipe-produit-design');
    assert.equal(ws.role, 'owner');
    assert.equal(res.headers.get('location'), `/api/v1/workspaces/${ws.id}`);
    assert.equal(res.headers.get('etag'), '"1"');
    const { rows } = await server.sql.query('select user_id, role from workspace_members where workspace_id = $1', [ws.id]);
    assert.deepEqual(rows, [{ user_id: owner.id, role: 'owner' }]);
    const audit = await auditRows(server, 'workspace.created', ws.id);
    assert.equal(audit.length, 1);
    assert.equal(audit[0]?.actor_id, owner.id);
  });

  it('gives a derived slug a suffix when the plain one is taken', async () => {
    const a = await createUser(server);
    const b = await createUser(server);
    const first = await createWorkspace(server, a, 'Same Name');
    const second = await createWorkspace(server, b, 'Same Name');
    assert.equal(first.slug, 'same-name');
    assert.match(second.slug, /^same-name-[a-z0-9]+$/);
  });

  it('takes an explicit slug as given and answers 409 when it is taken', async () => {
    const owner = await createUser(server);
    const res = await server.request('POST', '/api/v1/workspaces', { token: owner.accessToken, body: { name: 'Acme', slug: 'acme-hq' } });
    assertStatus(res, 201);
    assert.equal(res.body.data.slug, 'acme-hq');
    const again = await server.request('POST', '/api/v1/workspaces', {
      token: owner.accessToken,
      body: { name: 'Other', slug: 'acme-hq' },
    });
    assertError(again, 409, 'CONFLICT', 'Slug is already taken');
    assert.equal(await count('workspaces', 'name', 'Other'), 0);
  });

  it('refuses a missing or blank name, a malformed slug and fields a caller may not set', async () => {
    const owner = await createUser(server);
    for (const body of [
      {},
      { name: '   ' },
      { name: 'x'.repeat(101) },
      { name: 'A', slug: '-a' },
      { name: 'A', slug: 'Upper' },
      { name: 'A', role: 'owner' },
    ]) {
      const res = await server.request('POST', '/api/v1/workspaces', { token: owner.accessToken, body });
      assertError(res, 400, 'VALIDATION_FAILED');
    }
    assertError(await server.request('POST', '/api/v1/workspaces', { body: { name: 'Anon' } }), 401, 'NO_TOKEN');
  });
});

describe('reading workspaces', () => {
  it('lists only the workspaces the caller belongs to, with their role in each', async () => {
    const alice = await createUser(server);
    const bob = await createUser(server);
    const mine = await createWorkspace(server, alice, 'Alpha');
    const theirs = await createWorkspace(server, bob, 'Beta');
    await createWorkspace(server, bob, 'Gamma');
    const inviter = await createUser(server);
    const joined = await createWorkspace(server, inviter, 'Delta');
    const carol = await addWorkspaceMember(server, inviter, joined.id, 'guest');
    await addWorkspaceMember(server, alice, mine.id, 'member');

    const res = await get(alice, '/api/v1/workspaces');
    assertStatus(res, 200);
    assert.deepEqual(
      res.body.data.map((w: { id: string; role: string }) => [w.id, w.role]),
      [[mine.id, 'owner']],
    );
    assert.deepEqual(res.body.pagination, { page: 1, limit: 20, total: 1, totalPages: 1 });
    const carolsList = await get(carol, '/api/v1/workspaces');
    assert.deepEqual(
      carolsList.body.data.map((w: { id: string; role: string }) => [w.id, w.role]),
      [[joined.id, 'guest']],
    );
    assert.ok(!carolsList.body.data.some((w: { id: string }) => w.id === theirs.id));
  });

  it('pages the list by name', async () => {
    const owner = await createUser(server);
    for (const name of ['Cherry', 'Apple', 'Banana']) await createWorkspace(server, owner, name);
    const page2 = await get(owner, '/api/v1/workspaces?page=2&limit=2');
    assert.deepEqual(
      page2.body.data.map((w: { name: string }) => w.name),
      ['Cherry'],
    );
    assert.deepEqual(page2.body.pagination, { page: 2, limit: 2, total: 3, totalPages: 2 });
    assertError(await get(owner, '/api/v1/workspaces?limit=101'), 400, 'VALIDATION_FAILED');
  });

  it('answers one workspace with an ETag, 304 to If-None-Match, and 404 to anyone outside it', async () => {
    const owner = await createUser(server);
    const ws = await createWorkspace(server, owner);
    const guest = await addWorkspaceMember(server, owner, ws.id, 'guest');
    const res = await get(guest, `/api/v1/workspaces/${ws.id}`);
    assertStatus(res, 200);
    assert.equal(res.body.data.role, 'guest');
    const etag = res.headers.get('etag');
    assert.equal(etag, '"1"');
    const cached = await get(guest, `/api/v1/workspaces/${ws.id}`, { 'if-none-match': etag ?? '' });
    assert.equal(cached.status, 304);
    assert.equal(cached.text, '');

    const outsider = await createUser(server);
    assertError(await get(outsider, `/api/v1/workspaces/${ws.id}`), 404, 'NOT_FOUND', 'Workspace not found');
    assertError(await get(owner, `/api/v1/workspaces/${randomUUID()}`), 404, 'NOT_FOUND');
    assertError(await get(owner, '/api/v1/workspaces/not-a-uuid'), 400, 'INVALID_ID', 'Invalid workspace ID');
  });
});

describe('renaming workspaces', () => {
  it('renames with a matching If-Match, bumps the ETag and writes an audit row', async () => {
    const owner = await createUser(server);
    const ws = await createWorkspace(server, owner, 'Old name');
    const admin = await addWorkspaceMember(server, owner, ws.id, 'admin');
    const res = await server.request('PATCH', `/api/v1/workspaces/${ws.id}`, {
      token: admin.accessToken,
      headers: { 'if-match': '"1"' },
      body: { name: 'New name', slug: `renamed-${ws.slug}` },
    });
    assertStatus(res, 200);
    assert.equal(res.body.data.name, 'New name');
    assert.equal(res.body.data.slug, `renamed-${ws.slug}`);
    assert.equal(res.body.data.role, 'admin');
    assert.equal(res.headers.get('etag'), '"2"');
    const seen = await get(owner, `/api/v1/workspaces/${ws.id}`);
    assert.equal(seen.body.data.name, 'New name');
    const audit = await auditRows(server, 'workspace.updated', ws.id);
    assert.equal(audit[0]?.actor_id, admin.id);
    assert.deepEqual(audit[0]?.metadata, { fields: ['name', 'slug'] });
  });

  it('answers 412 to a stale If-Match and changes nothing', async () => {
    const owner = await createUser(server);
    const ws = await createWorkspace(server, owner, 'Stable');
    await server.request('PATCH', `/api/v1/workspaces/${ws.id}`, { token: owner.accessToken, body: { name: 'Stable 2' } });
    const stale = await server.request('PATCH', `/api/v1/workspaces/${ws.id}`, {
      token: owner.accessToken,
      headers: { 'if-match': '"1"' },
      body: { name: 'Lost update' },
    });
    assertError(stale, 412, 'PRECONDITION_FAILED');
    assert.equal((await get(owner, `/api/v1/workspaces/${ws.id}`)).body.data.name, 'Stable 2');
  });

  it('refuses members, empty changes and a taken slug', async () => {
    const owner = await createUser(server);
    const ws = await createWorkspace(server, owner);
    const other = await createWorkspace(server, owner);
    const member = await addWorkspaceMember(server, owner, ws.id, 'member');
    const patch = (user: RegisteredUser, body: unknown) =>
      server.request('PATCH', `/api/v1/workspaces/${ws.id}`, { token: user.accessToken, body });
    assertError(await patch(member, { name: 'Mine now' }), 403, 'FORBIDDEN', 'Insufficient permissions.');
    assertError(await patch(owner, {}), 400, 'VALIDATION_FAILED');
    assertError(await patch(owner, { createdBy: member.id }), 400, 'VALIDATION_FAILED');
    assertError(await patch(owner, { slug: other.slug }), 409, 'CONFLICT');
  });
});

describe('deleting workspaces', () => {
  it('is for owners only, needs the slug as confirmation and removes everything in the workspace', async () => {
    const owner = await createUser(server);
    const ws = await createWorkspace(server, owner, 'Doomed');
    const admin = await addWorkspaceMember(server, owner, ws.id, 'admin');
    const project = await createProject(server, owner, ws.id);
    await createTask(server, owner, project.id);
    await server.request('POST', `/api/v1/workspaces/${ws.id}/invitations`, {
      token: owner.accessToken,
      body: { email: 'later@example.com' },
    });
    const del = (user: RegisteredUser, body: unknown, headers?: Record<string, string>) =>
      server.request('DELETE', `/api/v1/workspaces/${ws.id}`, { token: user.accessToken, body, headers });

    assertError(await del(admin, { confirm: ws.slug }), 403, 'FORBIDDEN');
    assertError(await del(owner, { confirm: 'doomed-typo' }), 400, 'VALIDATION_FAILED', /confirm must repeat the workspace's slug/);
    assertError(await del(owner, {}), 400, 'VALIDATION_FAILED');
    assertError(await del(owner, { confirm: ws.slug }, { 'if-match': '"7"' }), 412, 'PRECONDITION_FAILED');
    assert.equal(await count('workspaces', 'id', ws.id), 1);

    const res = await del(owner, { confirm: ws.slug }, { 'if-match': '"1"' });
    assertStatus(res, 200);
    assert.deepEqual(res.body, { success: true, message: 'Workspace deleted successfully' });
    for (const table of ['workspace_members', 'invitations', 'projects', 'tasks', 'activities']) {
      assert.equal(await count(table, 'workspace_id', ws.id), 0, `${table} rows are gone`);
    }
    assertError(await get(owner, `/api/v1/workspaces/${ws.id}`), 404, 'NOT_FOUND');
    const audit = await auditRows(server, 'workspace.deleted', ws.id);
    assert.deepEqual(audit[0]?.metadata, { name: 'Doomed', slug: ws.slug });
  });
});

describe('members and roles', () => {
  async function team() {
    const owner = await createUser(server);
    const ws = await createWorkspace(server, owner);
    const admin = await addWorkspaceMember(server, owner, ws.id, 'admin');
    const member = await addWorkspaceMember(server, owner, ws.id, 'member');
    const guest = await addWorkspaceMember(server, owner, ws.id, 'guest');
    return { owner, ws, admin, member, guest };
  }
  const setRole = (ws: { id: string }, actor: RegisteredUser, userId: string, role: string) =>
    server.request('PATCH', `/api/v1/workspaces/${ws.id}/members/${userId}`, { token: actor.accessToken, body: { role } });
  const remove = (ws: { id: string }, actor: RegisteredUser, userId: string) =>
    server.request('DELETE', `/api/v1/workspaces/${ws.id}/members/${userId}`, { token: actor.accessToken });
  const roleOf = async (ws: { id: string }, userId: string) =>
    (await server.sql.query('select role from workspace_members where workspace_id = $1 and user_id = $2', [ws.id, userId])).rows[0]?.role;

  it('lists members with their roles to everyone in the workspace, filtered by role', async () => {
    const { owner, ws, admin, member, guest } = await team();
    const res = await get(guest, `/api/v1/workspaces/${ws.id}/members`);
    assertStatus(res, 200);
    const byId = new Map(res.body.data.map((m: { userId: string; role: string }) => [m.userId, m.role]));
    assert.deepEqual(
      Object.fromEntries(byId),
      Object.fromEntries([
        [owner.id, 'owner'],
        [admin.id, 'admin'],
        [member.id, 'member'],
        [guest.id, 'guest'],
      ]),
    );
    assert.deepEqual(Object.keys(res.body.data[0]).sort(), ['email', 'joinedAt', 'name', 'role', 'userId']);
    assert.equal(res.body.pagination.total, 4);
    const admins = await get(member, `/api/v1/workspaces/${ws.id}/members?role=admin`);
    assert.deepEqual(
      admins.body.data.map((m: { userId: string }) => m.userId),
      [admin.id],
    );
    assertError(await get(member, `/api/v1/workspaces/${ws.id}/members?role=boss`), 400, 'VALIDATION_FAILED');
  });

  it('lets an admin change members and admins, but neither touch an owner nor make one', async () => {
    const { owner, ws, admin, member } = await team();
    assertStatus(await setRole(ws, admin, member.id, 'admin'), 200);
    assert.equal(await roleOf(ws, member.id), 'admin');
    assertStatus(await setRole(ws, admin, member.id, 'guest'), 200);
    assert.equal(await roleOf(ws, member.id), 'guest');
    assertError(await setRole(ws, admin, member.id, 'owner'), 403, 'FORBIDDEN');
    assertError(await setRole(ws, admin, admin.id, 'owner'), 403, 'FORBIDDEN');
    assertError(await setRole(ws, admin, owner.id, 'member'), 403, 'FORBIDDEN');
    assert.equal(await roleOf(ws, owner.id), 'owner');
    const audit = await auditRows(server, 'workspace.member_role_changed', member.id);
    assert.deepEqual(
      audit.map((a) => a.metadata),
      [
        { workspaceId: ws.id, from: 'member', to: 'admin' },
        { workspaceId: ws.id, from: 'admin', to: 'guest' },
      ],
    );
  });

  it('lets an owner make and unmake owners, but never demote the last one', async () => {
    const { owner, ws, admin } = await team();
    assertError(await setRole(ws, owner, owner.id, 'admin'), 409, 'CONFLICT', /at least one owner/);
    assert.equal(await roleOf(ws, owner.id), 'owner');
    assertStatus(await setRole(ws, owner, admin.id, 'owner'), 200);
    assertStatus(await setRole(ws, admin, owner.id, 'member'), 200);
    assert.equal(await roleOf(ws, owner.id), 'member');
    assertError(await setRole(ws, admin, admin.id, 'admin'), 409, 'CONFLICT');
  });

  it('refuses role changes by members and guests, unknown people and bad roles', async () => {
    const { owner, ws, member, guest } = await team();
    assertError(await setRole(ws, member, guest.id, 'member'), 403, 'FORBIDDEN');
    assertError(await setRole(ws, guest, guest.id, 'member'), 403, 'FORBIDDEN');
    assertError(await setRole(ws, owner, randomUUID(), 'member'), 404, 'NOT_FOUND', 'Member not found');
    assertError(await setRole(ws, owner, member.id, 'superuser'), 400, 'VALIDATION_FAILED');
    const stranger = await createUser(server);
    assertError(await setRole(ws, stranger, member.id, 'admin'), 404, 'NOT_FOUND', 'Workspace not found');
  });

  it('lets admins remove members but not owners, and the removed person loses access', async () => {
    const { owner, ws, admin, member } = await team();
    assertError(await remove(ws, admin, owner.id), 403, 'FORBIDDEN');
    const res = await remove(ws, admin, member.id);
    assertStatus(res, 200);
    assert.deepEqual(res.body, { success: true, message: 'Member deleted successfully' });
    assert.equal(await roleOf(ws, member.id), undefined);
    assertError(await get(member, `/api/v1/workspaces/${ws.id}`), 404, 'NOT_FOUND');
    assertError(await remove(ws, admin, member.id), 404, 'NOT_FOUND', 'Member not found');
    assertStatus(await remove(ws, owner, admin.id), 200);
    const audit = await auditRows(server, 'workspace.member_removed', member.id);
    assert.deepEqual(audit[0]?.metadata, { workspaceId: ws.id, role: 'member', left: false });
  });

  it('refuses removals by members and guests', async () => {
    const { ws, admin, member, guest } = await team();
    assertError(await remove(ws, member, guest.id), 403, 'FORBIDDEN');
    assertError(await remove(ws, guest, admin.id), 403, 'FORBIDDEN');
  });

  it('lets anyone leave with their own id, except the last owner', async () => {
    const { owner, ws, guest } = await team();
    assertStatus(await remove(ws, guest, guest.id), 200);
    assertError(await get(guest, `/api/v1/workspaces/${ws.id}`), 404, 'NOT_FOUND');
    assert.deepEqual((await auditRows(server, 'workspace.member_removed', guest.id))[0]?.metadata, {
      workspaceId: ws.id,
      role: 'guest',
      left: true,
    });

    assertError(await remove(ws, owner, owner.id), 409, 'CONFLICT', /at least one owner/);
    assert.equal(await roleOf(ws, owner.id), 'owner');
    const successor = await addWorkspaceMember(server, owner, ws.id, 'owner');
    assertStatus(await remove(ws, owner, owner.id), 200);
    assertError(await remove(ws, successor, successor.id), 409, 'CONFLICT');
  });

  it('keeps an owner when two owners leave at the same time: one leaves, the other gets 409', async () => {
    const { owner, ws } = await team();
    const second = await addWorkspaceMember(server, owner, ws.id, 'owner');
    const results = await Promise.all([remove(ws, owner, owner.id), remove(ws, second, second.id)]);
    assert.deepEqual(results.map((r) => r.status).sort(), [200, 409]);
    const { rows } = await server.sql.query("select count(*)::int as n from workspace_members where workspace_id = $1 and role = 'owner'", [
      ws.id,
    ]);
    assert.equal(rows[0]?.n, 1);
  });

  it('answers 404 for a member of another workspace, as if they did not exist', async () => {
    const { owner, ws } = await team();
    const elsewhere = await createWorkspace(server, owner);
    const stranger = await addWorkspaceMember(server, owner, elsewhere.id, 'member');
    assertError(await setRole(ws, owner, stranger.id, 'admin'), 404, 'NOT_FOUND');
    assertError(await remove(ws, owner, stranger.id), 404, 'NOT_FOUND');
    assert.equal(await roleOf(elsewhere, stranger.id), 'member');
  });
});
