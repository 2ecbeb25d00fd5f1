// Build data through the public API, as a client would.
import { randomBytes } from 'node:crypto';
import type { TestServer } from './server.js';

export interface RegisteredUser {
  id: string;
  email: string;
  name: string;
  password: string;
  role: 'user' | 'admin';
  accessToken: string;
  refreshToken: string;
}

let counter = 0;
export const uniqueEmail = (prefix = 'user') =>
  `${prefix}.${Date.now().toString(36)}.${++counter}.${randomBytes(3).toString('hex')}@example.com`;
export const strongPassword = () => `Str0ng-${randomBytes(9).toString('base64url')}`;

/** Registers a user (the first one in a fresh database becomes admin). */
export async function createUser(
  server: TestServer,
  overrides: { name?: string; email?: string; password?: string } = {},
): Promise<RegisteredUser> {
  const input = {
    name: overrides.name ?? `Test User ${++counter}`,
    email: overrides.email ?? uniqueEmail(),
    password: overrides.password ?? strongPassword(),
  };
  const res = await server.request('POST', '/api/v1/auth/register', { body: input });
  if (res.status !== 201) throw new Error(`register failed: ${res.status} ${res.text}`);
  return {
    id: res.body.user.id,
    email: res.body.user.email,
    name: res.body.user.name,
    role: res.body.user.role,
    password: input.password,
    accessToken: res.body.accessToken,
    refreshToken: res.body.refreshToken,
  };
}

export async function login(server: TestServer, email: string, password: string) {
  return server.request('POST', '/api/v1/auth/login', { body: { email, password } });
}

export type WorkspaceRole = 'owner' | 'admin' | 'member' | 'guest';

let keyCounter = 0;
/** A project key unique within a test run: two to ten upper-case letters. */
export const uniqueProjectKey = () => {
  let n = ++keyCounter;
  let key = '';
  do {
    key = String.fromCharCode(65 + (n % 26)) + key;
    n = Math.floor(n / 26);
  } while (n > 0);
  return `P${key}`.padEnd(2, 'A');
};

async function expectStatus(res: { status: number; text: string }, status: number, what: string) {
  if (res.status !== status) throw new Error(`${what} failed: ${res.status} ${res.text}`);
}

export async function createWorkspace(server: TestServer, owner: RegisteredUser, name = `Team ${++counter}`) {
  const res = await server.request('POST', '/api/v1/workspaces', { token: owner.accessToken, body: { name } });
  await expectStatus(res, 201, 'create workspace');
  return res.body.data as { id: string; name: string; slug: string; role: WorkspaceRole };
}

/** The token of the last invitation link mailed to `email` (development mail logs the link). */
export async function invitationTokenFor(server: TestServer, email: string): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const line = [...server.logs]
      .reverse()
      .find((l) => l.to === email && typeof l.link === 'string' && String(l.link).includes('/invitations/'));
    if (line) return new URL(String(line.link)).searchParams.get('token') ?? '';
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no invitation mail to ${email}`);
}

/** A new user who joins the workspace through a real invitation with the given role. */
export async function addWorkspaceMember(
  server: TestServer,
  inviter: RegisteredUser,
  workspaceId: string,
  role: WorkspaceRole,
): Promise<RegisteredUser> {
  const user = await createUser(server);
  const invite = await server.request('POST', `/api/v1/workspaces/${workspaceId}/invitations`, {
    token: inviter.accessToken,
    body: { email: user.email, role },
  });
  await expectStatus(invite, 201, 'invite');
  const token = await invitationTokenFor(server, user.email);
  const accept = await server.request('POST', '/api/v1/invitations/accept', { token: user.accessToken, body: { token } });
  await expectStatus(accept, 200, 'accept invitation');
  return user;
}

export async function createProject(
  server: TestServer,
  admin: RegisteredUser,
  workspaceId: string,
  overrides: { key?: string; name?: string } = {},
) {
  const key = overrides.key ?? uniqueProjectKey();
  const res = await server.request('POST', `/api/v1/workspaces/${workspaceId}/projects`, {
    token: admin.accessToken,
    body: { key, name: overrides.name ?? `Project ${key}` },
  });
  await expectStatus(res, 201, 'create project');
  return res.body.data as { id: string; key: string; workspaceId: string };
}

export async function createTask(server: TestServer, user: RegisteredUser, projectId: string, body: Record<string, unknown> = {}) {
  const res = await server.request('POST', `/api/v1/projects/${projectId}/tasks`, {
    token: user.accessToken,
    body: { title: `Task ${++counter}`, ...body },
  });
  await expectStatus(res, 201, 'create task');
  return res.body.data as { id: string; key: string; number: number; version: number; status: string; position: number } & Record<
    string,
    unknown
  >;
}

export async function addProjectMember(server: TestServer, admin: RegisteredUser, projectId: string, userId: string) {
  const res = await server.request('POST', `/api/v1/projects/${projectId}/members`, { token: admin.accessToken, body: { userId } });
  await expectStatus(res, 201, 'add project member');
}
