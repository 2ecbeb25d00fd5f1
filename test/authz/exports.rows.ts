// Export and import: a project's tasks (members and above, like writing), a whole workspace
// (admins and owners), import into a project (admins and owners, like managing it).
import { type AuthzRow, expectations } from './types.js';

export const rows: AuthzRow[] = [
  {
    method: 'GET',
    route: '/api/v1/projects/:projectId/export',
    expect: expectations.projectWrite(200),
    request: (f) => ({ path: `/api/v1/projects/${f.project.id}/export?format=csv` }),
  },
  {
    method: 'GET',
    route: '/api/v1/workspaces/:workspaceId/export',
    expect: expectations.workspaceAdmin(200),
    request: (f) => ({ path: `/api/v1/workspaces/${f.workspace.id}/export` }),
  },
  {
    method: 'POST',
    route: '/api/v1/projects/:projectId/import',
    expect: expectations.projectManage(200),
    request: (f) => ({
      path: `/api/v1/projects/${f.project.id}/import`,
      raw: '{"title":"Imported by the matrix"}\n',
      headers: { 'content-type': 'application/x-ndjson' },
    }),
  },
];
