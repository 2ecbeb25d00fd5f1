// Invitations by e-mail: create (the mail carries a single-use link), list, revoke, resend,
// preview without signing in, accept, and registering through the link.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  assertError,
  assertStatus,
  auditRows,
  invitationLinkToken,
  lastInvitationToken,
  recordEvents,
  startApiServer,
} from './helpers/api.js';
import { addWorkspaceMember, createUser, createWorkspace, type RegisteredUser, strongPassword, uniqueEmail } from './helpers/factories.js';
import type { TestServer } from './helpers/server.js';

let server: TestServer;
before(async () => {
  server = await startApiServer();
});
after(() => server.close());

async function team() {
  const owner = await createUser(server, { name: 'Olga Owner' });
  const ws = await createWorkspace(server, owner, 'Invite Co');
  const admin = await addWorkspaceMember(server, owner, ws.id, 'admin');
  const member = await addWorkspaceMember(server, owner, ws.id, 'member');
  return { owner, ws, admin, member };
}

/** Invites `email` and answers the response and the link's token. */
async function invite(by: RegisteredUser, workspaceId: string, email: string, role?: string) {
  const previous = lastInvitationToken(server, email);
  const res = await server.request('POST', `/api/v1/workspaces/${workspaceId}/invitations`, {
    token: by.accessToken,
    body: { email, role },
  });
  assertStatus(res, 201);
  return { invitation: res.body.data, token: await invitationLinkToken(server, email, previous) };
}

const accept = (user: RegisteredUser, token: string) =>
  server.request('POST', '/api/v1/invitations/accept', { token: user.accessToken, body: { token } });
const preview = (token: string) => server.request('POST', '/api/v1/invitations/lookup', { body: { token } });
const isMember = async (workspaceId: string, userId: string) =>
  (await server.sql.query('select 1 from workspace_members where workspace_id = $1 and user_id = $2', [workspaceId, userId])).rowCount ===
  1;

describe('inviting people', () => {
  it('stores the invitation with a hashed token and mails a link to the address', async () => {
    const { ws, admin } = await team();
    const email = uniqueEmail('newbie');
    const { invitation, token } = await invite(admin, ws.id, email, 'guest');
    assert.deepEqual(Object.keys(invitation).sort(), [
      'acceptedAt',
      'createdAt',
      'email',
      'expiresAt',
      'id',
      'invitedBy',
      'revokedAt',
      'role',
      'sentCount',
      'status',
      'workspaceId',
    ]);
    assert.equal(invitation.status, 'open');
    const read = await server.request('GET', `/api/v1/workspaces/${ws.id}/invitations/${invitation.id}`, { token: admin.accessToken });
    assertStatus(read, 200);
    assert.deepEqual(read.body.data, invitation, 'Location points at the same invitation');
    assert.equal(invitation.email, email);
    assert.equal(invitation.role, 'guest');
    assert.equal(invitation.invitedBy, admin.id);
    assert.equal(invitation.sentCount, 1);
    const days = (Date.parse(invitation.expiresAt) - Date.now()) / 86_400_000;
    assert.ok(days > 6.9 && days <= 7, `expires in 7 days (${days})`);
    assert.ok(token.length >= 20);
    const { rows } = await server.sql.query('select token_hash from invitations where id = $1', [invitation.id]);
    assert.notEqual(rows[0]?.token_hash, token, 'the token is not stored as sent');
    assert.ok(!JSON.stringify(invitation).includes(token), 'the token is only in the mail');
    const mail = server.logs.find((l) => l.to === email && l.subject === 'Join Invite Co on Tandem');
    assert.ok(mail, 'the mail names the workspace');
    const audit = await auditRows(server, 'invitation.created', invitation.id);
    assert.deepEqual(audit[0]?.metadata, { workspaceId: ws.id, role: 'guest' });
  });

  it('invites as member unless a role is given', async () => {
    const { ws, owner } = await team();
    const res = await server.request('POST', `/api/v1/workspaces/${ws.id}/invitations`, {
      token: owner.accessToken,
      body: { email: uniqueEmail() },
    });
    assertStatus(res, 201);
    assert.equal(res.body.data.role, 'member');
  });

  it('lets only owners invite owners, and refuses members', async () => {
    const { ws, owner, admin, member } = await team();
    const body = (role: string) => ({ email: uniqueEmail(), role });
    const post = (user: RegisteredUser, b: unknown) =>
      server.request('POST', `/api/v1/workspaces/${ws.id}/invitations`, { token: user.accessToken, body: b });
    assertError(await post(admin, body('owner')), 403, 'FORBIDDEN');
    assertError(await post(member, body('guest')), 403, 'FORBIDDEN');
    assertStatus(await post(owner, body('owner')), 201);
    assertError(await post(owner, { email: 'not-an-address' }), 400, 'VALIDATION_FAILED');
    assertError(await post(owner, { email: uniqueEmail(), role: 'member', expiresAt: '2030-01-01' }), 400, 'VALIDATION_FAILED');
  });

  it('answers 409 when the address already belongs to a member', async () => {
    const { ws, owner, member } = await team();
    const res = await server.request('POST', `/api/v1/workspaces/${ws.id}/invitations`, {
      token: owner.accessToken,
      body: { email: member.email.toUpperCase() },
    });
    assertError(res, 409, 'CONFLICT', 'This person is already a member of the workspace');
  });

  it('treats inviting an address again as a resend: one invitation, a new link, the old one dead', async () => {
    const { ws, owner } = await team();
    const email = uniqueEmail('twice');
    const first = await invite(owner, ws.id, email, 'member');
    const second = await invite(owner, ws.id, email, 'guest');
    assert.equal(second.invitation.id, first.invitation.id);
    assert.equal(second.invitation.role, 'guest');
    assert.equal(second.invitation.sentCount, 2);
    assert.equal((await auditRows(server, 'invitation.resent', first.invitation.id)).length, 1);
    assertError(await preview(first.token), 400, 'VALIDATION_FAILED');
    assertStatus(await preview(second.token), 200);
  });

  it('lets an address whose invitation expired be invited again', async () => {
    const { ws, owner } = await team();
    const email = uniqueEmail('late');
    const first = await invite(owner, ws.id, email);
    await server.sql.query("update invitations set expires_at = now() - interval '1 minute' where id = $1", [first.invitation.id]);
    const again = await invite(owner, ws.id, email);
    assert.ok(Date.parse(again.invitation.expiresAt) > Date.now());
    const user = await createUser(server, { email });
    assertStatus(await accept(user, again.token), 200);
  });
});

