// Workspaces, their members and invitations.
import { uniqueEmail } from '../helpers/factories.js';
import { castWorkspace, freshInvitation, freshMember } from './fresh.js';
import { type AuthzRow, expectations } from './types.js';

const ws = '/api/v1/workspaces/:workspaceId';
let teams = 0;

export const rows: AuthzRow[] = [
  {
    method: 'POST',
    route: '/api/v1/workspaces',
    // Anyone signed in may start a team of their own.
    expect: expectations.signedIn(201),
    request: () => ({ path: '/api/v1/workspaces', body: { name: `Another team ${++teams}` } }),
  },
  {
    method: 'GET',
    route: '/api/v1/workspaces',
    expect: expectations.signedIn(200),
    request: () => ({ path: '/api/v1/workspaces' }),
  },
  {
    method: 'GET',
    route: ws,
    expect: expectations.workspaceRead(200),
    request: (f) => ({ path: `/api/v1/workspaces/${f.workspace.id}` }),
  },
  {
    method: 'PATCH',
    route: ws,
    expect: expectations.workspaceAdmin(200),
    request: (f) => ({ path: `/api/v1/workspaces/${f.workspace.id}`, body: { name: 'Matrix renamed' } }),
  },
  {
    method: 'DELETE',
    route: ws,
    // Each caller gets a copy of the workspace with the same cast, so nothing shared is lost.
    expect: expectations.workspaceOwner(200),
    async request(f) {
      const copy = await castWorkspace(f);
      return { path: `/api/v1/workspaces/${copy.id}`, body: { confirm: copy.slug } };
    },
  },
  {
    method: 'GET',
    route: `${ws}/members`,
    expect: expectations.workspaceRead(200),
    request: (f) => ({ path: `/api/v1/workspaces/${f.workspace.id}/members` }),
  },
  {
    method: 'PATCH',
    route: `${ws}/members/:userId`,
    expect: expectations.workspaceAdmin(200),
    async request(f) {
      const target = await freshMember(f, 'member');
      return { path: `/api/v1/workspaces/${f.workspace.id}/members/${target.id}`, body: { role: 'guest' } };
    },
  },
  {
    method: 'DELETE',
    route: `${ws}/members/:userId`,
    expect: expectations.workspaceAdmin(200),
    async request(f) {
      const target = await freshMember(f, 'member');
      return { path: `/api/v1/workspaces/${f.workspace.id}/members/${target.id}` };
    },
  },
  {
    method: 'POST',
    route: `${ws}/invitations`,
    expect: expectations.workspaceAdmin(201),
    request: (f) => ({ path: `/api/v1/workspaces/${f.workspace.id}/invitations`, body: { email: uniqueEmail('matrix'), role: 'member' } }),
  },
  {
    method: 'GET',
    route: `${ws}/invitations`,
    expect: expectations.workspaceAdmin(200),
    request: (f) => ({ path: `/api/v1/workspaces/${f.workspace.id}/invitations` }),
  },
  {
    method: 'GET',
    route: `${ws}/invitations/:invitationId`,
    expect: expectations.workspaceAdmin(200),
    request: async (f) => ({ path: `/api/v1/workspaces/${f.workspace.id}/invitations/${await freshInvitation(f)}` }),
  },
  {
    method: 'DELETE',
    route: `${ws}/invitations/:invitationId`,
    expect: expectations.workspaceAdmin(200),
    request: async (f) => ({ path: `/api/v1/workspaces/${f.workspace.id}/invitations/${await freshInvitation(f)}` }),
  },
  {
    method: 'POST',
    route: `${ws}/invitations/:invitationId/resend`,
    expect: expectations.workspaceAdmin(200),
    request: async (f) => ({ path: `/api/v1/workspaces/${f.workspace.id}/invitations/${await freshInvitation(f)}/resend` }),
  },
];
