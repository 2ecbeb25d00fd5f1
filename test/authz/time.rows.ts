// Time tracking: members and above track time; anyone who can see the project reads entries
// and totals; entries are changed only by the person they belong to. The timer routes are the
// caller's own: owner, admin and member get a running timer on the fixture task before the
// request, the guests and the outsider cannot have one there, so they are answered 404
// ("Timer not found"), not refused.
import { call } from './fresh.js';
import { type AuthzRow, type Caller, expectations, type Fixture } from './types.js';

const TRACKERS = ['owner', 'admin', 'member'] as const;
const tracks = (caller: Caller): caller is (typeof TRACKERS)[number] => (TRACKERS as readonly string[]).includes(caller);

/** Leaves the caller with a running timer (owner, admin, member) or without one (a 409 means one runs already). */
async function timer(f: Fixture, caller: Caller, running: boolean): Promise<void> {
  if (!tracks(caller)) return;
  const token = f.users[caller].accessToken;
  const res = running
    ? await f.server.request('POST', `/api/v1/tasks/${f.task.id}/timer`, { token })
    : await f.server.request('POST', '/api/v1/users/me/timer/stop', { token });
  if (![200, 201, 404, 409].includes(res.status)) throw new Error(`timer setup failed: ${res.status} ${res.text}`);
}

/** A new finished entry of the member on the fixture task. */
const memberEntry = async (f: Fixture): Promise<string> =>
  (await call(f, f.users.member, 'POST', `/api/v1/tasks/${f.task.id}/time-entries`, { startedAt: '2026-01-05T09:00:00Z', minutes: 30 })).id;

const ownTimer: Record<Caller, number> = {
  owner: 200,
  admin: 200,
  member: 200,
  projectGuest: 404,
  guest: 404,
  outsider: 404,
  anonymous: 401,
};
const onlyOwner: Record<Caller, number> = {
  owner: 403,
  admin: 403,
  member: 200,
  projectGuest: 403,
  guest: 404,
  outsider: 404,
  anonymous: 401,
};

export const rows: AuthzRow[] = [
  {
    method: 'POST',
    route: '/api/v1/tasks/:taskId/timer',
    expect: expectations.projectWrite(201),
    request: async (f, caller) => {
      await timer(f, caller, false);
      return { path: `/api/v1/tasks/${f.task.id}/timer` };
    },
  },
  {
    method: 'GET',
    route: '/api/v1/users/me/timer',
    expect: ownTimer,
    request: async (f, caller) => {
      await timer(f, caller, true);
      return { path: '/api/v1/users/me/timer' };
    },
  },
  {
    method: 'POST',
    route: '/api/v1/users/me/timer/stop',
    expect: ownTimer,
    request: async (f, caller) => {
      await timer(f, caller, true);
      return { path: '/api/v1/users/me/timer/stop' };
    },
  },
  {
    method: 'POST',
    route: '/api/v1/tasks/:taskId/time-entries',
    expect: expectations.projectWrite(201),
    request: (f) => ({ path: `/api/v1/tasks/${f.task.id}/time-entries`, body: { startedAt: '2026-01-06T09:00:00Z', minutes: 45 } }),
  },
  {
    method: 'GET',
    route: '/api/v1/tasks/:taskId/time-entries',
    expect: expectations.projectRead(200),
    request: (f) => ({ path: `/api/v1/tasks/${f.task.id}/time-entries` }),
  },
  {
    method: 'GET',
    route: '/api/v1/tasks/:taskId/time-summary',
    expect: expectations.projectRead(200),
    request: (f) => ({ path: `/api/v1/tasks/${f.task.id}/time-summary` }),
  },
  {
    method: 'GET',
    route: '/api/v1/time-entries/:entryId',
    expect: expectations.projectRead(200),
    request: async (f) => ({ path: `/api/v1/time-entries/${await memberEntry(f)}` }),
  },
  {
    method: 'PATCH',
    route: '/api/v1/time-entries/:entryId',
    // The member's entry: nobody else changes it, admins and owners included.
    expect: onlyOwner,
    request: async (f) => ({ path: `/api/v1/time-entries/${await memberEntry(f)}`, body: { note: 'Changed by the matrix' } }),
  },
  {
    method: 'DELETE',
    route: '/api/v1/time-entries/:entryId',
    expect: onlyOwner,
    request: async (f) => ({ path: `/api/v1/time-entries/${await memberEntry(f)}` }),
  },
  {
    method: 'GET',
    route: '/api/v1/projects/:projectId/time-summary',
    expect: expectations.projectRead(200),
    request: (f) => ({ path: `/api/v1/projects/${f.project.id}/time-summary?from=2026-01-01&to=2026-01-31&tz=Europe/Berlin` }),
  },
  {
    method: 'GET',
    route: '/api/v1/users/me/time-entries',
    expect: expectations.signedIn(200),
    request: () => ({ path: '/api/v1/users/me/time-entries' }),
  },
];
