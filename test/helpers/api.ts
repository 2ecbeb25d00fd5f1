// Small helpers shared by the workspace, project and task API tests.
import assert from 'node:assert/strict';
import type { DomainEvent } from '../../src/platform/events.js';
import { type ApiResponse, startTestServer, type TestServer } from './server.js';

/** A test server whose rate limits stay out of the way of suites that make many requests. */
export const startApiServer = (env: Record<string, string> = {}) =>
  startTestServer({ RATE_LIMIT_MAX: '1000000', AUTH_RATE_LIMIT_MAX: '100000', ...env });

/** The api.md error envelope with this status and code (and message, when given). */
export function assertError(res: ApiResponse, status: number, code: string, error?: string | RegExp): void {
  assert.equal(res.status, status, `expected ${status} ${code}, got ${res.status}: ${res.text}`);
  assert.equal(res.body.success, false);
  assert.equal(res.body.code, code);
  if (typeof error === 'string') assert.equal(res.body.error, error);
  else if (error) assert.match(res.body.error, error);
  assert.equal(res.body.requestId, res.headers.get('x-request-id'));
}

/** Asserts a status with the response text in the message. */
export function assertStatus(res: ApiResponse, status: number): void {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${res.text}`);
}

/** The token of the last invitation link mailed to `email`, if any. */
export function lastInvitationToken(server: TestServer, email: string): string | undefined {
  const line = [...server.logs].reverse().find((l) => l.to === email && typeof l.link === 'string' && l.link.includes('/invitations/'));
  return (line && new URL(String(line.link)).searchParams.get('token')) || undefined;
}

/**
 * The token of the next invitation link mailed to `email` that differs from `previous`
 * (mail goes out after the response, and a resend mails a new link while the old one is
 * still in the log).
 */
export async function invitationLinkToken(server: TestServer, email: string, previous?: string): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const token = lastInvitationToken(server, email);
    if (token && token !== previous) return token;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no new invitation mail to ${email}`);
}

export interface EventRecorder {
  events: DomainEvent[];
  /** Resolves with the first recorded event matching `match` (waits up to ~2 s). */
  waitFor(match: (e: DomainEvent) => boolean): Promise<DomainEvent>;
  stop(): void;
}

/** Records every domain event the server publishes, with `onEvent` run for each as it arrives. */
export function recordEvents(server: TestServer, onEvent?: (e: DomainEvent) => void | Promise<void>): EventRecorder {
  const events: DomainEvent[] = [];
  const stop = server.tandem.events.subscribe('*', async (e) => {
    events.push(e);
    await onEvent?.(e);
  });
  return {
    events,
    stop,
    async waitFor(match) {
      for (let i = 0; i < 200; i++) {
        const found = events.find(match);
        if (found) return found;
        await new Promise((r) => setTimeout(r, 10));
      }
      throw new Error(`no matching event among: ${events.map((e) => e.type).join(', ')}`);
    },
  };
}

/** Rows of the audit log for an action and target. */
export async function auditRows(server: TestServer, action: string, targetId: string) {
  const { rows } = await server.sql.query<{ actor_id: string | null; metadata: Record<string, unknown> }>(
    'select actor_id, metadata from audit_events where action = $1 and target_id = $2 order by id',
    [action, targetId],
  );
  return rows;
}