describe('listing, revoking and resending invitations', () => {
  it('lists open invitations to admins only: not accepted, revoked or expired ones', async () => {
    const { ws, owner, admin, member } = await team();
    const open = await invite(owner, ws.id, uniqueEmail('open'));
    const revoked = await invite(owner, ws.id, uniqueEmail('revoked'));
    const expired = await invite(owner, ws.id, uniqueEmail('expired'));
    await server.request('DELETE', `/api/v1/workspaces/${ws.id}/invitations/${revoked.invitation.id}`, { token: owner.accessToken });
    await server.sql.query("update invitations set expires_at = now() - interval '1 second' where id = $1", [expired.invitation.id]);
    await addWorkspaceMember(server, owner, ws.id, 'guest');

    const res = await server.request('GET', `/api/v1/workspaces/${ws.id}/invitations`, { token: admin.accessToken });
    assertStatus(res, 200);
    assert.deepEqual(
      res.body.data.map((i: { id: string }) => i.id),
      [open.invitation.id],
    );
    assert.equal(res.body.pagination.total, 1);
    assertError(await server.request('GET', `/api/v1/workspaces/${ws.id}/invitations`, { token: member.accessToken }), 403, 'FORBIDDEN');
  });

  it('revokes an invitation: its link stops working, and it cannot be revoked twice', async () => {
    const { ws, admin } = await team();
    const email = uniqueEmail('revokee');
    const { invitation, token } = await invite(admin, ws.id, email);
    const path = `/api/v1/workspaces/${ws.id}/invitations/${invitation.id}`;
    const res = await server.request('DELETE', path, { token: admin.accessToken });
    assertStatus(res, 200);
    assert.deepEqual(res.body, { success: true, message: 'Invitation deleted successfully' });
    assertError(await preview(token), 400, 'VALIDATION_FAILED', 'Validation failed: token is invalid, used or has expired');
    const user = await createUser(server, { email });
    assertError(await accept(user, token), 400, 'VALIDATION_FAILED');
    assert.equal(await isMember(ws.id, user.id), false);
    assertError(await server.request('DELETE', path, { token: admin.accessToken }), 404, 'NOT_FOUND', 'Invitation not found');
    assert.equal((await auditRows(server, 'invitation.revoked', invitation.id)).length, 1);
  });

  it('refuses to revoke or resend an accepted invitation', async () => {
    const { ws, owner } = await team();
    const email = uniqueEmail('accepted');
    const { invitation, token } = await invite(owner, ws.id, email);
    assertStatus(await accept(await createUser(server, { email }), token), 200);
    const path = `/api/v1/workspaces/${ws.id}/invitations/${invitation.id}`;
    assertError(await server.request('DELETE', path, { token: owner.accessToken }), 409, 'CONFLICT');
    assertError(await server.request('POST', `${path}/resend`, { token: owner.accessToken }), 409, 'CONFLICT');
  });

  it('resends with a new link and expiry: the old link stops working, the new one works', async () => {
    const { ws, owner } = await team();
    const email = uniqueEmail('resend');
    const { invitation, token: oldToken } = await invite(owner, ws.id, email);
    await server.sql.query("update invitations set expires_at = now() + interval '1 hour' where id = $1", [invitation.id]);
    const res = await server.request('POST', `/api/v1/workspaces/${ws.id}/invitations/${invitation.id}/resend`, {
      token: owner.accessToken,
    });
    assertStatus(res, 200);
    assert.equal(res.body.data.sentCount, 2);
    assert.ok(Date.parse(res.body.data.expiresAt) > Date.now() + 6 * 86_400_000, 'a fresh expiry');
    const newToken = await invitationLinkToken(server, email, oldToken);
    assertError(await preview(oldToken), 400, 'VALIDATION_FAILED');
    const user = await createUser(server, { email });
    assertError(await accept(user, oldToken), 400, 'VALIDATION_FAILED');
    assertStatus(await accept(user, newToken), 200);
    assert.equal((await auditRows(server, 'invitation.resent', invitation.id)).length, 1);
  });

  it('invites an address again with a new invitation once the old one was revoked', async () => {
    const { ws, owner } = await team();
    const email = uniqueEmail('second-chance');
    const first = await invite(owner, ws.id, email);
    await server.request('DELETE', `/api/v1/workspaces/${ws.id}/invitations/${first.invitation.id}`, { token: owner.accessToken });
    const second = await invite(owner, ws.id, email);
    assert.notEqual(second.invitation.id, first.invitation.id);
    assert.equal(second.invitation.sentCount, 1);
    assertStatus(await accept(await createUser(server, { email }), second.token), 200);
  });

  it("answers 404 for another workspace's invitation, even to its admin", async () => {
    const { ws, owner } = await team();
    const other = await createWorkspace(server, owner);
    const { invitation } = await invite(owner, other.id, uniqueEmail());
    const path = `/api/v1/workspaces/${ws.id}/invitations/${invitation.id}`;
    assertError(await server.request('DELETE', path, { token: owner.accessToken }), 404, 'NOT_FOUND');
    assertError(await server.request('POST', `${path}/resend`, { token: owner.accessToken }), 404, 'NOT_FOUND');
    assertError(
      await server.request('DELETE', `/api/v1/workspaces/${ws.id}/invitations/${randomUUID()}`, { token: owner.accessToken }),
      404,
      'NOT_FOUND',
    );
    const { rows } = await server.sql.query('select revoked_at, sent_count from invitations where id = $1', [invitation.id]);
    assert.deepEqual(rows[0], { revoked_at: null, sent_count: 1 });
  });
});

