import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createUser, login, type RegisteredUser } from './helpers/factories.js';
import { type ApiResponse, startTestServer, type TestServer } from './helpers/server.js';

interface AuditEventJson {
  id: string;
  action: string;
  actorId: string | null;
  targetType: string | null;
  targetId: string | null;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  metadata: Record<string, unknown>;
  createdAt: string;
}

interface AuditListJson {
  success: true;
  data: AuditEventJson[];
  pagination: { limit: number; nextCursor: string | null; hasMore: boolean };
}

const EVENT_FIELDS = ['action', 'actorId', 'createdAt', 'id', 'ip', 'metadata', 'requestId', 'targetId', 'targetType', 'userAgent'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function assertError(res: ApiResponse, status: number, code: string, error?: string | RegExp): void {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${res.text}`);
  assert.equal(res.body.success, false);
  assert.equal(res.body.code, code);
  if (typeof error === 'string') assert.equal(res.body.error, error);
  else if (error) assert.match(res.body.error, error);
  assert.equal(res.body.requestId, res.headers.get('x-request-id'));
}

const cursorOf = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('GET /api/v1/admin/audit', () => {
  let server: TestServer;
  let admin: RegisteredUser;
  let alice: RegisteredUser;
  let bob: RegisteredUser;

  const audit = (query = '', token = admin.accessToken) => server.request<AuditListJson>('GET', `/api/v1/admin/audit${query}`, { token });

  /** Every stored event id, newest first, as the database orders them. */
  async function storedIds(where = 'true', params: unknown[] = []): Promise<string[]> {
    const { rows } = await server.sql.query<{ id: string }>(`select id from audit_events where ${where} order by id desc`, params);
    return rows.map((r) => r.id);
  }

  /** Follows nextCursor from the first page to the last; returns every page. */
  async function allPages(query: string): Promise<AuditListJson[]> {
    const pages: AuditListJson[] = [];
    let cursor: string | null = null;
    do {
      const res: ApiResponse<AuditListJson> = await audit(`?${query}${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(res.status, 200, res.text);
      pages.push(res.body);
      cursor = res.body.pagination.nextCursor;
      assert.ok(pages.length < 100, 'pagination terminates');
    } while (cursor);
    return pages;
  }

  before(async () => {
    server = await startTestServer();
    admin = await createUser(server);
    alice = await createUser(server);
    bob = await createUser(server);
    for (let i = 0; i < 3; i++) assert.equal((await login(server, alice.email, alice.password)).status, 200);
    assert.equal((await login(server, bob.email, 'Wr0ng-password-for-bob')).status, 401);
    assert.equal((await login(server, bob.email, bob.password)).status, 200);
  });
  after(() => server.close());

  it('refuses an anonymous caller with 401 NO_TOKEN', async () => {
    const res = await server.request('GET', '/api/v1/admin/audit');
    assertError(res, 401, 'NO_TOKEN', 'Access denied. No token provided.');
    assert.equal(res.headers.get('www-authenticate'), 'Bearer');
  });

  it('refuses a regular user with 403, before looking at the query', async () => {
    assertError(await audit('', alice.accessToken), 403, 'FORBIDDEN', 'Insufficient permissions.');
    assertError(await audit('?cursor=%%%&limit=1000', alice.accessToken), 403, 'FORBIDDEN', 'Insufficient permissions.');
  });

  it('lists every event newest first for an admin', async () => {
    const res = await audit();
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.success, true);
    const expected = await storedIds();
    assert.deepEqual(
      res.body.data.map((e) => [e.action, e.actorId]),
      [
        ['auth.login', bob.id],
        ['auth.login_failed', bob.id],
        ['auth.login', alice.id],
        ['auth.login', alice.id],
        ['auth.login', alice.id],
        ['user.registered', bob.id],
        ['user.registered', alice.id],
        ['user.registered', admin.id],
      ],
    );
    assert.deepEqual(
      res.body.data.map((e) => e.id),
      expected,
    );
    assert.deepEqual(res.body.pagination, { limit: 50, nextCursor: null, hasMore: false });
    for (const event of res.body.data) assert.deepEqual(Object.keys(event).sort(), EVENT_FIELDS);
    const times = res.body.data.map((e) => Date.parse(e.createdAt));
    assert.deepEqual(
      times,
      [...times].sort((a, b) => b - a),
    );
    assert.deepEqual(res.body.data.at(-1)?.metadata, { role: 'admin' });
  });

  it('follows nextCursor through non-overlapping pages until hasMore is false', async () => {
    const expected = await storedIds();
    const pages = await allPages('limit=2');
    assert.equal(pages.length, Math.ceil(expected.length / 2));
    pages.forEach((page, i) => {
      const last = i === pages.length - 1;
      assert.equal(page.pagination.limit, 2);
      assert.equal(page.pagination.hasMore, !last);
      if (last) assert.equal(page.pagination.nextCursor, null);
      else {
        assert.equal(page.data.length, 2);
        assert.match(page.pagination.nextCursor ?? '', /^[A-Za-z0-9_-]+$/, 'the cursor is opaque base64url');
      }
    });
    const ids = pages.flatMap((p) => p.data.map((e) => e.id));
    assert.equal(new Set(ids).size, ids.length, 'no event appears on two pages');
    assert.deepEqual(ids, expected);
  });

  it('says there is more when exactly one more event exists', async () => {
    const total = (await storedIds()).length;
    const res = await audit(`?limit=${total - 1}`);
    assert.equal(res.body.pagination.hasMore, true);
    assert.equal(res.body.data.length, total - 1);
    const rest = await audit(`?limit=${total - 1}&cursor=${res.body.pagination.nextCursor}`);
    assert.equal(rest.status, 200);
    assert.equal(rest.body.data.length, 1);
    assert.deepEqual(rest.body.pagination, { limit: total - 1, nextCursor: null, hasMore: false });
    const exact = await audit(`?limit=${total}`);
    assert.deepEqual(exact.body.pagination, { limit: total, nextCursor: null, hasMore: false });
  });

  it('filters by action', async () => {
    const res = await audit('?action=auth.login');
    assert.equal(res.status, 200);
    assert.ok(res.body.data.length >= 4);
    assert.ok(res.body.data.every((e) => e.action === 'auth.login'));
    assert.deepEqual(
      res.body.data.map((e) => e.id),
      await storedIds("action = 'auth.login'"),
    );

    const failed = await audit('?action=auth.login_failed');
    assert.equal(failed.body.data.length, 1);
    assert.equal(failed.body.data[0]?.targetId, bob.id);
    assert.deepEqual(failed.body.data[0]?.metadata, { email: bob.email.toLowerCase() });
    assert.doesNotMatch(failed.text, /Wr0ng-password/, 'the attempted password is not recorded');

    const none = await audit('?action=no.such.action');
    assert.deepEqual(none.body.data, []);
    assert.deepEqual(none.body.pagination, { limit: 50, nextCursor: null, hasMore: false });
  });

  it('filters by actor, also across cursor pages', async () => {
    const expected = await storedIds('actor_id = $1', [alice.id]);
    assert.equal(expected.length, 4, 'her registration and three sign-ins');
    const res = await audit(`?actorId=${alice.id}`);
    assert.equal(res.status, 200);
    assert.ok(res.body.data.every((e) => e.actorId === alice.id));
    assert.deepEqual(
      res.body.data.map((e) => e.id),
      expected,
    );

    const pages = await allPages(`actorId=${alice.id}&action=auth.login&limit=1`);
    const ids = pages.flatMap((p) => p.data.map((e) => e.id));
    assert.equal(ids.length, 3);
    assert.deepEqual(ids, await storedIds("actor_id = $1 and action = 'auth.login'", [alice.id]));
  });

  it('filters by target', async () => {
    const res = await audit(`?targetId=${bob.id}`);
    assert.equal(res.status, 200);
    assert.ok(res.body.data.every((e) => e.targetId === bob.id));
    assert.deepEqual(
      res.body.data.map((e) => e.id),
      await storedIds('target_id = $1', [bob.id]),
    );
    assert.deepEqual(
      res.body.data.map((e) => e.action),
      ['auth.login', 'auth.login_failed', 'user.registered'],
    );
  });

  it('refuses a cursor it did not issue', async () => {
    const bad = ['garbage!!', cursorOf(['not-a-uuid']), cursorOf({ id: randomUUID() }), cursorOf([42]), cursorOf([]), 'a'.repeat(600)];
    for (const cursor of bad) {
      const res = await audit(`?cursor=${encodeURIComponent(cursor)}`);
      assertError(res, 400, 'VALIDATION_FAILED', /^Validation failed: cursor /);
    }
  });

  it('refuses unknown query fields, a malformed actor id and a limit above 100', async () => {
    assertError(await audit('?since=yesterday'), 400, 'VALIDATION_FAILED', 'Validation failed: since is not an allowed field');
    assertError(await audit('?actorId=alice'), 400, 'VALIDATION_FAILED', /^Validation failed: actorId /);
    assertError(await audit('?limit=101'), 400, 'VALIDATION_FAILED', /^Validation failed: limit /);
    assertError(await audit('?limit=0'), 400, 'VALIDATION_FAILED', /^Validation failed: limit /);
    assert.equal((await audit('?limit=100')).status, 200);
  });

  it('records the address, user agent and request id of the request that caused an event', async () => {
    const requestId = `audit-test.${randomUUID()}`;
    const res = await server.request('POST', '/api/v1/auth/login', {
      body: { email: alice.email, password: alice.password },
      headers: { 'x-request-id': requestId, 'user-agent': 'audit-test/2.0' },
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers.get('x-request-id'), requestId, 'a well-formed request id is echoed');

    const list = await audit(`?action=auth.login&actorId=${alice.id}&limit=1`);
    const [event] = list.body.data;
    assert.equal(event?.requestId, requestId);
    assert.equal(event?.ip, '127.0.0.1');
    assert.equal(event?.userAgent, 'audit-test/2.0');
    assert.equal(event?.targetType, 'user');
    assert.equal(event?.targetId, alice.id);

    const { rows } = await server.sql.query<{ request_id: string; ip: string }>('select request_id, ip from audit_events where id = $1', [
      event?.id,
    ]);
    assert.deepEqual(rows, [{ request_id: requestId, ip: '127.0.0.1' }]);
  });

  it('records the request id it minted when the client sent a malformed one', async () => {
    for (const sent of ['has spaces in it', 'x'.repeat(129), 'semi;colon']) {
      const res = await server.request('POST', '/api/v1/auth/login', {
        body: { email: bob.email, password: bob.password },
        headers: { 'x-request-id': sent },
      });
      assert.equal(res.status, 200, res.text);
      const minted = res.headers.get('x-request-id');
      assert.notEqual(minted, sent);
      assert.match(minted ?? '', UUID);
      const [event] = (await audit(`?action=auth.login&actorId=${bob.id}&limit=1`)).body.data;
      assert.equal(event?.requestId, minted);
    }
  });

  it('records a role change with who made it and what changed', async () => {
    const carol = await createUser(server);
    const requestId = `promote-${randomUUID()}`;
    const res = await server.request('PUT', `/api/v1/users/${carol.id}`, {
      token: admin.accessToken,
      body: { name: carol.name, email: carol.email, role: 'admin' },
      headers: { 'x-request-id': requestId },
    });
    assert.equal(res.status, 200, res.text);
    const list = await audit('?action=user.role_changed');
    assert.equal(list.body.data.length, 1);
    const [event] = list.body.data;
    assert.equal(event?.actorId, admin.id);
    assert.equal(event?.targetType, 'user');
    assert.equal(event?.targetId, carol.id);
    assert.deepEqual(event?.metadata, { from: 'user', to: 'admin' });
    assert.equal(event?.requestId, requestId);

    // Carol's registration token now reads the audit trail too.
    assert.equal((await audit('?limit=1', carol.accessToken)).status, 200);
  });
});
