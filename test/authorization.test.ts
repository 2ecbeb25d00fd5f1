// The authorization matrix (issue 4): every workspace-scoped route × every kind of caller →
// the status the caller must get, from the rows in test/authz/*.rows.ts. A live route under
// /api/v1 without a row fails here, so a new route cannot ship without its matrix.
import assert from 'node:assert/strict';
import diagnostics from 'node:diagnostics_channel';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { loadRows } from './authz/index.js';
import { type AuthzRow, CALLERS, type Fixture } from './authz/types.js';
import { addProjectMember, addWorkspaceMember, createProject, createTask, createUser, createWorkspace } from './helpers/factories.js';
import { startTestServer } from './helpers/server.js';

interface LiveRoute {
  method: string;
  path: string;
}

/**
 * Routes under /api/v1 that are not workspace-scoped and so need no row. Each says why; a
 * path with a workspace-scoped parameter (anything but `:id` of a user or session and an
 * invitation `:token`) is never exempt, whatever this list says.
 */
const NOT_WORKSPACE_SCOPED: { path: RegExp; why: string }[] = [
  // Sign-up, sign-in, tokens, sessions, password and e-mail flows: the caller's own account.
  { path: /^\/api\/v1\/auth\//, why: 'accounts and sessions' },
  // The user directory and the caller's own profile; instance users, not workspace content.
  { path: /^\/api\/v1\/users(\/me|\/:id)?$/, why: 'user directory and own profile' },
  // The instance audit log and administration: global admins, no workspace content.
  { path: /^\/api\/v1\/(audit|admin)(\/|$)/, why: 'instance administration' },
  // An invitation link: the token is the credential, the caller is not a member yet
  // (tested in workspaces.test.ts: preview without sign-in, accept, wrong address, expiry).
  { path: /^\/api\/v1\/invitations\/(lookup|accept)$/, why: 'invitation by token (in the body)' },
  { path: /^\/api\/v1\/openapi\.json$/, why: 'the API description' },
];

const exemptParams = new Set(['id', 'token']);
const hasWorkspaceParam = (path: string) => [...path.matchAll(/:(\w+)/g)].some((m) => !exemptParams.has(m[1] ?? ''));

function needsRow(route: LiveRoute, all: Set<string>): boolean {
  if (!route.path.startsWith('/api/v1/')) return false;
  // Fastify adds HEAD to every GET by itself; the GET's row covers it.
  if (route.method === 'HEAD' && all.has(`GET ${route.path}`)) return false;
  if (hasWorkspaceParam(route.path)) return true;
  return !NOT_WORKSPACE_SCOPED.some((e) => e.path.test(route.path));
}

/** Records every route of the next Fastify instance created in this process (see openapi.test.ts). */
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

const key = (r: { method: string; path?: string; route?: string }) => `${r.method} ${r.path ?? r.route}`;

// node:test needs the rows before the suite runs to declare one it() per row.
const rows: AuthzRow[] = await loadRows();

describe('authorization matrix', () => {
  let f: Fixture;
  let routes: LiveRoute[];
  before(async () => {
    const recorder = recordRoutes();
    try {
      f = { server: await startTestServer({ RATE_LIMIT_MAX: '1000000', AUTH_RATE_LIMIT_MAX: '100000' }) } as Fixture;
    } finally {
      recorder.stop();
    }
    routes = recorder.routes;
    const { server } = f;
    // The first account of an instance is its global admin; making it the outsider checks that
    // the global role gives no access to a workspace's content (domain.md).
    const outsider = await createUser(server, { name: 'Outsider (instance admin)' });
    const owner = await createUser(server, { name: 'Owner' });
    const workspace = await createWorkspace(server, owner, 'Matrix');
    const admin = await addWorkspaceMember(server, owner, workspace.id, 'admin');
    const member = await addWorkspaceMember(server, owner, workspace.id, 'member');
    const projectGuest = await addWorkspaceMember(server, owner, workspace.id, 'guest');
    const guest = await addWorkspaceMember(server, owner, workspace.id, 'guest');
    const project = await createProject(server, owner, workspace.id, { key: 'MATRIX' });
    await addProjectMember(server, owner, project.id, projectGuest.id);
    const task = await createTask(server, member, project.id, { title: 'The matrix task' });
    f.users = { owner, admin, member, projectGuest, guest, outsider };
    f.workspace = { id: workspace.id, slug: workspace.slug };
    f.project = { id: project.id, key: project.key };
    f.task = { id: task.id, key: task.key, number: task.number };
  });
  after(() => f?.server?.close());

  it('has a row for every live workspace-scoped route under /api/v1', () => {
    assert.ok(
      routes.some((r) => r.method === 'GET' && r.path === '/api/v1/tasks/:taskId'),
      'the route table was read (GET /api/v1/tasks/:taskId is in it)',
    );
    const all = new Set(routes.map(key));
    const covered = new Set(rows.map(key));
    const missing = routes.filter((r) => needsRow(r, all) && !covered.has(key(r))).map(key);
    assert.deepEqual(missing, [], 'routes without a row in test/authz/*.rows.ts');
  });

  it('has no row for a route that does not exist', () => {
    const live = new Set(routes.map(key));
    assert.deepEqual(rows.filter((r) => !live.has(key(r))).map(key), [], 'rows whose method and route are not in the live route table');
  });

  for (const row of rows) {
    it(`${row.method} ${row.route}`, async () => {
      const failures: string[] = [];
      for (const caller of CALLERS) {
        const req = await row.request(f, caller);
        const token = caller === 'anonymous' ? undefined : f.users[caller].accessToken;
        const res = await f.server.request(row.method, req.path, { token, body: req.body, raw: req.raw, headers: req.headers });
        const expected = row.expect[caller];
        if (res.status !== expected) {
          failures.push(`${caller}: expected ${expected}, got ${res.status} ${res.body?.code ?? ''} ${res.body?.error ?? ''}`.trim());
        }
      }
      assert.deepEqual(failures, [], `${row.method} ${row.route}: callers answered with the wrong status`);
    });
  }
});
