import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createUser } from './helpers/factories.js';
import { startTestServer, type TestServer } from './helpers/server.js';

describe('smoke', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  it('registers the first user as admin and reads them back with the access token', async () => {
    const admin = await createUser(server);
    assert.equal(admin.role, 'admin');
    const res = await server.request('GET', `/api/v1/users/${admin.id}`, { token: admin.accessToken });
    assert.equal(res.status, 200);
    assert.equal(res.body.data.email, admin.email);
  });
});
