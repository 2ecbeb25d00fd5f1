// Projects and project members.
import { uniqueProjectKey } from '../helpers/factories.js';
import { call, freshMember, freshProject } from './fresh.js';
import { type AuthzRow, expectations } from './types.js';

const project = '/api/v1/projects/:projectId';

export const rows: AuthzRow[] = [
  {
    method: 'POST',
    route: '/api/v1/workspaces/:workspaceId/projects',
    expect: expectations.workspaceAdmin(201),
    request: (f) => ({ path: `/api/v1/workspaces/${f.workspace.id}/projects`, body: { key: uniqueProjectKey(), name: 'Matrix project' } }),
  },
  {
    method: 'GET',
    route: '/api/v1/workspaces/:workspaceId/projects',
    // A guest gets a list too: of the projects they were added to (tested in projects.test.ts).
    expect: expectations.workspaceRead(200),
    request: (f) => ({ path: `/api/v1/workspaces/${f.workspace.id}/projects` }),
  },
  {
    method: 'GET',
    route: project,
    expect: expectations.projectRead(200),
    request: (f) => ({ path: `/api/v1/projects/${f.project.id}` }),
  },
  {
    method: 'PATCH',
    route: project,
    expect: expectations.projectManage(200),
    request: (f) => ({ path: `/api/v1/projects/${f.project.id}`, body: { description: 'Seen by the matrix' } }),
  },
  {
    method: 'POST',
    route: `${project}/archive`,
    expect: expectations.projectManage(200),
    request: async (f) => ({ path: `/api/v1/projects/${(await freshProject(f)).id}/archive` }),
  },
  {
    method: 'POST',
    route: `${project}/unarchive`,
    expect: expectations.projectManage(200),
    request: async (f) => ({ path: `/api/v1/projects/${(await freshProject(f, { archived: true })).id}/unarchive` }),
  },
  {
    method: 'DELETE',
    route: project,
    expect: expectations.projectManage(200),
    async request(f) {
      const fresh = await freshProject(f);
      return { path: `/api/v1/projects/${fresh.id}`, body: { confirm: fresh.key } };
    },
  },
  {
    method: 'GET',
    route: `${project}/members`,
    expect: expectations.projectRead(200),
    request: (f) => ({ path: `/api/v1/projects/${f.project.id}/members` }),
  },
  {
    method: 'POST',
    route: `${project}/members`,
    expect: expectations.projectManage(201),
    request: async (f) => ({ path: `/api/v1/projects/${f.project.id}/members`, body: { userId: (await freshMember(f, 'guest')).id } }),
  },
  {
    method: 'DELETE',
    route: `${project}/members/:userId`,
    expect: expectations.projectManage(200),
    async request(f) {
      const added = await freshMember(f, 'guest');
      await call(f, f.users.owner, 'POST', `/api/v1/projects/${f.project.id}/members`, { userId: added.id });
      return { path: `/api/v1/projects/${f.project.id}/members/${added.id}` };
    },
  },
];
