// The HTTP pipeline as a client meets it: the error envelope and request ids, routing
// errors, body handling, security headers, CORS, the general rate limit, probes, metrics
// and the offline API reference.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createUser, login, strongPassword, uniqueEmail } from './helpers/factories.js';
import { type ApiResponse, startTestServer, type TestServer } from './helpers/server.js';
import { waitFor } from './helpers/wait.js';

interface ErrorBody {
  success: false;
  error: string;
  code: string;
  details?: { path: string; message: string }[];
  requestId: string;
}

/** Asserts the api.md error envelope, with the request id in body and header alike. */
function assertError(res: ApiResponse, status: number, code: string): ErrorBody {
  assert.equal(res.status, status, `expected ${status} ${code}, got ${res.status}: ${res.text}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  const body = res.body as ErrorBody;
  assert.equal(body.success, false);
  assert.equal(body.code, code);
  assert.equal(typeof body.error, 'string');
  assert.ok(body.error.length > 0, 'error is a sentence');
  assert.equal(typeof body.requestId, 'string');
  assert.ok(body.requestId.length > 0);
  assert.equal(res.headers.get('x-request-id'), body.requestId);
  assert.deepEqual(
    Object.keys(body)
      .filter((k) => !['success', 'error', 'code', 'details', 'requestId'].includes(k))
      .sort(),
    [],
    'the envelope has no other fields',
  );
  return body;
}

/** Nothing from the server's insides reaches a client. */
function assertNoInternals(res: ApiResponse) {
  assert.doesNotMatch(res.text, /SyntaxError|Unexpected token|"stack"|\bat [\w.<>]+ \(|\/work\/|node_modules|\.[cm]?[jt]s:\d+/);
}

function accessLog(server: TestServer, requestId: string) {
  return waitFor(`the access log line of ${requestId}`, () =>
    server.logs.find((l) => l.msg === 'request completed' && l.requestId === requestId),
  );
}

describe('HTTP pipeline', () => {
  let server: TestServer;
  before(async () => {
    // Trace level: whatever the server logs at any level is searched for secrets below.
    server = await startTestServer({ LOG_LEVEL: 'trace' });
  });
  after(() => server?.close());

  describe('error envelope and request ids', () => {
    it('answers an unknown route with a 404 NOT_FOUND envelope', async () => {
      const res = await server.request('GET', '/api/v1/no-such-thing');
      assertError(res, 404, 'NOT_FOUND');
      assertError(await server.request('POST', '/nowhere', { body: { a: 1 } }), 404, 'NOT_FOUND');
    });

    it('echoes a well-formed client X-Request-Id in the header, the body and the access log', async () => {
      const sent = 'client-trace.42:abc-DEF_1';
      const res = await server.request('GET', '/api/v1/no-such-thing', { headers: { 'x-request-id': sent } });
      const body = assertError(res, 404, 'NOT_FOUND');
      assert.equal(body.requestId, sent);
      const line = await accessLog(server, sent);
      assert.equal(line.statusCode, 404);
    });

    it('replaces a malformed client X-Request-Id with one of its own', async () => {
      for (const sent of ['has spaces in it', 'a'.repeat(200), 'semi;colon', '<script>']) {
        const res = await server.request('GET', '/api/v1/no-such-thing', { headers: { 'x-request-id': sent } });
        const body = assertError(res, 404, 'NOT_FOUND');
        assert.notEqual(body.requestId, sent);
        assert.match(body.requestId, /^[A-Za-z0-9._:-]{1,128}$/);
      }
    });

    it('gives every request its own id when the client sends none', async () => {
      const a = assertError(await server.request('GET', '/api/v1/nope'), 404, 'NOT_FOUND');
      const b = assertError(await server.request('GET', '/api/v1/nope'), 404, 'NOT_FOUND');
      assert.notEqual(a.requestId, b.requestId);
    });

    it('answers a wrong method on a known path with 405 and an Allow header', async () => {
      const res = await server.request('PATCH', '/api/v1/auth/login', { body: {} });
      assertError(res, 405, 'METHOD_NOT_ALLOWED');
      const allow = (res.headers.get('allow') ?? '').split(',').map((m) => m.trim());
      assert.deepEqual(allow, ['POST']);

      const onParam = await server.request('POST', '/api/v1/users/0190a5f2-4c1e-7000-8000-000000000000');
      assertError(onParam, 405, 'METHOD_NOT_ALLOWED');
      const allowed = (onParam.headers.get('allow') ?? '').split(',').map((m) => m.trim());
      for (const m of ['GET', 'PUT', 'DELETE']) assert.ok(allowed.includes(m), `Allow lists ${m}: ${allowed.join(', ')}`);
    });
  });

  describe('request bodies', () => {
    it('answers malformed JSON with 400 VALIDATION_FAILED and no parser internals', async () => {
      const res = await server.request('POST', '/api/v1/auth/login', {
        raw: '{"email": "a@example.com", "password": ',
        headers: { 'content-type': 'application/json' },
      });
      const body = assertError(res, 400, 'VALIDATION_FAILED');
      assert.match(body.error, /^Validation failed: /);
      assertNoInternals(res);
    });

    it('answers an empty JSON body with 400 VALIDATION_FAILED', async () => {
      const res = await server.request('POST', '/api/v1/auth/login', { raw: '', headers: { 'content-type': 'application/json' } });
      assertError(res, 400, 'VALIDATION_FAILED');
      assertNoInternals(res);
    });

    it('answers a text/plain body with 415 UNSUPPORTED_MEDIA_TYPE', async () => {
      const res = await server.request('POST', '/api/v1/auth/login', {
        raw: 'email=a@example.com&password=x',
        headers: { 'content-type': 'text/plain' },
      });
      assertError(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
      const form = await server.request('POST', '/api/v1/auth/login', {
        raw: 'email=a%40example.com&password=x',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      assertError(form, 415, 'UNSUPPORTED_MEDIA_TYPE');
    });

    it('refuses an unknown field with 400 and names it, creating nothing', async () => {
      const email = uniqueEmail('unknown-field');
      const res = await server.request('POST', '/api/v1/auth/register', {
        body: { name: 'Mallory', email, password: strongPassword(), role: 'admin' },
      });
      const body = assertError(res, 400, 'VALIDATION_FAILED');
      assert.ok(
        body.details?.some((d) => d.path === 'role'),
        `details name the field: ${JSON.stringify(body.details)}`,
      );
      const { rowCount } = await server.sql.query('select 1 from users where email = $1', [email]);
      assert.equal(rowCount, 0);
    });

    it('refuses __proto__ and constructor.prototype in a body with 400', async () => {
      const email = uniqueEmail('proto');
      for (const raw of [
        `{"name":"Mallory","email":"${email}","password":"${strongPassword()}","__proto__":{"role":"admin"}}`,
        `{"name":"Mallory","email":"${email}","password":"${strongPassword()}","constructor":{"prototype":{"role":"admin"}}}`,
      ]) {
        const res = await server.request('POST', '/api/v1/auth/register', { raw, headers: { 'content-type': 'application/json' } });
        assertError(res, 400, 'VALIDATION_FAILED');
        assertNoInternals(res);
      }
      const { rowCount } = await server.sql.query('select 1 from users where email = $1', [email]);
      assert.equal(rowCount, 0);
    });

    it('authenticates before it validates: an anonymous invalid body on a protected route is a 401', async () => {
      const invalid = await server.request('POST', '/api/v1/auth/change-password', { body: { nonsense: true } });
      assertError(invalid, 401, 'NO_TOKEN');
      assert.equal(invalid.headers.get('www-authenticate'), 'Bearer');

      const malformed = await server.request('POST', '/api/v1/auth/change-password', {
        raw: '{not json',
        headers: { 'content-type': 'application/json' },
      });
      assertError(malformed, 401, 'NO_TOKEN');

      const badToken = await server.request('PATCH', '/api/v1/users/me', { body: { nonsense: true }, token: 'not.a.token' });
      assertError(badToken, 401, 'INVALID_TOKEN');
    });
  });

  describe('security headers', () => {
    it('sends helmet headers on JSON answers and on errors', async () => {
      for (const path of ['/health/live', '/api/v1/no-such-thing']) {
        const res = await server.request('GET', path);
        const csp = res.headers.get('content-security-policy') ?? '';
        assert.match(csp, /default-src 'none'/, `${path}: ${csp}`);
        assert.match(csp, /frame-ancestors 'none'/);
        assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
        assert.ok(res.headers.get('strict-transport-security'), 'HSTS');
        assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
        assert.ok(res.headers.get('x-frame-options'), 'x-frame-options');
        assert.equal(res.headers.get('x-powered-by'), null);
      }
    });

    it('does not answer cross-origin requests with CORS headers when no origin is allowed', async () => {
      const res = await server.request('GET', '/health/live', { headers: { origin: 'https://app.example.com' } });
      assert.equal(res.headers.get('access-control-allow-origin'), null);
    });
  });

  describe('access log', () => {
    it('carries the request id and the user id, and never a bearer token, password or refresh token', async () => {
      const user = await createUser(server);
      const me = await server.request('GET', '/api/v1/users/me', { token: user.accessToken });
      assert.equal(me.status, 200);
      const meId = me.headers.get('x-request-id') ?? '';
      const line = await accessLog(server, meId);
      assert.equal(line.userId, user.id);
      assert.equal(line.statusCode, 200);
      assert.equal(line.route, '/api/v1/users/me');

      const loggedIn = await login(server, user.email, user.password);
      assert.equal(loggedIn.status, 200);
      const refreshed = await server.request('POST', '/api/v1/auth/refresh', { body: { refreshToken: loggedIn.body.refreshToken } });
      assert.equal(refreshed.status, 200);
      const wrong = await login(server, user.email, `${user.password}-wrong`);
      assertError(wrong, 401, 'INVALID_CREDENTIALS');
      const bad = await server.request('POST', '/api/v1/auth/change-password', {
        token: refreshed.body.accessToken,
        body: { currentPassword: user.password, newPassword: 'short', extra: 'x' },
      });
      assertError(bad, 400, 'VALIDATION_FAILED');
      const refreshedId = refreshed.headers.get('x-request-id') ?? '';
      await accessLog(server, refreshedId);
      await accessLog(server, bad.headers.get('x-request-id') ?? '');

      const secrets = {
        'access token': user.accessToken,
        'refreshed access token': refreshed.body.accessToken as string,
        'refresh token (register)': user.refreshToken,
        'refresh token (login)': loggedIn.body.refreshToken as string,
        'refresh token (refresh)': refreshed.body.refreshToken as string,
        password: user.password,
      };
      for (const [what, secret] of Object.entries(secrets)) {
        assert.ok(secret.length >= 12, `${what} is a real secret`);
        const leak = server.rawLogs.find((l) => l.includes(secret));
        assert.equal(leak, undefined, `the log contains the ${what}`);
      }
      for (const l of server.logs.filter((x) => x.msg === 'request completed')) {
        assert.equal(typeof l.requestId, 'string', `access log line without requestId: ${JSON.stringify(l)}`);
      }
    });
  });

  describe('health and metrics', () => {
    it('answers /health/live with 200', async () => {
      const res = await server.request('GET', '/health/live');
      assert.equal(res.status, 200);
      assert.equal(res.body.success, true);
      assert.equal(res.body.data.status, 'ok');
    });

    it('answers /health/ready with 200 while the database is up', async () => {
      const res = await server.request('GET', '/health/ready');
      assert.equal(res.status, 200);
      assert.deepEqual(res.body.data, { status: 'ready', checks: { database: 'up' } });
    });

    it('exposes request durations by route, pool connections and event-loop lag on /metrics', async () => {
      assert.equal((await server.request('GET', '/health/ready')).status, 200);
      const text = await waitFor('the /health/ready observation', async () => {
        const res = await server.request('GET', '/metrics');
        assert.equal(res.status, 200);
        assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
        return /http_request_duration_seconds_count\{[^}]*route="\/health\/ready"/.test(res.text) ? res.text : undefined;
      });
      assert.match(text, /^# TYPE http_request_duration_seconds histogram$/m);
      assert.match(text, /http_request_duration_seconds_bucket\{[^}]*method="GET"[^}]*route="\/health\/ready"[^}]*status_code="200"/);
      assert.match(text, /^db_pool_connections\{state="total"\} \d+/m);
      assert.match(text, /^db_pool_connections\{state="idle"\} \d+/m);
      assert.match(text, /^nodejs_eventloop_lag_seconds \d/m);
    });
  });

  describe('API reference', () => {
    it('serves /docs as HTML whose scripts, styles and initializer all load from this server', async () => {
      const page = await server.request('GET', '/docs');
      assert.equal(page.status, 200);
      assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
      const pageUrl = new URL('/docs/', server.url);
      const assets = [...page.text.matchAll(/<(?:script|link)\b[^>]*\b(?:src|href)="([^"]+)"/g)].map((m) => m[1] ?? '');
      assert.ok(assets.some((a) => a.endsWith('.js')) && assets.some((a) => a.endsWith('.css')), `scripts and styles: ${assets}`);

      const initializerPath = assets.find((a) => a.endsWith('swagger-initializer.js'));
      assert.ok(initializerPath, 'the page loads an initializer');
      const initializer = await server.request('GET', new URL(initializerPath, pageUrl).pathname);
      assert.equal(initializer.status, 200);
      // The initializer resolves its URLs against the page (`resolveUrl('./json')`) or names them outright.
      const referenced = [
        ...[...initializer.text.matchAll(/resolveUrl\('([^']+)'\)/g)].map((m) => m[1] ?? ''),
        ...[...initializer.text.matchAll(/"url":\s*"([^"]+)"/g)].map((m) => m[1] ?? ''),
      ];
      assert.ok(referenced.length > 0, 'the initializer names the document it loads');
      assert.ok(referenced.includes('/api/v1/openapi.json'), `the initializer loads the OpenAPI document: ${referenced}`);

      for (const ref of [...assets, ...referenced]) {
        const target = new URL(ref, pageUrl);
        assert.equal(target.origin, new URL(server.url).origin, `${ref} is served by this server, not a CDN`);
        const res = await fetch(target);
        await res.arrayBuffer();
        assert.equal(res.status, 200, `${ref} loads`);
      }
    });
  });
});

describe('body limit', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ BODY_LIMIT: '1024' });
  });
  after(() => server?.close());

  it('answers a body over BODY_LIMIT with 413 PAYLOAD_TOO_LARGE', async () => {
    const res = await server.request('POST', '/api/v1/auth/login', { body: { email: 'a@example.com', password: 'x'.repeat(4096) } });
    assertError(res, 413, 'PAYLOAD_TOO_LARGE');
  });

  it('still accepts a body under the limit', async () => {
    const res = await server.request('POST', '/api/v1/auth/login', { body: { email: 'a@example.com', password: 'x'.repeat(100) } });
    assertError(res, 401, 'INVALID_CREDENTIALS');
  });
});

describe('CORS allowlist', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ CORS_ORIGINS: 'https://app.example.com' });
  });
  after(() => server?.close());

  const preflight = (origin: string) =>
    server.request('OPTIONS', '/api/v1/auth/login', {
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization' },
    });

  it('answers a preflight from an allowed origin with access-control-allow-origin', async () => {
    const res = await preflight('https://app.example.com');
    assert.ok(res.status === 204 || res.status === 200, `preflight status ${res.status}`);
    assert.equal(res.headers.get('access-control-allow-origin'), 'https://app.example.com');
    assert.equal(res.headers.get('access-control-allow-credentials'), 'true');
    assert.match(res.headers.get('access-control-allow-methods') ?? '', /POST/);
  });

  it('does not echo an origin that is not on the list', async () => {
    const res = await preflight('https://evil.example.com');
    const allowed = res.headers.get('access-control-allow-origin');
    assert.ok(allowed === null || allowed === 'https://app.example.com', `allow-origin for another origin: ${allowed}`);
    const simple = await server.request('GET', '/health/live', { headers: { origin: 'https://evil.example.com' } });
    assert.equal(simple.headers.get('access-control-allow-origin'), null);
  });

  it('exposes the request id to an allowed origin', async () => {
    const res = await server.request('GET', '/health/live', { headers: { origin: 'https://app.example.com' } });
    assert.equal(res.headers.get('access-control-allow-origin'), 'https://app.example.com');
    assert.match(res.headers.get('access-control-expose-headers') ?? '', /X-Request-Id/i);
  });
});

describe('general rate limit', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ RATE_LIMIT_MAX: '5', RATE_LIMIT_WINDOW: '600' });
  });
  after(() => server?.close());

  it('answers the 6th request from one client with 429 RATE_LIMITED, Retry-After and RateLimit headers', async () => {
    for (let i = 1; i <= 5; i++) {
      const res = await server.request('GET', '/');
      assert.equal(res.status, 200, `request ${i}`);
      assert.equal(res.headers.get('ratelimit-policy'), '"general";q=5;w=600');
      assert.match(res.headers.get('ratelimit') ?? '', new RegExp(`^"general";r=${5 - i};t=\\d+$`));
    }
    const limited = await server.request('GET', '/');
    const body = assertError(limited, 429, 'RATE_LIMITED');
    assert.equal(body.error, 'Too many requests, please try again later.');
    const retryAfter = Number(limited.headers.get('retry-after'));
    assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1, `Retry-After: ${limited.headers.get('retry-after')}`);
    assert.equal(limited.headers.get('ratelimit-policy'), '"general";q=5;w=600');
    assert.match(limited.headers.get('ratelimit') ?? '', /^"general";r=0;t=\d+$/);

    // Every route shares the client's bucket, errors included.
    assertError(await server.request('POST', '/api/v1/auth/login', { body: {} }), 429, 'RATE_LIMITED');
    assertError(await server.request('GET', '/api/v1/no-such-thing'), 429, 'RATE_LIMITED');
  });

  it('never limits /health/*', async () => {
    // Spend whatever is left of this client's bucket first.
    let res = await server.request('GET', '/');
    for (let i = 0; i < 5 && res.status !== 429; i++) res = await server.request('GET', '/');
    assertError(res, 429, 'RATE_LIMITED');
    for (let i = 0; i < 12; i++) {
      assert.equal((await server.request('GET', '/health/live')).status, 200);
      assert.equal((await server.request('GET', '/health/ready')).status, 200);
    }
  });
});

describe('/metrics protected by METRICS_TOKEN', () => {
  const token = 'metrics-token-0123456789abcdef';
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ METRICS_TOKEN: token });
  });
  after(() => server?.close());

  it('hides /metrics (404) without the token or with a wrong one', async () => {
    assertError(await server.request('GET', '/metrics'), 404, 'NOT_FOUND');
    assertError(await server.request('GET', '/metrics', { token: `${token}x` }), 404, 'NOT_FOUND');
    assertError(await server.request('GET', '/metrics', { headers: { authorization: token } }), 404, 'NOT_FOUND');
  });

  it('answers /metrics with the bearer token', async () => {
    const res = await server.request('GET', '/metrics', { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200);
    assert.match(res.text, /http_request_duration_seconds/);
  });
});

describe('/metrics in production', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ NODE_ENV: 'production' });
  });
  after(() => server?.close());

  it('hides /metrics (404) when NODE_ENV=production and no METRICS_TOKEN is set', async () => {
    assertError(await server.request('GET', '/metrics'), 404, 'NOT_FOUND');
    assert.equal((await server.request('GET', '/health/ready')).status, 200);
  });
});
