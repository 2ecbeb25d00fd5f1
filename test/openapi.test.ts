// The OpenAPI document against the live route table (api.md: "a test fails if the live
// route table and the document disagree"), and its security declarations against what the
// routes actually demand.
import assert from 'node:assert/strict';
import diagnostics from 'node:diagnostics_channel';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { startTestServer, type TestServer } from './helpers/server.js';

interface Operation {
  security?: Record<string, string[]>[];
  tags?: string[];
  summary?: string;
}

interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, Operation>>;
  components?: { securitySchemes?: Record<string, { type: string; scheme?: string }> };
}

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

interface LiveRoute {
  method: string;
  path: string;
}

/**
 * Records every route of the next Fastify instance created in this process, as registered.
 * Fastify announces each new instance on the `fastify.initialization` diagnostics channel
 * before any plugin or route is added, so an `onRoute` hook installed there sees them all.
 */
function recordRoutes(): { routes: LiveRoute[]; stop(): void } {
  const routes: LiveRoute[] = [];
  let recording = false;
  const onInit = (message: unknown) => {
    const fastify = (message as { fastify?: FastifyInstance }).fastify;
    if (!fastify || recording) return;
    recording = true;
    fastify.addHook('onRoute', (route) => {
      for (const method of Array.isArray(route.method) ? route.method : [route.method]) routes.push({ method, path: route.url });
    });
  };
  diagnostics.subscribe('fastify.initialization', onInit);
  return { routes, stop: () => diagnostics.unsubscribe('fastify.initialization', onInit) };
}

const key = (r: LiveRoute) => `${r.method} ${r.path}`;

/** Routes that must be in the document: the API (not the document itself) and the probes. */
function mustBeDocumented(routes: LiveRoute[]): LiveRoute[] {
  const documented = (p: string) =>
    (p.startsWith('/api/v1/') && p !== '/api/v1/openapi.json') || p === '/health/live' || p === '/health/ready';
  const has = new Set(routes.map(key));
  // Fastify adds HEAD to every GET by itself; OpenAPI leaves those implied.
  return routes.filter((r) => documented(r.path) && !(r.method === 'HEAD' && has.has(`GET ${r.path}`)));
}

function documentRoutes(doc: OpenApiDocument): (LiveRoute & { operation: Operation; openApiPath: string })[] {
  return Object.entries(doc.paths).flatMap(([openApiPath, item]) =>
    Object.entries(item)
      .filter(([method]) => HTTP_METHODS.includes(method))
      .map(([method, operation]) => ({
        method: method.toUpperCase(),
        path: openApiPath.replace(/\{([^}]+)\}/g, ':$1'),
        openApiPath,
        operation,
      })),
  );
}

describe('OpenAPI document', () => {
  let server: TestServer;
  let doc: OpenApiDocument;
  let routes: LiveRoute[];
  before(async () => {
    const recorder = recordRoutes();
    try {
      server = await startTestServer();
    } finally {
      recorder.stop();
    }
    routes = recorder.routes;
    const res = await server.request<OpenApiDocument>('GET', '/api/v1/openapi.json');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    doc = res.body;
  });
  after(() => server?.close());

  it('is OpenAPI 3.1 and served without authentication', () => {
    assert.match(doc.openapi, /^3\.1\.\d+$/);
    assert.equal(doc.info.title, 'Tandem API');
    assert.deepEqual(doc.components?.securitySchemes?.bearerAuth, { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
  });

  it('documents every live API route with the same method', () => {
    assert.ok(
      routes.some((r) => r.method === 'POST' && r.path === '/api/v1/auth/login'),
      'the route table was read (POST /api/v1/auth/login is in it)',
    );
    const expected = mustBeDocumented(routes);
    assert.ok(expected.length >= 10, `a plausible number of API routes: ${expected.length}`);
    const inDocument = new Set(documentRoutes(doc).map(key));
    const missing = expected.filter((r) => !inDocument.has(key(r))).map(key);
    assert.deepEqual(missing, [], 'live routes missing from the OpenAPI document');
  });

  it('documents no route that does not exist', () => {
    const live = new Set(routes.map(key));
    const phantom = documentRoutes(doc)
      .filter((r) => !live.has(key(r)) || !server.tandem.app.hasRoute({ method: r.method, url: r.path }))
      .map((r) => `${r.method} ${r.openApiPath}`);
    assert.deepEqual(phantom, [], 'documented routes the server does not have');
  });

  it('declares bearerAuth on every operation that refuses anonymous callers, and on no public one', async () => {
    const placeholderId = '0190a5f2-4c1e-7000-8000-000000000000';
    let protectedCount = 0;
    for (const r of documentRoutes(doc)) {
      // Anonymous and bodiless: a protected route answers 401 NO_TOKEN before anything else runs,
      // a public one fails validation or answers, so nothing is created.
      const res = await server.request(r.method, r.path.replace(/:[^/]+/g, placeholderId));
      const isProtected = res.status === 401 && res.body?.code === 'NO_TOKEN';
      const security = r.operation.security ?? [];
      const requiresBearer = security.some((s) => 'bearerAuth' in s) && !security.some((s) => Object.keys(s).length === 0);
      const label = `${r.method} ${r.openApiPath} (anonymous: ${res.status} ${res.body?.code ?? ''})`;
      if (isProtected) {
        protectedCount++;
        assert.ok(requiresBearer, `${label} needs a token but does not declare security: bearerAuth`);
      } else {
        assert.ok(!requiresBearer, `${label} is public but declares security: bearerAuth`);
      }
    }
    assert.ok(protectedCount > 0, 'some documented routes are protected');
  });

  it('leaves registration, sign-in and the probes public in the document', () => {
    for (const [path, method] of [
      ['/api/v1/auth/register', 'post'],
      ['/api/v1/auth/login', 'post'],
      ['/api/v1/auth/refresh', 'post'],
      ['/api/v1/auth/forgot-password', 'post'],
      ['/api/v1/auth/reset-password', 'post'],
      ['/health/live', 'get'],
      ['/health/ready', 'get'],
    ] as const) {
      const op = doc.paths[path]?.[method];
      assert.ok(op, `${method.toUpperCase()} ${path} is documented`);
      assert.equal(op.security, undefined, `${method.toUpperCase()} ${path} declares no security`);
    }
    for (const [path, method] of [
      ['/api/v1/users/me', 'get'],
      ['/api/v1/auth/logout', 'post'],
      ['/api/v1/users/{id}', 'delete'],
    ] as const) {
      assert.deepEqual(doc.paths[path]?.[method]?.security, [{ bearerAuth: [] }], `${method.toUpperCase()} ${path}`);
    }
  });
});
