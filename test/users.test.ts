import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createUser, login, type RegisteredUser } from './helpers/factories.js';
import { type ApiResponse, startTestServer, type TestServer } from './helpers/server.js';

interface UserJson {
  id: string;
  email: string;
  name: string;
  role: 'user' | 'admin';
  emailVerified: boolean;
  emailVerifiedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

interface UserListJson {
  success: true;
  data: UserJson[];
  pagination: { page: number; limit: number; total: number; totalPages: number };
}

interface StoredUser {
  email: string;
  name: string;
  role: string;
  password_hash: string | null;
  email_verified_at: Date | null;
  deleted_at: Date | null;
}

const USER_FIELDS = ['createdAt', 'email', 'emailVerified', 'emailVerifiedAt', 'id', 'name', 'role', 'updatedAt'];

function assertError(res: ApiResponse, status: number, code: string, error?: string | RegExp): void {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${res.text}`);
  assert.equal(res.body.success, false);
  assert.equal(res.body.code, code);
  if (typeof error === 'string') assert.equal(res.body.error, error);
  else if (error) assert.match(res.body.error, error);
  assert.equal(res.body.requestId, res.headers.get('x-request-id'));
}

async function storedUser(server: TestServer, id: string): Promise<StoredUser | undefined> {
  const { rows } = await server.sql.query<StoredUser>(
    'select email, name, role, password_hash, email_verified_at, deleted_at from users where id = $1',
    [id],
  );
  return rows[0];
}

async function auditRows(server: TestServer, action: string, targetId: string) {
  const { rows } = await server.sql.query<{ actor_id: string | null; metadata: Record<string, unknown>; request_id: string | null }>(
    'select actor_id, metadata, request_id from audit_events where action = $1 and target_id = $2 order by id',
    [action, targetId],
  );
  return rows;
}

function listUsers(server: TestServer, token: string, query = '') {
  return server.request<UserListJson>('GET', `/api/v1/users${query}`, { token });
}

const names = (res: ApiResponse<UserListJson>) => res.body.data.map((u) => u.name);

/** The verification link the server mailed to `email` (written to a file and logged in tests). */
async function verificationToken(server: TestServer, email: string): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const entry = server.logs.find((l) => l.to === email && typeof l.link === 'string' && l.link.includes('/verify-email?'));
    if (entry && typeof entry.link === 'string') {
      const token = new URL(entry.link).searchParams.get('token');
      if (token) return token;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no verification mail was sent to ${email}`);
}

