// The authorization matrix (issue 4): every workspace-scoped route × every kind of caller →
// the status they must get. Each module adds its rows in `<module>.rows.ts` and lists them in
// `index.ts`; test/authorization.test.ts runs them all against one fixture and fails when a
// live route under /api/v1 has no row.
import type { RegisteredUser } from '../helpers/factories.js';
import type { TestServer } from '../helpers/server.js';

/**
 * `guest` is a workspace guest who was NOT added to the fixture project; `projectGuest` is a
 * guest who was. `outsider` is signed in but not a member of the workspace; `anonymous`
 * sends no token.
 */
export const CALLERS = ['owner', 'admin', 'member', 'projectGuest', 'guest', 'outsider', 'anonymous'] as const;
export type Caller = (typeof CALLERS)[number];

export interface Fixture {
  server: TestServer;
  users: Record<Exclude<Caller, 'anonymous'>, RegisteredUser>;
  workspace: { id: string; slug: string };
  /** projectGuest is a project member here; guest is not. */
  project: { id: string; key: string };
  /** A task in `project`, created by member. Rows that destroy or change it should make their own. */
  task: { id: string; key: string; number: number };
}

export interface AuthzRequest {
  /** The concrete path, e.g. `/api/v1/tasks/0190…`. */
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** Sent as is (CSV/NDJSON import). */
  raw?: string;
}

export interface AuthzRow {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** The route as registered, e.g. `/api/v1/tasks/:taskId`; must match the live route table. */
  route: string;
  /** Expected status per caller. */
  expect: Record<Caller, number>;
  /**
   * Builds a fresh request for one caller. Runs once per caller, so destructive rows create
   * what they destroy (through the API, as `f.users.owner` or `f.users.member`).
   */
  request(f: Fixture, caller: Caller): Promise<AuthzRequest> | AuthzRequest;
}

/** Shorthands for the common shapes of expectations. */
export const expectations = {
  /** Readable by everyone who can see the project (guests only when added to it). */
  projectRead: (ok = 200): Record<Caller, number> => ({
    owner: ok,
    admin: ok,
    member: ok,
    projectGuest: ok,
    guest: 404,
    outsider: 404,
    anonymous: 401,
  }),
  /** Members and above write; a guest who can see the project is refused, one who cannot gets 404. */
  projectWrite: (ok = 200): Record<Caller, number> => ({
    owner: ok,
    admin: ok,
    member: ok,
    projectGuest: 403,
    guest: 404,
    outsider: 404,
    anonymous: 401,
  }),
  /** Admins and owners manage the project. */
  projectManage: (ok = 200): Record<Caller, number> => ({
    owner: ok,
    admin: ok,
    member: 403,
    projectGuest: 403,
    guest: 404,
    outsider: 404,
    anonymous: 401,
  }),
  /** Anyone in the workspace, guests included. */
  workspaceRead: (ok = 200): Record<Caller, number> => ({
    owner: ok,
    admin: ok,
    member: ok,
    projectGuest: ok,
    guest: ok,
    outsider: 404,
    anonymous: 401,
  }),
  workspaceAdmin: (ok = 200): Record<Caller, number> => ({
    owner: ok,
    admin: ok,
    member: 403,
    projectGuest: 403,
    guest: 403,
    outsider: 404,
    anonymous: 401,
  }),
  workspaceOwner: (ok = 200): Record<Caller, number> => ({
    owner: ok,
    admin: 403,
    member: 403,
    projectGuest: 403,
    guest: 403,
    outsider: 404,
    anonymous: 401,
  }),
  /** Routes about the caller themself (no workspace in the path). */
  signedIn: (ok = 200): Record<Caller, number> => ({
    owner: ok,
    admin: ok,
    member: ok,
    projectGuest: ok,
    guest: ok,
    outsider: ok,
    anonymous: 401,
  }),
};