describe('following an invitation link', () => {
  it('previews what the link offers without signing in', async () => {
    const { ws, owner } = await team();
    const email = uniqueEmail('peek');
    const { token } = await invite(owner, ws.id, email, 'admin');
    const res = await preview(token);
    assertStatus(res, 200);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.deepEqual(res.body.data, {
      workspace: { id: ws.id, name: 'Invite Co', slug: ws.slug },
      email,
      role: 'admin',
      invitedBy: 'Olga Owner',
      expiresAt: res.body.data.expiresAt,
    });
    assertError(await preview('x'.repeat(43)), 400, 'VALIDATION_FAILED');
    assertStatus(await preview('short'), 400);
  });

  it('accepts for the invited address: membership with the role, audit row and member.added event', async () => {
    const { ws, owner } = await team();
    const email = uniqueEmail('joiner');
    const { invitation, token } = await invite(owner, ws.id, email, 'admin');
    const user = await createUser(server, { email: email.toUpperCase() });
    const recorder = recordEvents(server);
    try {
      const res = await accept(user, token);
      assertStatus(res, 200);
      assert.equal(res.body.data.id, ws.id);
      assert.equal(res.body.data.role, 'admin');
      const event = await recorder.waitFor((e) => e.type === 'member.added');
      assert.deepEqual(event.data, { workspaceId: ws.id, userId: user.id, role: 'admin' });
    } finally {
      recorder.stop();
    }
    const { rows } = await server.sql.query('select role from workspace_members where workspace_id = $1 and user_id = $2', [
      ws.id,
      user.id,
    ]);
    assert.deepEqual(rows, [{ role: 'admin' }]);
    const stored = await server.sql.query('select accepted_at, accepted_by from invitations where id = $1', [invitation.id]);
    assert.ok(stored.rows[0]?.accepted_at);
    assert.equal(stored.rows[0]?.accepted_by, user.id);
    const audit = (await auditRows(server, 'invitation.accepted', ws.id)).filter((a) => a.actor_id === user.id);
    assert.deepEqual(
      audit.map((a) => a.metadata),
      [{ invitationId: invitation.id, role: 'admin' }],
    );
  });

  it('refuses another address (403), an expired link and a second use (400)', async () => {
    const { ws, owner } = await team();
    const email = uniqueEmail('target');
    const { invitation, token } = await invite(owner, ws.id, email);
    const someoneElse = await createUser(server);
    assertError(await accept(someoneElse, token), 403, 'FORBIDDEN', 'This invitation was sent to another e-mail address.');
    assert.equal(await isMember(ws.id, someoneElse.id), false);

    const user = await createUser(server, { email });
    await server.sql.query("update invitations set expires_at = now() - interval '1 second' where id = $1", [invitation.id]);
    assertError(await accept(user, token), 400, 'VALIDATION_FAILED');
    assertError(await preview(token), 400, 'VALIDATION_FAILED');
    assert.equal(await isMember(ws.id, user.id), false);

    await server.sql.query("update invitations set expires_at = now() + interval '1 day' where id = $1", [invitation.id]);
    assertStatus(await accept(user, token), 200);
    assertError(await accept(user, token), 400, 'VALIDATION_FAILED');
    assertError(await server.request('POST', '/api/v1/invitations/accept', { body: { token } }), 401, 'NO_TOKEN');
  });

  it('registers a new account through the link: member and verified address in one step', async () => {
    const { ws, owner } = await team();
    const email = uniqueEmail('signup');
    const { invitation, token } = await invite(owner, ws.id, email, 'guest');
    const res = await server.request('POST', '/api/v1/auth/register', {
      body: { name: 'Invited Person', email, password: strongPassword(), invitationToken: token },
    });
    assertStatus(res, 201);
    const userId = res.body.user.id;
    assert.equal(res.body.user.emailVerified, true);
    const { rows } = await server.sql.query('select role from workspace_members where workspace_id = $1 and user_id = $2', [ws.id, userId]);
    assert.deepEqual(rows, [{ role: 'guest' }]);
    const stored = await server.sql.query('select accepted_by from invitations where id = $1', [invitation.id]);
    assert.equal(stored.rows[0]?.accepted_by, userId);
    const mine = await server.request('GET', '/api/v1/workspaces', { token: res.body.accessToken });
    assert.deepEqual(
      mine.body.data.map((w: { id: string }) => w.id),
      [ws.id],
    );
    assert.ok(
      !server.logs.some((l) => l.to === email && typeof l.link === 'string' && l.link.includes('verify-email')),
      'no verification mail',
    );
  });

  it('creates no account when the link is bad or for another address', async () => {
    const { ws, owner } = await team();
    const invited = uniqueEmail('invited');
    const { token } = await invite(owner, ws.id, invited);
    const register = (email: string, invitationToken: string) =>
      server.request('POST', '/api/v1/auth/register', { body: { name: 'Hopeful', email, password: strongPassword(), invitationToken } });
    const bad = uniqueEmail('bad');
    assertError(await register(bad, 'z'.repeat(43)), 400, 'VALIDATION_FAILED', /token is invalid/);
    const wrong = uniqueEmail('wrong');
    assertError(await register(wrong, token), 403, 'FORBIDDEN');
    const { rows } = await server.sql.query('select email from users where email = any($1)', [[bad, wrong]]);
    assert.deepEqual(rows, [], 'no user was created');
    assertStatus(await preview(token), 200);
  });
});