describe('user directory: authentication and pagination', () => {
  let server: TestServer;
  let admin: RegisteredUser;
  const everyone: RegisteredUser[] = [];

  before(async () => {
    server = await startTestServer();
    admin = await createUser(server);
    everyone.push(admin);
    for (let i = 0; i < 24; i++) everyone.push(await createUser(server));
  });
  after(() => server.close());

  it('refuses an anonymous caller with 401 NO_TOKEN and a Bearer challenge', async () => {
    const res = await server.request('GET', '/api/v1/users');
    assertError(res, 401, 'NO_TOKEN', 'Access denied. No token provided.');
    assert.equal(res.headers.get('www-authenticate'), 'Bearer');
  });

  it('refuses a forged token with 401 INVALID_TOKEN', async () => {
    const res = await server.request('GET', '/api/v1/users', { token: `${admin.accessToken.slice(0, -4)}AAAA` });
    assertError(res, 401, 'INVALID_TOKEN', 'Invalid or expired token.');
    assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer/);
  });

  it('lists users to any signed-in user in the paged envelope', async () => {
    const regular = everyone[1];
    assert.ok(regular);
    const res = await listUsers(server, regular.accessToken);
    assert.equal(res.status, 200);
    assert.equal(res.body.success, true);
    assert.deepEqual(res.body.pagination, { page: 1, limit: 20, total: 25, totalPages: 2 });
    assert.equal(res.body.data.length, 20);
    // Default order is by registration, so the first page starts with the admin.
    assert.deepEqual(
      res.body.data.map((u) => u.id),
      everyone.slice(0, 20).map((u) => u.id),
    );
  });

  it('pages through the directory with page and limit', async () => {
    const pages = await Promise.all([1, 2, 3].map((p) => listUsers(server, admin.accessToken, `?page=${p}&limit=10`)));
    const [first, second, third] = pages;
    assert.ok(first && second && third);
    for (const page of pages) assert.equal(page.status, 200);
    assert.deepEqual(second.body.pagination, { page: 2, limit: 10, total: 25, totalPages: 3 });
    assert.equal(first.body.data.length, 10);
    assert.equal(second.body.data.length, 10);
    assert.equal(third.body.data.length, 5);
    const ids = pages.flatMap((p) => p.body.data.map((u) => u.id));
    assert.equal(new Set(ids).size, 25, 'pages do not overlap');
    assert.deepEqual(
      ids,
      everyone.map((u) => u.id),
    );
    assert.deepEqual(second.body.data[0]?.id, everyone[10]?.id);
  });

  it('answers an empty page past the end', async () => {
    const res = await listUsers(server, admin.accessToken, '?page=4&limit=10');
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.data, []);
    assert.deepEqual(res.body.pagination, { page: 4, limit: 10, total: 25, totalPages: 3 });
  });

  it('accepts a limit of 100 and refuses 101 instead of clamping it', async () => {
    const ok = await listUsers(server, admin.accessToken, '?limit=100');
    assert.equal(ok.status, 200);
    assert.equal(ok.body.pagination.limit, 100);
    assert.equal(ok.body.data.length, 25);

    const res = await server.request('GET', '/api/v1/users?limit=101', { token: admin.accessToken });
    assertError(res, 400, 'VALIDATION_FAILED', 'Validation failed: limit must be at most 100');
    assert.deepEqual(res.body.details, [{ path: 'limit', message: 'must be at most 100' }]);
  });

  it('refuses a page below 1 and a non-numeric limit', async () => {
    assertError(await listUsers(server, admin.accessToken, '?page=0'), 400, 'VALIDATION_FAILED', /^Validation failed: page /);
    assertError(await listUsers(server, admin.accessToken, '?limit=ten'), 400, 'VALIDATION_FAILED', /^Validation failed: limit /);
  });

  it('refuses an unknown query field', async () => {
    const res = await listUsers(server, admin.accessToken, '?include=passwordHash');
    assertError(res, 400, 'VALIDATION_FAILED', 'Validation failed: include is not an allowed field');
  });

  it('never includes password hashes or any other secret', async () => {
    const res = await listUsers(server, admin.accessToken, '?limit=100');
    assert.equal(res.status, 200);
    for (const user of res.body.data) assert.deepEqual(Object.keys(user).sort(), USER_FIELDS);
    assert.doesNotMatch(res.text, /password|argon2|hash|token|secret/i);
    const one = await server.request('GET', `/api/v1/users/${admin.id}`, { token: admin.accessToken });
    assert.deepEqual(Object.keys(one.body.data).sort(), USER_FIELDS);
    assert.doesNotMatch(one.text, /password|argon2|hash|token|secret/i);
  });
});

