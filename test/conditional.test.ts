import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createUser, type RegisteredUser } from './helpers/factories.js';
import { startTestServer, type TestServer } from './helpers/server.js';

describe('conditional requests on users', () => {
  let server: TestServer;
  let admin: RegisteredUser;
  let member: RegisteredUser;
  before(async () => {
    server = await startTestServer();
    admin = await createUser(server);
    member = await createUser(server);
  });
  after(() => server.close());

  it('answers 304 to If-None-Match with the current ETag, and 200 once the user changed', async () => {
    const first = await server.request('GET', `/api/v1/users/${member.id}`, { token: admin.accessToken });
    const etag = first.headers.get('etag');
    assert.ok(etag, 'an ETag is sent');
    const again = await server.request('GET', `/api/v1/users/${member.id}`, {
      token: admin.accessToken,
      headers: { 'if-none-match': etag },
    });
    assert.equal(again.status, 304);
    assert.equal(again.text, '');
    await server.request('PATCH', '/api/v1/users/me', { token: member.accessToken, body: { name: 'Renamed' } });
    const changed = await server.request('GET', `/api/v1/users/${member.id}`, {
      token: admin.accessToken,
      headers: { 'if-none-match': etag },
    });
    assert.equal(changed.status, 200);
    assert.notEqual(changed.headers.get('etag'), etag);
  });

  it('refuses a write whose If-Match is stale with 412 and changes nothing', async () => {
    const me = await server.request('GET', '/api/v1/users/me', { token: member.accessToken });
    const etag = me.headers.get('etag') ?? '';
    const ok = await server.request('PATCH', '/api/v1/users/me', {
      token: member.accessToken,
      body: { name: 'First' },
      headers: { 'if-match': etag },
    });
    assert.equal(ok.status, 200);
    const stale = await server.request('PATCH', '/api/v1/users/me', {
      token: member.accessToken,
      body: { name: 'Second' },
      headers: { 'if-match': etag },
    });
    assert.equal(stale.status, 412);
    assert.equal(stale.body.code, 'PRECONDITION_FAILED');
    const { rows } = await server.sql.query('select name from users where id = $1', [member.id]);
    assert.equal(rows[0].name, 'First');
  });

  it('lets exactly one of two concurrent writes with the same If-Match through', async () => {
    const me = await server.request('GET', '/api/v1/users/me', { token: member.accessToken });
    const etag = me.headers.get('etag') ?? '';
    const results = await Promise.all(
      ['Left', 'Right'].map((name) =>
        server.request('PUT', `/api/v1/users/${member.id}`, {
          token: member.accessToken,
          body: { name, email: member.email },
          headers: { 'if-match': etag },
        }),
      ),
    );
    assert.deepEqual(results.map((r) => r.status).sort(), [200, 412]);
  });

  it('honours If-Match on delete', async () => {
    const victim = await createUser(server);
    const stale = await server.request('DELETE', `/api/v1/users/${victim.id}`, {
      token: admin.accessToken,
      headers: { 'if-match': '"999"' },
    });
    assert.equal(stale.status, 412);
    const current = await server.request('GET', `/api/v1/users/${victim.id}`, { token: admin.accessToken });
    const done = await server.request('DELETE', `/api/v1/users/${victim.id}`, {
      token: admin.accessToken,
      headers: { 'if-match': current.headers.get('etag') ?? '' },
    });
    assert.equal(done.status, 200);
  });
});
