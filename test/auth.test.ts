// Accounts and sign-in over real HTTP: registration, login, refresh rotation with reuse
// detection, sessions per device, password change, access-token forgery and cookie mode.
import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createSigner } from 'fast-jwt';
import { createUser, login, strongPassword, uniqueEmail } from './helpers/factories.js';
import { type ApiResponse, startTestServer, type TestServer } from './helpers/server.js';

interface AccessPayload {
  sub: string;
  sid: string;
  role: string;
}

const b64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

function payloadOf(token: string): AccessPayload {
  const part = token.split('.')[1];
  assert.ok(part, 'a JWT has a payload segment');
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as AccessPayload;
}

/** A JWT built by hand: whatever header we like, HMAC-SHA256 over it with `secret`. */
function hmacJwt(header: object, payload: object, secret: string): string {
  const input = `${b64url(header)}.${b64url(payload)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

function assertInvalidToken(res: ApiResponse) {
  assert.equal(res.status, 401, res.text);
  assert.equal(res.body.code, 'INVALID_TOKEN');
  assert.equal(res.body.error, 'Invalid or expired token.');
  assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer\b/);
}

function assertValidationFailed(res: ApiResponse, path: string) {
  assert.equal(res.status, 400, res.text);
  assert.equal(res.body.success, false);
  assert.equal(res.body.code, 'VALIDATION_FAILED');
  assert.ok(res.body.error.startsWith('Validation failed'), res.body.error);
  assert.ok(Array.isArray(res.body.details), 'details lists the offending fields');
  assert.ok(
    res.body.details.some((d: { path: string }) => d.path === path),
    `details name ${path}: ${JSON.stringify(res.body.details)}`,
  );
}

/** Set-Cookie headers by cookie name: the value and the attribute text after it. */
function setCookies(res: ApiResponse): Map<string, { value: string; attributes: string }> {
  const cookies = new Map<string, { value: string; attributes: string }>();
  for (const header of res.headers.getSetCookie()) {
    const [pair = '', ...attributes] = header.split(';');
    const eq = pair.indexOf('=');
    cookies.set(pair.slice(0, eq).trim(), { value: pair.slice(eq + 1).trim(), attributes: attributes.map((a) => `;${a}`).join('') });
  }
  return cookies;
}

describe('auth API', () => {
  let server: TestServer;
  // Every request of this file comes from 127.0.0.1, so the per-address auth bucket is shared
  // by all its tests; brute-force limits are tested on their own server below.
  before(async () => {
    server = await startTestServer({ AUTH_RATE_LIMIT_MAX: '100' });
  });
  after(() => server.close());

  const me = (token: string) => server.request('GET', '/api/v1/users/me', { token });
  const refresh = (refreshToken: string) => server.request('POST', '/api/v1/auth/refresh', { body: { refreshToken } });
  const userRows = async (email: string) =>
    (await server.sql.query('select id, role, password_hash from users where lower(email) = lower($1)', [email])).rows;

  describe('registration', () => {
    it('makes the first account admin and every later one a user', async () => {
      const first = await createUser(server);
      const second = await createUser(server);
      assert.equal(first.role, 'admin');
      assert.equal(second.role, 'user');
      assert.equal((await userRows(first.email))[0]?.role, 'admin');
      assert.equal((await userRows(second.email))[0]?.role, 'user');
    });

    it('answers with a token response and a Location, and never exposes the password hash', async () => {
      const input = { name: 'Ada Lovelace', email: uniqueEmail('ada'), password: strongPassword() };
      const res = await server.request('POST', '/api/v1/auth/register', { body: input });
      assert.equal(res.status, 201, res.text);
      assert.equal(res.body.success, true);
      assert.equal(res.body.message, 'User registered successfully');
      assert.equal(res.body.tokenType, 'Bearer');
      assert.equal(res.body.expiresIn, 900);
      assert.equal(typeof res.body.accessToken, 'string');
      assert.equal(typeof res.body.refreshToken, 'string');
      assert.equal(res.body.user.email, input.email);
      assert.equal(res.body.user.name, input.name);
      assert.equal(res.body.user.role, 'user');
      assert.equal(res.body.user.emailVerified, false);
      assert.deepEqual(
        Object.keys(res.body.user).filter((k) => /hash|password/i.test(k)),
        [],
      );
      assert.ok(!res.text.includes('$argon2'), 'no hash anywhere in the body');
      assert.ok(!res.text.includes(input.password), 'the password is not echoed');
      assert.equal(res.headers.get('location'), `/api/v1/users/${res.body.user.id}`);
      assert.equal(res.headers.get('cache-control'), 'no-store');

      const [row] = await userRows(input.email);
      assert.match(row?.password_hash, /^\$argon2id\$/, 'stored as an argon2id hash, not as typed');
      const located = await server.request('GET', res.headers.get('location') ?? '', { token: res.body.accessToken });
      assert.equal(located.status, 200);
      assert.equal(located.body.data.email, input.email);
    });

    it('refuses an invalid e-mail address with the validation envelope', async () => {
      const res = await server.request('POST', '/api/v1/auth/register', {
        body: { name: 'No Mail', email: 'not-an-email', password: strongPassword() },
      });
      assertValidationFailed(res, 'email');
      assert.equal(res.body.error, 'Validation failed: email must be a valid email address');
      assert.equal(res.body.requestId, res.headers.get('x-request-id'));
    });

    it('refuses a role in the body instead of silently dropping it (mass assignment)', async () => {
      const email = uniqueEmail('sneaky');
      const res = await server.request('POST', '/api/v1/auth/register', {
        body: { name: 'Sneaky', email, password: strongPassword(), role: 'admin' },
      });
      assertValidationFailed(res, 'role');
      assert.deepEqual(await userRows(email), []);
    });

    it('refuses an address already registered in another letter case with 409', async () => {
      const taken = await createUser(server);
      const res = await server.request('POST', '/api/v1/auth/register', {
        body: { name: 'Copycat', email: taken.email.toUpperCase(), password: strongPassword() },
      });
      assert.equal(res.status, 409, res.text);
      assert.equal(res.body.code, 'CONFLICT');
      assert.match(res.body.error, /email/i);
      assert.equal((await userRows(taken.email)).length, 1);
    });

    it('refuses a password shorter than 10 characters', async () => {
      const email = uniqueEmail();
      const res = await server.request('POST', '/api/v1/auth/register', { body: { name: 'Short', email, password: 'Sh0rt-pw!' } });
      assertValidationFailed(res, 'password');
      assert.deepEqual(await userRows(email), []);
    });

    it('refuses a common password', async () => {
      const email = uniqueEmail();
      const res = await server.request('POST', '/api/v1/auth/register', { body: { name: 'Common', email, password: 'password123' } });
      assertValidationFailed(res, 'password');
      assert.deepEqual(await userRows(email), []);
    });

    it('refuses a password longer than 256 characters', async () => {
      const email = uniqueEmail();
      const res = await server.request('POST', '/api/v1/auth/register', {
        body: { name: 'Long', email, password: `Aa1-${'x'.repeat(253)}` },
      });
      assertValidationFailed(res, 'password');
      assert.deepEqual(await userRows(email), []);
    });
  });

  describe('login', () => {
    it('signs in with the right password and records auth.login', async () => {
      const user = await createUser(server);
      const res = await login(server, user.email, user.password);
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.success, true);
      assert.equal(res.body.message, 'Login successful');
      assert.equal(res.body.user.id, user.id);
      assert.equal(res.body.tokenType, 'Bearer');
      assert.equal(res.body.expiresIn, 900);
      assert.equal(typeof res.body.refreshToken, 'string');
      assert.equal((await me(res.body.accessToken)).status, 200);
      const audit = await server.sql.query("select 1 from audit_events where action = 'auth.login' and actor_id = $1", [user.id]);
      assert.equal(audit.rowCount, 1);
    });

    it('accepts the e-mail address in any letter case', async () => {
      const user = await createUser(server);
      const res = await login(server, user.email.toUpperCase(), user.password);
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.user.id, user.id);
    });

    it('answers a wrong password and an unknown address alike and records both failures', async () => {
      const user = await createUser(server);
      const unknown = uniqueEmail('nobody');
      const wrong = await login(server, user.email, `${user.password}-wrong`);
      const missing = await login(server, unknown, user.password);
      for (const res of [wrong, missing]) {
        assert.equal(res.status, 401, res.text);
        assert.equal(res.body.success, false);
        assert.equal(res.body.error, 'Invalid credentials');
        assert.equal(res.body.code, 'INVALID_CREDENTIALS');
        assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer\b/);
        assert.equal(res.body.accessToken, undefined);
      }
      const failures = await server.sql.query(
        "select actor_id, metadata->>'email' as email from audit_events where action = 'auth.login_failed' and metadata->>'email' = any($1) order by email",
        [[user.email.toLowerCase(), unknown.toLowerCase()]],
      );
      assert.deepEqual(
        failures.rows.map((r) => [r.email, r.actor_id]).sort(),
        [
          [user.email.toLowerCase(), user.id],
          [unknown.toLowerCase(), null],
        ].sort(),
      );
    });
  });

  describe('refresh token rotation', () => {
    it('exchanges a refresh token for new tokens and spends the old one', async () => {
      const user = await createUser(server);
      const res = await refresh(user.refreshToken);
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.message, 'Token refreshed');
      assert.equal(res.body.tokenType, 'Bearer');
      assert.equal(res.body.expiresIn, 900);
      assert.notEqual(res.body.refreshToken, user.refreshToken);
      assert.equal(payloadOf(res.body.accessToken).sid, payloadOf(user.accessToken).sid, 'same device session');
      assert.equal((await me(res.body.accessToken)).status, 200);
      const rows = await server.sql.query('select used_at from sessions where user_id = $1 order by created_at, id', [user.id]);
      assert.equal(rows.rowCount, 2);
      assert.ok(rows.rows[0]?.used_at, 'the first refresh token is spent');
      assert.equal(rows.rows[1]?.used_at, null);
    });

    it('revokes the whole session family when a spent refresh token is presented', async () => {
      const user = await createUser(server);
      const first = await refresh(user.refreshToken);
      assert.equal(first.status, 200);
      const second = await refresh(first.body.refreshToken);
      assert.equal(second.status, 200);

      assertInvalidToken(await refresh(user.refreshToken));

      assertInvalidToken(await refresh(second.body.refreshToken));
      assertInvalidToken(await me(second.body.accessToken));
      assertInvalidToken(await me(user.accessToken));
      const family = payloadOf(user.accessToken).sid;
      const reasons = await server.sql.query('select distinct revoked_reason from sessions where family_id = $1', [family]);
      assert.deepEqual(reasons.rows, [{ revoked_reason: 'refresh_token_reuse' }]);
      const audit = await server.sql.query("select actor_id from audit_events where action = 'auth.refresh_reuse' and target_id = $1", [
        family,
      ]);
      assert.deepEqual(audit.rows, [{ actor_id: user.id }]);
    });

    it('lets exactly one of two concurrent refreshes with the same token succeed', async () => {
      const user = await createUser(server);
      const results = await Promise.all([refresh(user.refreshToken), refresh(user.refreshToken)]);
      assert.deepEqual(results.map((r) => r.status).sort(), [200, 401]);
    });

    it('refuses a refresh token it never issued', async () => {
      assertInvalidToken(await refresh('x'.repeat(43)));
    });
  });

  describe('sessions and sign-out', () => {
    const sessionsOf = (token: string) => server.request('GET', '/api/v1/auth/sessions', { token });

    it('ends the session on logout: the same access token gets 401 at once', async () => {
      const user = await createUser(server);
      const res = await server.request('POST', '/api/v1/auth/logout', { token: user.accessToken });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.body, { success: true, message: 'Logged out successfully' });
      assertInvalidToken(await me(user.accessToken));
      assertInvalidToken(await refresh(user.refreshToken));
    });

    it('ends every session of the account on logout-all', async () => {
      const user = await createUser(server);
      const laptop = await login(server, user.email, user.password);
      const phone = await login(server, user.email, user.password);
      const res = await server.request('POST', '/api/v1/auth/logout-all', { token: laptop.body.accessToken });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.body, { success: true, message: 'Logged out of 3 sessions' });
      for (const token of [user.accessToken, laptop.body.accessToken, phone.body.accessToken]) assertInvalidToken(await me(token));
      for (const token of [user.refreshToken, laptop.body.refreshToken, phone.body.refreshToken]) assertInvalidToken(await refresh(token));
    });

    it('lists signed-in devices with the current one flagged', async () => {
      const user = await createUser(server);
      const a = await server.request('POST', '/api/v1/auth/login', {
        body: { email: user.email, password: user.password },
        headers: { 'user-agent': 'TandemTest Laptop/1.0' },
      });
      const b = await server.request('POST', '/api/v1/auth/login', {
        body: { email: user.email, password: user.password },
        headers: { 'user-agent': 'TandemTest Phone/2.0' },
      });
      const res = await sessionsOf(b.body.accessToken);
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.data.length, 3);
      const current = res.body.data.filter((s: { current: boolean }) => s.current);
      assert.equal(current.length, 1);
      assert.equal(current[0].id, payloadOf(b.body.accessToken).sid);
      assert.equal(current[0].userAgent, 'TandemTest Phone/2.0');
      const laptop = res.body.data.find((s: { id: string }) => s.id === payloadOf(a.body.accessToken).sid);
      assert.equal(laptop?.userAgent, 'TandemTest Laptop/1.0');
      assert.equal(laptop?.current, false);
      for (const s of res.body.data) {
        assert.equal(typeof s.id, 'string');
        assert.ok(!Number.isNaN(Date.parse(s.lastUsedAt)), 'lastUsedAt is a timestamp');
        assert.equal(s.refreshTokenHash, undefined);
      }
    });

    it('signs out one device by id: its access token stops working at once', async () => {
      const user = await createUser(server);
      const other = await login(server, user.email, user.password);
      const otherSid = payloadOf(other.body.accessToken).sid;
      const res = await server.request('DELETE', `/api/v1/auth/sessions/${otherSid}`, { token: user.accessToken });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.body, { success: true, message: 'Session deleted successfully' });
      assertInvalidToken(await me(other.body.accessToken));
      assertInvalidToken(await refresh(other.body.refreshToken));
      assert.equal((await me(user.accessToken)).status, 200, 'the device that asked stays signed in');
      const list = await sessionsOf(user.accessToken);
      assert.deepEqual(
        list.body.data.map((s: { id: string }) => s.id),
        [payloadOf(user.accessToken).sid],
      );
    });

    it("answers 404 for an unknown session and for another user's session", async () => {
      const user = await createUser(server);
      const stranger = await createUser(server);
      for (const id of [randomUUID(), payloadOf(stranger.accessToken).sid]) {
        const res = await server.request('DELETE', `/api/v1/auth/sessions/${id}`, { token: user.accessToken });
        assert.equal(res.status, 404, res.text);
        assert.equal(res.body.code, 'NOT_FOUND');
        assert.equal(res.body.error, 'Session not found');
      }
      assert.equal((await me(stranger.accessToken)).status, 200, "the stranger's session survives");
    });

    it('answers 400 Invalid session ID for a malformed id', async () => {
      const user = await createUser(server);
      const res = await server.request('DELETE', '/api/v1/auth/sessions/not-a-uuid', { token: user.accessToken });
      assert.equal(res.status, 400, res.text);
      assert.equal(res.body.code, 'INVALID_ID');
      assert.equal(res.body.error, 'Invalid session ID');
    });
  });

  describe('change password', () => {
    const changePassword = (token: string, currentPassword: string, newPassword: string) =>
      server.request('POST', '/api/v1/auth/change-password', { token, body: { currentPassword, newPassword } });

    it('refuses a wrong current password and changes nothing', async () => {
      const user = await createUser(server);
      const other = await login(server, user.email, user.password);
      const res = await changePassword(user.accessToken, `${user.password}-wrong`, strongPassword());
      assertValidationFailed(res, 'currentPassword');
      assert.equal((await me(other.body.accessToken)).status, 200);
      assert.equal((await login(server, user.email, user.password)).status, 200);
    });

    it('signs out every other session but keeps the current one', async () => {
      const user = await createUser(server);
      const other = await login(server, user.email, user.password);
      const newPassword = strongPassword();
      const res = await changePassword(user.accessToken, user.password, newPassword);
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.body, { success: true, message: 'Password changed successfully' });

      assertInvalidToken(await me(other.body.accessToken));
      assertInvalidToken(await refresh(other.body.refreshToken));
      assert.equal((await me(user.accessToken)).status, 200);
      assert.equal((await refresh(user.refreshToken)).status, 200, 'the current session keeps its refresh token');

      const old = await login(server, user.email, user.password);
      assert.equal(old.status, 401);
      assert.equal(old.body.code, 'INVALID_CREDENTIALS');
      assert.equal((await login(server, user.email, newPassword)).status, 200);
    });
  });

  describe('access tokens', () => {
    let claims: AccessPayload;
    const sign = (options: { key?: string; iss?: string; aud?: string; clockTimestamp?: number } = {}) =>
      createSigner({
        key: options.key ?? server.jwtSecret,
        algorithm: 'HS256',
        iss: options.iss ?? 'tandem',
        aud: options.aud ?? 'tandem-api',
        expiresIn: 5 * 60_000,
        ...(options.clockTimestamp ? { clockTimestamp: options.clockTimestamp } : {}),
      })({ sub: claims.sub, sid: claims.sid, role: claims.role });
    const nowSeconds = () => Math.floor(Date.now() / 1000);
    const handMadeClaims = () => ({ ...claims, iss: 'tandem', aud: 'tandem-api', iat: nowSeconds(), exp: nowSeconds() + 300 });

    before(async () => {
      const user = await createUser(server);
      claims = payloadOf(user.accessToken);
      assert.equal(claims.role, 'user');
    });

    it('accepts a token signed with the server secret for a live session (control)', async () => {
      const res = await me(sign());
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.data.id, claims.sub);
      assert.equal((await me(hmacJwt({ alg: 'HS256', typ: 'JWT' }, handMadeClaims(), server.jwtSecret))).status, 200);
    });

    it('refuses a token whose signature was tampered with', async () => {
      const token = sign();
      const [header, payload, signature = ''] = token.split('.');
      const i = Math.floor(signature.length / 2);
      const flipped = `${signature.slice(0, i)}${signature[i] === 'A' ? 'B' : 'A'}${signature.slice(i + 1)}`;
      assertInvalidToken(await me(`${header}.${payload}.${flipped}`));
    });

    it('refuses a token whose claims were edited to raise the role', async () => {
      const [header, , signature] = sign().split('.');
      assertInvalidToken(await me(`${header}.${b64url({ ...handMadeClaims(), role: 'admin' })}.${signature}`));
    });

    it('refuses an unsigned token (alg none)', async () => {
      assertInvalidToken(await me(`${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(handMadeClaims())}.`));
    });

    it('refuses a token signed with another secret', async () => {
      assertInvalidToken(await me(sign({ key: `${server.jwtSecret}-not-ours` })));
    });

    it('refuses a token for another audience', async () => {
      assertInvalidToken(await me(sign({ aud: 'some-other-api' })));
    });

    it('refuses a token from another issuer', async () => {
      assertInvalidToken(await me(sign({ iss: 'someone-else' })));
    });

    it('refuses an expired token', async () => {
      assertInvalidToken(await me(sign({ clockTimestamp: Date.now() - 3600_000 })));
    });

    it('refuses an HMAC-signed token whose header claims RS256 (algorithm confusion)', async () => {
      assertInvalidToken(await me(hmacJwt({ alg: 'RS256', typ: 'JWT' }, handMadeClaims(), server.jwtSecret)));
    });

    it('answers 401 NO_TOKEN without an Authorization header', async () => {
      const res = await server.request('GET', '/api/v1/users/me');
      assert.equal(res.status, 401, res.text);
      assert.equal(res.body.code, 'NO_TOKEN');
      assert.equal(res.body.error, 'Access denied. No token provided.');
      assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer\b/);
    });

    it('refuses Basic credentials with 401', async () => {
      const basic = Buffer.from('someone@example.com:secret').toString('base64');
      const res = await server.request('GET', '/api/v1/users/me', { headers: { authorization: `Basic ${basic}` } });
      assertInvalidToken(res);
    });
  });

  describe('cookie mode', () => {
    const REFRESH = '__Host-tandem_refresh';
    const CSRF = '__Host-tandem_csrf';

    async function cookieLogin() {
      const user = await createUser(server);
      const res = await server.request('POST', '/api/v1/auth/login?cookie=true', { body: { email: user.email, password: user.password } });
      assert.equal(res.status, 200, res.text);
      const cookies = setCookies(res);
      const refreshCookie = cookies.get(REFRESH)?.value ?? '';
      const csrfCookie = cookies.get(CSRF)?.value ?? '';
      return { res, cookies, header: `${REFRESH}=${refreshCookie}; ${CSRF}=${csrfCookie}`, csrf: csrfCookie };
    }

    it('keeps the refresh token in a __Host- HttpOnly cookie and returns a CSRF token instead', async () => {
      const { res, cookies } = await cookieLogin();
      assert.equal(res.body.refreshToken, undefined);
      assert.equal(typeof res.body.accessToken, 'string');
      assert.equal(typeof res.body.csrfToken, 'string');
      const refreshCookie = cookies.get(REFRESH);
      assert.ok(refreshCookie?.value, 'refresh cookie set');
      for (const attribute of [/;\s*HttpOnly/i, /;\s*Secure/i, /;\s*SameSite=Strict/i, /;\s*Path=\/(;|$)/i]) {
        assert.match(refreshCookie.attributes, attribute);
      }
      assert.doesNotMatch(refreshCookie.attributes, /Domain=/i);
      const csrfCookie = cookies.get(CSRF);
      assert.ok(csrfCookie, 'CSRF cookie set');
      assert.equal(csrfCookie.value, res.body.csrfToken);
      for (const attribute of [/;\s*Secure/i, /;\s*SameSite=Strict/i, /;\s*Path=\/(;|$)/i]) assert.match(csrfCookie.attributes, attribute);
      assert.doesNotMatch(csrfCookie.attributes, /HttpOnly/i, 'scripts must be able to read the CSRF cookie');
    });

    it('refuses a cookie refresh without a matching X-CSRF-Token with 403', async () => {
      const { header, csrf } = await cookieLogin();
      const missing = await server.request('POST', '/api/v1/auth/refresh', { headers: { cookie: header } });
      assert.equal(missing.status, 403, missing.text);
      assert.equal(missing.body.code, 'FORBIDDEN');
      const wrong = await server.request('POST', '/api/v1/auth/refresh', {
        headers: { cookie: header, 'x-csrf-token': `${csrf.slice(0, -1)}${csrf.endsWith('A') ? 'B' : 'A'}` },
      });
      assert.equal(wrong.status, 403, wrong.text);
      assert.equal(wrong.body.code, 'FORBIDDEN');
      assert.equal(setCookies(wrong).size, 0, 'no new cookies for a refused request');
      const honest = await server.request('POST', '/api/v1/auth/refresh', { headers: { cookie: header, 'x-csrf-token': csrf } });
      assert.equal(honest.status, 200, 'a refused request does not spend the refresh token');
    });

    it('refreshes from the cookie when X-CSRF-Token matches and sets new cookies', async () => {
      const { header, csrf, cookies } = await cookieLogin();
      const res = await server.request('POST', '/api/v1/auth/refresh', { headers: { cookie: header, 'x-csrf-token': csrf } });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.refreshToken, undefined);
      assert.equal(typeof res.body.csrfToken, 'string');
      const renewed = setCookies(res);
      assert.ok(renewed.get(REFRESH)?.value, 'a new refresh cookie');
      assert.notEqual(renewed.get(REFRESH)?.value, cookies.get(REFRESH)?.value);
      assert.equal(renewed.get(CSRF)?.value, res.body.csrfToken);
      assert.equal((await me(res.body.accessToken)).status, 200);
    });
  });
});

describe('auth rate limiting', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ AUTH_RATE_LIMIT_MAX: '3' });
  });
  after(() => server.close());

  it('locks an account with 429 after repeated failed logins, even for the right password', async () => {
    const user = await createUser(server);
    for (let attempt = 1; attempt <= 3; attempt++) {
      const res = await login(server, user.email, `wrong-password-${attempt}`);
      assert.equal(res.status, 401, `attempt ${attempt}: ${res.text}`);
    }
    const locked = await login(server, user.email, 'wrong-password-4');
    assert.equal(locked.status, 429, locked.text);
    assert.equal(locked.body.code, 'RATE_LIMITED');
    assert.equal(locked.body.error, 'Too many requests, please try again later.');
    const retryAfter = Number(locked.headers.get('retry-after'));
    assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 15 * 60, `Retry-After ${retryAfter}`);
    assert.match(locked.headers.get('ratelimit-policy') ?? '', /;q=3;w=900/);
    assert.match(locked.headers.get('ratelimit') ?? '', /;r=0;t=\d+/);

    const right = await login(server, user.email, user.password);
    assert.equal(right.status, 429, 'the right password does not open a locked account');
    assert.equal(right.body.code, 'RATE_LIMITED');
  });

  it('keeps other accounts usable while one is locked', async () => {
    const victim = await createUser(server);
    for (let attempt = 1; attempt <= 4; attempt++) await login(server, victim.email, `wrong-password-${attempt}`);
    assert.equal((await login(server, victim.email, victim.password)).status, 429);
    const bystander = await createUser(server);
    assert.equal((await login(server, bystander.email, bystander.password)).status, 200);
  });
});