describe('user directory: search, filters and sorting', () => {
  let server: TestServer;
  let admin: RegisteredUser;
  let erin: RegisteredUser;

  before(async () => {
    server = await startTestServer();
    admin = await createUser(server, { name: 'Zoe Admin', email: 'zoe@example.net' });
    await createUser(server, { name: 'Alice Wonder', email: 'alice@example.com' });
    await createUser(server, { name: 'Bob Builder', email: 'bob@builders.example.org' });
    await createUser(server, { name: 'Carol 100% Sure', email: 'carol@example.com' });
    await createUser(server, { name: 'Dave Underwood', email: 'dave_u@example.com' });
    erin = await createUser(server, { name: 'Erin Leaving', email: 'erin@example.com' });
    const res = await server.request('DELETE', `/api/v1/users/${erin.id}`, { token: admin.accessToken });
    assert.equal(res.status, 200);
  });
  after(() => server.close());

  const search = async (q: string) => {
    const res = await listUsers(server, admin.accessToken, `?q=${encodeURIComponent(q)}&sort=name`);
    assert.equal(res.status, 200, res.text);
    return res;
  };

  it('matches q against the name case-insensitively', async () => {
    assert.deepEqual(names(await search('alice')), ['Alice Wonder']);
    assert.deepEqual(names(await search('WONDER')), ['Alice Wonder']);
    assert.deepEqual(names(await search('der')), ['Alice Wonder', 'Bob Builder', 'Dave Underwood']);
  });

  it('matches q against the e-mail address case-insensitively', async () => {
    const res = await search('BUILDERS.Example');
    assert.deepEqual(names(res), ['Bob Builder']);
    assert.equal(res.body.pagination.total, 1);
    assert.deepEqual(names(await search('example.net')), ['Zoe Admin']);
  });

  it('treats % and _ in q literally', async () => {
    assert.deepEqual(names(await search('%')), ['Carol 100% Sure']);
    assert.deepEqual(names(await search('100%')), ['Carol 100% Sure']);
    assert.deepEqual(names(await search('_')), ['Dave Underwood']);
    assert.deepEqual(names(await search('e_u')), ['Dave Underwood']);
    assert.deepEqual(names(await search('a%e')), []);
    assert.deepEqual(names(await search('\\')), []);
  });

  it('counts only the matches in the pagination total', async () => {
    const res = await listUsers(server, admin.accessToken, '?q=example.com&limit=2&sort=name');
    assert.equal(res.status, 200);
    assert.deepEqual(names(res), ['Alice Wonder', 'Carol 100% Sure']);
    assert.deepEqual(res.body.pagination, { page: 1, limit: 2, total: 3, totalPages: 2 });
  });

  it('filters by role', async () => {
    const admins = await listUsers(server, admin.accessToken, '?role=admin');
    assert.equal(admins.status, 200);
    assert.deepEqual(names(admins), ['Zoe Admin']);
    assert.equal(admins.body.pagination.total, 1);

    const users = await listUsers(server, admin.accessToken, '?role=user&sort=name');
    assert.deepEqual(names(users), ['Alice Wonder', 'Bob Builder', 'Carol 100% Sure', 'Dave Underwood']);
    assert.ok(users.body.data.every((u) => u.role === 'user'));

    assertError(await listUsers(server, admin.accessToken, '?role=owner'), 400, 'VALIDATION_FAILED', /^Validation failed: role /);
  });

  it('sorts by name descending with sort=-name', async () => {
    const res = await listUsers(server, admin.accessToken, '?sort=-name');
    assert.equal(res.status, 200);
    assert.deepEqual(names(res), ['Zoe Admin', 'Dave Underwood', 'Carol 100% Sure', 'Bob Builder', 'Alice Wonder']);
  });

  it('sorts by e-mail ascending with sort=email', async () => {
    const res = await listUsers(server, admin.accessToken, '?sort=email');
    assert.equal(res.status, 200);
    assert.deepEqual(
      res.body.data.map((u) => u.email),
      ['alice@example.com', 'bob@builders.example.org', 'carol@example.com', 'dave_u@example.com', 'zoe@example.net'],
    );
  });

  it('refuses a sort key outside the allow-list', async () => {
    assertError(await listUsers(server, admin.accessToken, '?sort=bogus'), 400, 'VALIDATION_FAILED', /^Validation failed: sort /);
    assertError(await listUsers(server, admin.accessToken, '?sort=passwordHash'), 400, 'VALIDATION_FAILED', /^Validation failed: sort /);
    assertError(await listUsers(server, admin.accessToken, '?sort=name,'), 400, 'VALIDATION_FAILED');
  });

  it('hides deleted users from the directory', async () => {
    const all = await listUsers(server, admin.accessToken, '?limit=100');
    assert.equal(all.status, 200);
    assert.equal(all.body.pagination.total, 5);
    assert.ok(!all.body.data.some((u) => u.id === erin.id));
    assert.ok(!all.body.data.some((u) => u.name === 'Deleted user'));
    assert.deepEqual(names(await search('erin')), []);
    assert.deepEqual(names(await search('deleted')), []);
    const row = await storedUser(server, erin.id);
    assert.ok(row?.deleted_at, 'the row is kept, marked deleted');
  });
});

