// Idempotency-Key on POST creates (api.md "Writes"): replay for 24 h, 422 for another body
// under the same key, 409 while the first request still runs.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createProject, createUser, createWorkspace, type RegisteredUser } from './helpers/factories.js';
import { startTestServer, type TestServer } from './helpers/server.js';

describe('Idempotency-Key on creates', () => {
  let server: TestServer;
  let owner: RegisteredUser;
  let projectId: string;
  let keyCount = 0;
  const newKey = () => `key-${Date.now()}-${++keyCount}`;
  const createTask = (key: string, body: Record<string, unknown>, user = owner) =>
    server.request('POST', `/api/v1/projects/${projectId}/tasks`, { token: user.accessToken, body, headers: { 'idempotency-key': key } });
  const taskCount = async () =>
    (await server.sql.query<{ n: number }>('select count(*)::int as n from tasks where project_id = $1', [projectId])).rows[0]?.n;

  before(async () => {
    server = await startTestServer();
    owner = await createUser(server);
    const ws = await createWorkspace(server, owner);
    projectId = (await createProject(server, owner, ws.id)).id;
  });
  after(() => server.close());

  it('replays the first response to a retry with the same key and creates nothing more', async () => {
    const key = newKey();
    const first = await createTask(key, { title: 'Write the release notes' });
    assert.equal(first.status, 201);
    const before = await taskCount();
    const retry = await createTask(key, { title: 'Write the release notes' });
    assert.equal(retry.status, 201);
    assert.equal(retry.text, first.text);
    assert.equal(retry.headers.get('location'), first.headers.get('location'));
    assert.equal(retry.headers.get('etag'), first.headers.get('etag'));
    assert.equal(retry.headers.get('idempotent-replayed'), 'true');
    assert.equal(first.headers.get('idempotent-replayed'), null);
    assert.equal(await taskCount(), before);
  });

  it('answers 422 when the same key comes with another body', async () => {
    const key = newKey();
    assert.equal((await createTask(key, { title: 'One thing' })).status, 201);
    const other = await createTask(key, { title: 'Another thing' });
    assert.equal(other.status, 422);
    assert.equal(other.body.code, 'IDEMPOTENCY_MISMATCH');
    assert.match(other.body.error, /different request/);
  });

  it('answers 422 when the same key is sent to another endpoint', async () => {
    const key = newKey();
    assert.equal((await createTask(key, { title: 'Plan' })).status, 201);
    const ws = await server.request('POST', '/api/v1/workspaces', {
      token: owner.accessToken,
      body: { title: 'Plan' },
      headers: { 'idempotency-key': key },
    });
    // The schema rejects the body before the key is looked at; a valid body meets the key.
    assert.equal(ws.status, 400);
    const valid = await server.request('POST', '/api/v1/workspaces', {
      token: owner.accessToken,
      body: { name: 'Plan' },
      headers: { 'idempotency-key': key },
    });
    assert.equal(valid.status, 422);
  });

  it('answers 409 while a request with the same key is still running', async () => {
    const key = newKey();
    // A claim without a response is what a request in progress leaves in the table.
    await server.sql.query(
      `insert into idempotency_keys (user_id, key, endpoint, request_hash, created_at, expires_at)
       values ($1, $2, 'POST /api/v1/projects/:projectId/tasks', 'x', now(), now() + interval '1 day')`,
      [owner.id, key],
    );
    const res = await createTask(key, { title: 'Racing' });
    assert.equal(res.status, 409);
    assert.equal(res.body.code, 'CONFLICT');
    assert.match(res.body.error, /still being processed/);
  });

  it('lets exactly one of many concurrent requests with one key create the task', async () => {
    const key = newKey();
    const before = await taskCount();
    const results = await Promise.all(Array.from({ length: 8 }, () => createTask(key, { title: 'Only once' })));
    const created = results.filter((r) => r.status === 201);
    assert.ok(created.length >= 1);
    assert.ok(
      results.every((r) => r.status === 201 || r.status === 409),
      results.map((r) => r.status).join(','),
    );
    assert.equal(new Set(created.map((r) => r.body.data.id)).size, 1);
    assert.equal(await taskCount(), (before ?? 0) + 1);
  });

  it('keeps keys per user: the same key from another user is a new request', async () => {
    const key = newKey();
    const other = await createUser(server);
    const ws = await createWorkspace(server, other);
    const a = await createTask(key, { title: 'Mine' });
    const b = await server.request('POST', '/api/v1/workspaces', {
      token: other.accessToken,
      body: { name: ws.name.slice(0, 50) },
      headers: { 'idempotency-key': key },
    });
    assert.equal(a.status, 201);
    assert.equal(b.status, 201);
  });

  it('replays a refusal too (4xx), so a retry cannot turn a 409 into a different outcome', async () => {
    const ws = await createWorkspace(server, owner);
    const key = newKey();
    const existing = await createProject(server, owner, ws.id);
    const first = await server.request('POST', `/api/v1/workspaces/${ws.id}/projects`, {
      token: owner.accessToken,
      body: { key: existing.key, name: 'Duplicate' },
      headers: { 'idempotency-key': key },
    });
    assert.equal(first.status, 409);
    const retry = await server.request('POST', `/api/v1/workspaces/${ws.id}/projects`, {
      token: owner.accessToken,
      body: { key: existing.key, name: 'Duplicate' },
      headers: { 'idempotency-key': key },
    });
    assert.equal(retry.status, 409);
    assert.equal(retry.headers.get('idempotent-replayed'), 'true');
  });

  it('treats an expired key, or a claim abandoned by a crashed request, as new', async () => {
    for (const [createdAt, expiresAt] of [
      ["now() - interval '25 hours'", "now() - interval '1 hour'"],
      ["now() - interval '5 minutes'", "now() + interval '1 day'"],
    ]) {
      const key = newKey();
      await server.sql.query(
        `insert into idempotency_keys (user_id, key, endpoint, request_hash, created_at, expires_at)
         values ($1, $2, 'POST /api/v1/projects/:projectId/tasks', 'stale', ${createdAt}, ${expiresAt})`,
        [owner.id, key],
      );
      assert.equal((await createTask(key, { title: 'Fresh start' })).status, 201);
    }
  });

  it('refuses a malformed key with 400 and documents the header', async () => {
    const res = await createTask('x'.repeat(256), { title: 'Too long a key' });
    assert.equal(res.status, 400);
    assert.match(res.body.error, /idempotency-key/i);
    const doc = await server.request('GET', '/api/v1/openapi.json');
    const params = doc.body.paths['/api/v1/projects/{projectId}/tasks'].post.parameters as { name: string; in: string }[];
    assert.ok(params.some((p) => p.in === 'header' && p.name === 'idempotency-key'));
  });

  it('sweeps expired keys', async () => {
    await server.sql.query(
      `insert into idempotency_keys (user_id, key, endpoint, request_hash, created_at, expires_at)
       values ($1, 'old-one', 'POST /x', 'h', now() - interval '2 days', now() - interval '1 day')`,
      [owner.id],
    );
    const removed = await server.tandem.idempotency.sweep();
    assert.ok(removed >= 1);
    const left = await server.sql.query(`select 1 from idempotency_keys where key = 'old-one'`);
    assert.equal(left.rowCount, 0);
  });
});
