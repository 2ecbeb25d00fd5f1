// Fresh resources for destructive rows of the matrix, built through the API so that a row's
// request never changes the shared fixture.
import { invitationLinkToken, lastInvitationToken } from '../helpers/api.js';
import { addWorkspaceMember, createProject, createTask, type RegisteredUser, uniqueEmail } from '../helpers/factories.js';
import type { Fixture } from './types.js';

let copies = 0;

/** A request that must succeed; answers its `data` (or the whole body when there is none). */
export async function call(f: Fixture, user: RegisteredUser, method: string, path: string, body?: unknown) {
  const res = await f.server.request(method, path, { token: user.accessToken, body });
  if (res.status < 200 || res.status > 299) throw new Error(`${method} ${path} failed: ${res.status} ${res.text}`);
  return res.body?.data ?? res.body;
}

/** A task of the fixture project, created by the member. */
export const freshTask = async (f: Fixture) => (await createTask(f.server, f.users.member, f.project.id)).id;

/** A project of the fixture workspace with projectGuest added, as the fixture project has. */
export async function freshProject(f: Fixture, options: { archived?: boolean } = {}) {
  const project = await createProject(f.server, f.users.owner, f.workspace.id);
  await call(f, f.users.owner, 'POST', `/api/v1/projects/${project.id}/members`, { userId: f.users.projectGuest.id });
  if (options.archived) await call(f, f.users.owner, 'POST', `/api/v1/projects/${project.id}/archive`);
  return project;
}

type SpareRole = 'admin' | 'member' | 'guest';
const spares = new WeakMap<Fixture, Map<SpareRole, RegisteredUser[]>>();

/**
 * A new person who joined the fixture workspace with `role` and whom no row has used yet.
 * Made a caller's worth at a time in parallel: registering hashes a password, the slow part.
 */
export async function freshMember(f: Fixture, role: SpareRole = 'member'): Promise<RegisteredUser> {
  const byRole = spares.get(f) ?? new Map<SpareRole, RegisteredUser[]>();
  spares.set(f, byRole);
  const queue = byRole.get(role) ?? [];
  byRole.set(role, queue);
  if (queue.length === 0) {
    queue.push(...(await Promise.all(Array.from({ length: 7 }, () => addWorkspaceMember(f.server, f.users.owner, f.workspace.id, role)))));
  }
  return queue.shift() as RegisteredUser;
}

/** An open invitation of the fixture workspace for a new address. */
export const freshInvitation = async (f: Fixture): Promise<string> =>
  (await call(f, f.users.owner, 'POST', `/api/v1/workspaces/${f.workspace.id}/invitations`, { email: uniqueEmail('invitee') })).id;

/**
 * A new workspace with the fixture's cast in the same roles (owner, admin, member and both
 * guests), for rows that destroy a whole workspace.
 */
export async function castWorkspace(f: Fixture): Promise<{ id: string; slug: string }> {
  const { owner, admin, member, projectGuest, guest } = f.users;
  const ws = await call(f, owner, 'POST', '/api/v1/workspaces', { name: `Cast copy ${++copies}` });
  for (const [user, role] of [
    [admin, 'admin'],
    [member, 'member'],
    [projectGuest, 'guest'],
    [guest, 'guest'],
  ] as const) {
    const previous = lastInvitationToken(f.server, user.email);
    await call(f, owner, 'POST', `/api/v1/workspaces/${ws.id}/invitations`, { email: user.email, role });
    const token = await invitationLinkToken(f.server, user.email, previous);
    await call(f, user, 'POST', '/api/v1/invitations/accept', { token });
  }
  return { id: ws.id, slug: ws.slug };
}