describe('one user and your own profile', () => {
  let server: TestServer;
  let admin: RegisteredUser;

  before(async () => {
    server = await startTestServer();
    admin = await createUser(server);
  });
  after(() => server.close());

  it('reads one user by id', async () => {
    const alice = await createUser(server, { name: 'Alice Reader' });
    const res = await server.request<{ success: true; data: UserJson }>('GET', `/api/v1/users/${alice.id}`, { token: admin.accessToken });
    assert.equal(res.status, 200);
    assert.equal(res.body.success, true);
    assert.equal(res.body.data.id, alice.id);
    assert.equal(res.body.data.name, 'Alice Reader');
    assert.equal(res.body.data.email, alice.email);
    assert.equal(res.body.data.role, 'user');
    assert.equal(res.body.data.emailVerified, false);
    assert.equal(res.body.data.emailVerifiedAt, null);
    assert.ok(!Number.isNaN(Date.parse(res.body.data.createdAt)));
  });

  it('answers a malformed id with 400 INVALID_ID', async () => {
    for (const id of ['not-a-uuid', '123', `${admin.id}x`]) {
      const res = await server.request('GET', `/api/v1/users/${id}`, { token: admin.accessToken });
      assertError(res, 400, 'INVALID_ID', 'Invalid user ID');
    }
  });

  it('answers an unknown id with 404', async () => {
    const res = await server.request('GET', `/api/v1/users/${randomUUID()}`, { token: admin.accessToken });
    assertError(res, 404, 'NOT_FOUND', 'User not found');
  });

  it('shows the signed-in user their own profile at /users/me', async () => {
    const bob = await createUser(server);
    const res = await server.request<{ success: true; data: UserJson }>('GET', '/api/v1/users/me', { token: bob.accessToken });
    assert.equal(res.status, 200);
    assert.equal(res.body.data.id, bob.id);
    assert.equal(res.body.data.email, bob.email);
    assertError(await server.request('GET', '/api/v1/users/me'), 401, 'NO_TOKEN', 'Access denied. No token provided.');
  });

  it('changes your own name with PATCH /users/me', async () => {
    const carol = await createUser(server, { name: 'Carol Before' });
    const res = await server.request<{ success: true; data: UserJson }>('PATCH', '/api/v1/users/me', {
      token: carol.accessToken,
      body: { name: '  Carol After  ' },
    });
    assert.equal(res.status, 200);
    assert.equal(res.body.data.name, 'Carol After');
    assert.equal(res.body.data.email, carol.email);
    const again = await server.request('GET', '/api/v1/users/me', { token: carol.accessToken });
    assert.equal(again.body.data.name, 'Carol After');
    assert.equal((await storedUser(server, carol.id))?.name, 'Carol After');
    const [event] = await auditRows(server, 'user.updated', carol.id);
    assert.equal(event?.actor_id, carol.id);
    assert.deepEqual(event?.metadata, { fields: ['name'] });
  });

  it('refuses a role in PATCH /users/me (no mass assignment)', async () => {
    const dave = await createUser(server);
    const res = await server.request('PATCH', '/api/v1/users/me', { token: dave.accessToken, body: { name: 'Dave', role: 'admin' } });
    assertError(res, 400, 'VALIDATION_FAILED', 'Validation failed: role is not an allowed field');
    assert.deepEqual(res.body.details, [{ path: 'role', message: 'is not an allowed field' }]);
    const row = await storedUser(server, dave.id);
    assert.equal(row?.role, 'user');
    assert.notEqual(row?.name, 'Dave', 'nothing of a refused request is applied');
    // The same token still cannot act as an admin.
    assertError(await server.request('GET', '/api/v1/admin/audit', { token: dave.accessToken }), 403, 'FORBIDDEN');
  });

  it('refuses other fields the caller may not set', async () => {
    const erin = await createUser(server);
    for (const body of [{ passwordHash: 'x' }, { emailVerified: true }, { id: randomUUID() }, { createdAt: '2020-01-01T00:00:00Z' }]) {
      const res = await server.request('PATCH', '/api/v1/users/me', { token: erin.accessToken, body: { name: 'Erin', ...body } });
      const [field] = Object.keys(body);
      assertError(res, 400, 'VALIDATION_FAILED', `Validation failed: ${field} is not an allowed field`);
      assert.deepEqual(res.body.details, [{ path: field, message: 'is not an allowed field' }]);
    }
    assert.notEqual((await storedUser(server, erin.id))?.name, 'Erin');
  });

  it('refuses an empty PATCH body', async () => {
    const frank = await createUser(server);
    const res = await server.request('PATCH', '/api/v1/users/me', { token: frank.accessToken, body: {} });
    assertError(res, 400, 'VALIDATION_FAILED', /^Validation failed: .*at least one field/);
  });

  it("refuses to take another user's e-mail address, whatever its case", async () => {
    const grace = await createUser(server, { email: 'grace.taken@example.com' });
    const heidi = await createUser(server);
    const res = await server.request('PATCH', '/api/v1/users/me', { token: heidi.accessToken, body: { email: 'Grace.TAKEN@Example.com' } });
    assertError(res, 409, 'CONFLICT', /email is already registered/i);
    assert.equal((await storedUser(server, heidi.id))?.email, heidi.email);
    assert.equal((await storedUser(server, grace.id))?.email, 'grace.taken@example.com');
  });

  it('marks a changed e-mail address as unverified', async () => {
    const ivan = await createUser(server);
    const verify = await server.request<{ success: true; data: UserJson }>('POST', '/api/v1/auth/verify-email', {
      body: { token: await verificationToken(server, ivan.email) },
    });
    assert.equal(verify.status, 200, verify.text);
    assert.equal(verify.body.data.emailVerified, true);

    // Only the case changes: still the same, verified address.
    const recased = await server.request<{ success: true; data: UserJson }>('PATCH', '/api/v1/users/me', {
      token: ivan.accessToken,
      body: { email: ivan.email.toUpperCase() },
    });
    assert.equal(recased.status, 200, recased.text);
    assert.equal(recased.body.data.emailVerified, true);

    const res = await server.request<{ success: true; data: UserJson }>('PATCH', '/api/v1/users/me', {
      token: ivan.accessToken,
      body: { email: 'ivan.new@example.com' },
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.data.email, 'ivan.new@example.com');
    assert.equal(res.body.data.emailVerified, false);
    assert.equal(res.body.data.emailVerifiedAt, null);
    const row = await storedUser(server, ivan.id);
    assert.equal(row?.email, 'ivan.new@example.com');
    assert.equal(row?.email_verified_at, null);
  });
});

describe('PUT /users/:id', () => {
  let server: TestServer;
  let admin: RegisteredUser;

  before(async () => {
    server = await startTestServer();
    admin = await createUser(server, { name: 'Ada Admin' });
  });
  after(() => server.close());

  const put = (token: string, id: string, body: unknown) =>
    server.request<{ success: true; data: UserJson }>('PUT', `/api/v1/users/${id}`, { token, body });

  it('lets a user replace their own name and e-mail', async () => {
    const alice = await createUser(server);
    const res = await put(alice.accessToken, alice.id, { name: 'Alice Replaced', email: 'alice.replaced@example.com' });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.data.name, 'Alice Replaced');
    assert.equal(res.body.data.email, 'alice.replaced@example.com');
    assert.equal(res.body.data.role, 'user');
    const row = await storedUser(server, alice.id);
    assert.equal(row?.name, 'Alice Replaced');
    assert.equal(row?.email, 'alice.replaced@example.com');
  });

  it('requires the whole writable representation', async () => {
    const bob = await createUser(server);
    const res = await put(bob.accessToken, bob.id, { name: 'Only Name' });
    assertError(res, 400, 'VALIDATION_FAILED', 'Validation failed: email is required');
  });

  it("refuses a role in a regular user's replacement, even of themselves", async () => {
    const carol = await createUser(server, { name: 'Carol Plain' });
    for (const role of ['admin', 'user']) {
      const res = await put(carol.accessToken, carol.id, { name: 'Carol Climber', email: carol.email, role });
      assertError(res, 400, 'VALIDATION_FAILED', /^Validation failed: role /);
    }
    const row = await storedUser(server, carol.id);
    assert.equal(row?.role, 'user');
    assert.equal(row?.name, 'Carol Plain');
    assertError(await server.request('GET', '/api/v1/admin/audit', { token: carol.accessToken }), 403, 'FORBIDDEN');
  });

  it('forbids a regular user to replace someone else', async () => {
    const dave = await createUser(server);
    const erin = await createUser(server, { name: 'Erin Target' });
    const res = await put(dave.accessToken, erin.id, { name: 'Hijacked', email: 'hijacked@example.com' });
    assertError(res, 403, 'FORBIDDEN', 'Insufficient permissions.');
    const row = await storedUser(server, erin.id);
    assert.equal(row?.name, 'Erin Target');
    assert.equal(row?.email, erin.email);
  });

  it('answers 400 for a malformed id and 404 for an unknown one', async () => {
    assertError(await put(admin.accessToken, 'nope', { name: 'X', email: 'x@example.com' }), 400, 'INVALID_ID', 'Invalid user ID');
    assertError(await put(admin.accessToken, randomUUID(), { name: 'X', email: 'x@example.com' }), 404, 'NOT_FOUND', 'User not found');
  });

  it("lets an admin change another user's role, effective for that user's existing token at once", async () => {
    const frank = await createUser(server, { name: 'Frank Promoted' });
    const victim = await createUser(server);
    // Frank's token says "user" until it expires; the promotion must not wait for that.
    assertError(await server.request('DELETE', `/api/v1/users/${victim.id}`, { token: frank.accessToken }), 403, 'FORBIDDEN');

    const res = await put(admin.accessToken, frank.id, { name: frank.name, email: frank.email, role: 'admin' });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.data.role, 'admin');
    assert.equal((await storedUser(server, frank.id))?.role, 'admin');

    const del = await server.request('DELETE', `/api/v1/users/${victim.id}`, { token: frank.accessToken });
    assert.equal(del.status, 200, del.text);
    assert.ok((await storedUser(server, victim.id))?.deleted_at);

    const [event] = await auditRows(server, 'user.role_changed', frank.id);
    assert.equal(event?.actor_id, admin.id);
    assert.deepEqual(event?.metadata, { from: 'user', to: 'admin' });
    assert.equal(event?.request_id, res.headers.get('x-request-id'));

    // Step back down, so the instance keeps one admin for the tests that follow.
    assert.equal((await put(admin.accessToken, frank.id, { name: frank.name, email: frank.email, role: 'user' })).status, 200);
  });

  it("takes admin rights from a demoted user's existing token at once", async () => {
    const grace = await createUser(server);
    const victim = await createUser(server);
    const promote = await put(admin.accessToken, grace.id, { name: grace.name, email: grace.email, role: 'admin' });
    assert.equal(promote.status, 200);
    // A token issued while Grace is an admin.
    const signedIn = await login(server, grace.email, grace.password);
    assert.equal(signedIn.status, 200);
    assert.equal(signedIn.body.user.role, 'admin');
    const adminToken: string = signedIn.body.accessToken;
    assert.equal((await server.request('GET', '/api/v1/admin/audit', { token: adminToken })).status, 200);

    const demote = await put(admin.accessToken, grace.id, { name: grace.name, email: grace.email, role: 'user' });
    assert.equal(demote.status, 200, demote.text);
    assert.equal(demote.body.data.role, 'user');

    for (const token of [adminToken, grace.accessToken]) {
      assertError(await server.request('DELETE', `/api/v1/users/${victim.id}`, { token }), 403, 'FORBIDDEN', 'Insufficient permissions.');
      assertError(await server.request('GET', '/api/v1/admin/audit', { token }), 403, 'FORBIDDEN');
    }
    assert.equal((await storedUser(server, victim.id))?.deleted_at, null);

    const events = await auditRows(server, 'user.role_changed', grace.id);
    assert.deepEqual(
      events.map((e) => e.metadata),
      [
        { from: 'user', to: 'admin' },
        { from: 'admin', to: 'user' },
      ],
    );
  });

  it('records no role change when the role stays the same', async () => {
    const heidi = await createUser(server);
    const res = await put(admin.accessToken, heidi.id, { name: 'Heidi Same', email: heidi.email, role: 'user' });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.data.name, 'Heidi Same');
    assert.deepEqual(await auditRows(server, 'user.role_changed', heidi.id), []);
  });

  it("refuses to take another user's e-mail address", async () => {
    const ivan = await createUser(server);
    const res = await put(admin.accessToken, ivan.id, { name: ivan.name, email: admin.email.toUpperCase() });
    assertError(res, 409, 'CONFLICT', /email is already registered/i);
  });
});

