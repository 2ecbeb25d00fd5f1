// Which access tokens must stop working before they expire, answered from memory on the hot
// path. Revoking a session, or changing a user's role, is announced with PostgreSQL NOTIFY
// inside the transaction that makes the change; every process LISTENs, so the answer holds
// across processes, and a process that (re)connects reloads the recent changes.

import { sql } from 'drizzle-orm';
import pg from 'pg';
import type { Logger } from 'pino';
import type { Executor } from '../db/client.js';
import type { GlobalRole } from './tokens.js';

const CHANNEL = 'tandem_auth';

/** Role events carry when the change was made (ms), so a late notification of an older
 * change never overwrites a newer one that was already applied. */
export type RevocationEvent = { kind: 'sessions'; ids: string[] } | { kind: 'role'; userId: string; role: GlobalRole; changedAt: number };

export interface RecentRevocations {
  sessionIds: string[];
  roles: { userId: string; role: GlobalRole; changedAt: number }[];
}

export interface Revocations {
  isSessionRevoked(sessionId: string): boolean;
  /** The user's current role when it changed after their token was issued. */
  currentRole(userId: string): GlobalRole | undefined;
  /** Queue the NOTIFY in the caller's transaction; delivered to every process at commit. */
  announce(tx: Executor, event: RevocationEvent): Promise<void>;
  /** Apply in this process at once (after commit), without waiting for the notification. */
  apply(event: RevocationEvent): void;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface RevocationOptions {
  url: string;
  log: Logger;
  /** How long an entry matters: the access-token lifetime (plus clock skew). */
  ttlSeconds: number;
  /** Changes made within the last `sinceSeconds`, for (re)connecting processes. */
  loadRecent(sinceSeconds: number): Promise<RecentRevocations>;
}

export function createRevocations({ url, log, ttlSeconds, loadRecent }: RevocationOptions): Revocations {
  const ttlMs = (ttlSeconds + 60) * 1000;
  const sessions = new Map<string, number>();
  const roles = new Map<string, { role: GlobalRole; until: number; changedAt: number }>();
  let client: pg.Client | undefined;
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;
  let prune: NodeJS.Timeout | undefined;

  const apply = (event: RevocationEvent) => {
    const until = Date.now() + ttlMs;
    if (event.kind === 'sessions') for (const id of event.ids) sessions.set(id, until);
    else {
      const known = roles.get(event.userId);
      if (!known || known.changedAt <= event.changedAt) roles.set(event.userId, { role: event.role, until, changedAt: event.changedAt });
    }
  };

  const connect = async (): Promise<void> => {
    const c = new pg.Client({ connectionString: url, application_name: 'tandem-revocations' });
    c.on('error', (err) => log.warn({ err: err.message }, 'revocation listener lost its connection'));
    c.on('end', () => {
      if (client === c) client = undefined;
      if (!stopped) scheduleReconnect();
    });
    c.on('notification', (msg) => {
      if (msg.channel !== CHANNEL || !msg.payload) return;
      try {
        apply(JSON.parse(msg.payload) as RevocationEvent);
      } catch (err) {
        log.error({ err }, 'unreadable revocation notification');
      }
    });
    await c.connect();
    await c.query(`listen ${CHANNEL}`);
    client = c;
    // Anything announced while we were not listening.
    const recent = await loadRecent(Math.ceil(ttlMs / 1000));
    apply({ kind: 'sessions', ids: recent.sessionIds });
    for (const r of recent.roles) apply({ kind: 'role', ...r });
  };

  const scheduleReconnect = () => {
    clearTimeout(retry);
    retry = setTimeout(() => {
      connect().catch((err: Error) => {
        log.warn({ err: err.message }, 'revocation listener reconnect failed; retrying');
        scheduleReconnect();
      });
    }, 1_000);
    retry.unref();
  };

  return {
    isSessionRevoked: (id) => sessions.has(id),
    currentRole(userId) {
      const r = roles.get(userId);
      return r && r.until > Date.now() ? r.role : undefined;
    },
    async announce(tx, event) {
      await tx.execute(sql`select pg_notify(${CHANNEL}, ${JSON.stringify(event)})`);
    },
    apply,
    async start() {
      await connect();
      prune = setInterval(() => {
        const now = Date.now();
        for (const [id, until] of sessions) if (until < now) sessions.delete(id);
        for (const [id, r] of roles) if (r.until < now) roles.delete(id);
      }, 60_000);
      prune.unref();
    },
    async stop() {
      stopped = true;
      clearTimeout(retry);
      clearInterval(prune);
      await client?.end().catch(() => undefined);
    },
  };
}