describe('the last admin', () => {
  let server: TestServer;
  let admin: RegisteredUser;

  before(async () => {
    server = await startTestServer();
    admin = await createUser(server, { name: 'Only Admin' });
    await createUser(server);
  });
  after(() => server.close());

  it('refuses to demote the last admin', async () => {
    const res = await server.request('PUT', `/api/v1/users/${admin.id}`, {
      token: admin.accessToken,
      body: { name: 'Renamed Meanwhile', email: admin.email, role: 'user' },
    });
    assertError(res, 409, 'CONFLICT', 'The last admin cannot be removed or demoted');
    const row = await storedUser(server, admin.id);
    assert.equal(row?.role, 'admin');
    assert.equal(row?.name, 'Only Admin', 'the refused request changes nothing');
    assert.deepEqual(await auditRows(server, 'user.role_changed', admin.id), []);
    assert.equal((await server.request('GET', '/api/v1/admin/audit', { token: admin.accessToken })).status, 200);
  });

  it('refuses to delete the last admin', async () => {
    const res = await server.request('DELETE', `/api/v1/users/${admin.id}`, { token: admin.accessToken });
    assertError(res, 409, 'CONFLICT', 'The last admin cannot be removed or demoted');
    const row = await storedUser(server, admin.id);
    assert.equal(row?.deleted_at, null);
    assert.equal(row?.email, admin.email);
    assert.equal((await server.request('GET', '/api/v1/users/me', { token: admin.accessToken })).status, 200);
    assert.deepEqual(await auditRows(server, 'user.deleted', admin.id), []);
  });

  it('lets an admin step down once another admin exists', async () => {
    const second = await createUser(server);
    const promote = await server.request('PUT', `/api/v1/users/${second.id}`, {
      token: admin.accessToken,
      body: { name: second.name, email: second.email, role: 'admin' },
    });
    assert.equal(promote.status, 200, promote.text);
    const res = await server.request('PUT', `/api/v1/users/${admin.id}`, {
      token: admin.accessToken,
      body: { name: admin.name, email: admin.email, role: 'user' },
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.data.role, 'user');
    // Now the second admin is the last one.
    const last = await server.request('PUT', `/api/v1/users/${second.id}`, {
      token: second.accessToken,
      body: { name: second.name, email: second.email, role: 'user' },
    });
    assertError(last, 409, 'CONFLICT');
  });
});

describe('the last admin, under concurrent requests', () => {
  let server: TestServer;
  let first: RegisteredUser;
  let second: RegisteredUser;

  before(async () => {
    server = await startTestServer();
    first = await createUser(server);
    second = await createUser(server);
    const promote = await server.request('PUT', `/api/v1/users/${second.id}`, {
      token: first.accessToken,
      body: { name: second.name, email: second.email, role: 'admin' },
    });
    assert.equal(promote.status, 200, promote.text);
  });
  after(() => server.close());

  const liveAdmins = async () => (await server.sql.query("select id from users where role = 'admin' and deleted_at is null")).rowCount;

  it('keeps one admin when two admins demote each other at the same time', async () => {
    const results = await Promise.all([
      server.request('PUT', `/api/v1/users/${second.id}`, {
        token: first.accessToken,
        body: { name: second.name, email: second.email, role: 'user' },
      }),
      server.request('PUT', `/api/v1/users/${first.id}`, {
        token: second.accessToken,
        body: { name: first.name, email: first.email, role: 'user' },
      }),
    ]);
    // The loser answers 409, or 403 when the winner finished before it was even authorised.
    const statuses = results.map((r) => r.status).sort();
    assert.equal(statuses[0], 200, results.map((r) => r.text).join('\n'));
    assert.ok(statuses[1] === 409 || statuses[1] === 403, results.map((r) => r.text).join('\n'));
    assert.equal(await liveAdmins(), 1);
  });

  it('keeps one admin when two admins delete each other at the same time', async () => {
    // Whoever is still admin promotes the other again.
    const { rows } = await server.sql.query<{ id: string }>("select id from users where role = 'admin'");
    const [a, b] = rows[0]?.id === first.id ? [first, second] : [second, first];
    const promote = await server.request('PUT', `/api/v1/users/${b.id}`, {
      token: a.accessToken,
      body: { name: b.name, email: b.email, role: 'admin' },
    });
    assert.equal(promote.status, 200, promote.text);

    const results = await Promise.all([
      server.request('DELETE', `/api/v1/users/${b.id}`, { token: a.accessToken }),
      server.request('DELETE', `/api/v1/users/${a.id}`, { token: b.accessToken }),
    ]);
    // The loser answers 409, or 401 when the winner had already ended its session.
    const statuses = results.map((r) => r.status).sort();
    assert.equal(statuses[0], 200, results.map((r) => r.text).join('\n'));
    assert.ok(statuses[1] === 409 || statuses[1] === 401, results.map((r) => r.text).join('\n'));
    assert.equal(await liveAdmins(), 1);
  });
});

describe('DELETE /users/:id', () => {
  let server: TestServer;
  let admin: RegisteredUser;

  before(async () => {
    server = await startTestServer();
    admin = await createUser(server);
  });
  after(() => server.close());

  const remove = (token: string, id: string) => server.request('DELETE', `/api/v1/users/${id}`, { token });

  it('forbids a non-admin to delete anyone', async () => {
    const alice = await createUser(server);
    const bob = await createUser(server);
    for (const id of [bob.id, alice.id, admin.id]) {
      assertError(await remove(alice.accessToken, id), 403, 'FORBIDDEN', 'Insufficient permissions.');
    }
    assert.equal((await storedUser(server, bob.id))?.deleted_at, null);
    assert.equal((await server.request('GET', `/api/v1/users/${bob.id}`, { token: alice.accessToken })).status, 200);
  });

  it('checks the role before validating the id', async () => {
    const carol = await createUser(server);
    assertError(await remove(carol.accessToken, 'not-a-uuid'), 403, 'FORBIDDEN', 'Insufficient permissions.');
    assertError(await remove(admin.accessToken, 'not-a-uuid'), 400, 'INVALID_ID', 'Invalid user ID');
    assertError(await server.request('DELETE', '/api/v1/users/not-a-uuid'), 401, 'NO_TOKEN');
  });

  it('deletes a user for an admin and answers with the standard message', async () => {
    const dave = await createUser(server);
    const res = await remove(admin.accessToken, dave.id);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body, { success: true, message: 'User deleted successfully' });

    assertError(await server.request('GET', `/api/v1/users/${dave.id}`, { token: admin.accessToken }), 404, 'NOT_FOUND', 'User not found');
    assertError(await remove(admin.accessToken, dave.id), 404, 'NOT_FOUND', 'User not found');
    assertError(await remove(admin.accessToken, randomUUID()), 404, 'NOT_FOUND', 'User not found');
  });

  it("ends the deleted user's access and refresh tokens at once", async () => {
    const erin = await createUser(server);
    const second = await login(server, erin.email, erin.password);
    assert.equal(second.status, 200);
    assert.equal((await server.request('GET', '/api/v1/users/me', { token: erin.accessToken })).status, 200);

    assert.equal((await remove(admin.accessToken, erin.id)).status, 200);

    for (const token of [erin.accessToken, second.body.accessToken as string]) {
      const res = await server.request('GET', '/api/v1/users/me', { token });
      assertError(res, 401, 'INVALID_TOKEN', 'Invalid or expired token.');
      assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer/);
    }
    for (const refreshToken of [erin.refreshToken, second.body.refreshToken as string]) {
      const res = await server.request('POST', '/api/v1/auth/refresh', { body: { refreshToken } });
      assertError(res, 401, 'INVALID_TOKEN', 'Invalid or expired token.');
    }
    assertError(await login(server, erin.email, erin.password), 401, 'INVALID_CREDENTIALS', 'Invalid credentials');

    const { rows } = await server.sql.query<{ revoked_at: Date | null; ip: string | null }>(
      'select revoked_at, ip from sessions where user_id = $1',
      [erin.id],
    );
    assert.ok(rows.length >= 2);
    for (const s of rows) {
      assert.ok(s.revoked_at, 'every session is revoked');
      assert.equal(s.ip, null, 'where they signed in from is forgotten');
    }
  });

  it('keeps the row for authored content but removes the personal data', async () => {
    const frank = await createUser(server, { name: 'Frank Private', email: 'frank.private@example.com' });
    assert.equal((await remove(admin.accessToken, frank.id)).status, 200);
    const row = await storedUser(server, frank.id);
    assert.ok(row, 'the users row still exists');
    assert.ok(row.deleted_at instanceof Date);
    assert.equal(row.name, 'Deleted user');
    assert.doesNotMatch(row.email, /frank/i);
    assert.equal(row.password_hash, null);
    assert.equal(row.email_verified_at, null);
    const { rows: tokens } = await server.sql.query('select id from one_time_tokens where user_id = $1', [frank.id]);
    assert.deepEqual(tokens, [], 'pending verification links are gone');
  });

  it("lets the deleted user's e-mail address register again", async () => {
    const grace = await createUser(server, { email: 'grace.again@example.com' });
    assert.equal((await remove(admin.accessToken, grace.id)).status, 200);
    const again = await createUser(server, { email: 'Grace.Again@example.com' });
    assert.notEqual(again.id, grace.id);
    assert.equal(again.role, 'user');
    const me = await server.request('GET', '/api/v1/users/me', { token: again.accessToken });
    assert.equal(me.status, 200);
    assert.equal(me.body.data.id, again.id);
    // The old account stays deleted.
    assertError(await server.request('GET', `/api/v1/users/${grace.id}`, { token: again.accessToken }), 404, 'NOT_FOUND');
  });

  it('records the deletion in the audit trail with the request that caused it', async () => {
    const heidi = await createUser(server);
    const requestId = `delete-${randomUUID()}`;
    const res = await server.request('DELETE', `/api/v1/users/${heidi.id}`, {
      token: admin.accessToken,
      headers: { 'x-request-id': requestId, 'user-agent': 'users-test/1.0' },
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-request-id'), requestId);
    const { rows } = await server.sql.query<{ actor_id: string; ip: string | null; user_agent: string | null; request_id: string }>(
      "select actor_id, ip, user_agent, request_id from audit_events where action = 'user.deleted' and target_id = $1",
      [heidi.id],
    );
    assert.equal(rows.length, 1);
    assert.equal(rows[0]?.actor_id, admin.id);
    assert.equal(rows[0]?.request_id, requestId);
    assert.equal(rows[0]?.user_agent, 'users-test/1.0');
    assert.ok(rows[0]?.ip);
  });

  it('lets an admin delete themselves when another admin remains', async () => {
    const ivan = await createUser(server);
    const promote = await server.request('PUT', `/api/v1/users/${ivan.id}`, {
      token: admin.accessToken,
      body: { name: ivan.name, email: ivan.email, role: 'admin' },
    });
    assert.equal(promote.status, 200);
    const res = await remove(ivan.accessToken, ivan.id);
    assert.equal(res.status, 200, res.text);
    assertError(await server.request('GET', '/api/v1/users/me', { token: ivan.accessToken }), 401, 'INVALID_TOKEN');
    assertError(await remove(admin.accessToken, admin.id), 409, 'CONFLICT');
  });
});
