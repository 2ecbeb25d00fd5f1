// Reads for export through server-side cursors on one dedicated connection, in one read-only
// snapshot (so a workspace export is consistent across its sections), and the one lookup the
// CLI import needs. Every query is scoped by the workspace or by a project of it.
import { asc, eq, type SQL, sql } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import Cursor from 'pg-cursor';
import type { Database } from '../../platform/db/client.js';
import { projects } from '../projects/projects.table.js';
import type { TaskRow } from '../tasks/tasks.table.js';
import { workspaceMembers } from '../workspaces/workspaces.table.js';

/**
 * A task as the API's presenter takes it, with its project's key. Like the task list's rows it
 * leaves out the search vector, which the presenter never reads.
 */
export type TaskExportRow = TaskRow & { projectKey: string };

/** A cursor's rows in batches, each fetched only when the consumer asks for the next. */
export type Rows<T> = AsyncIterable<T[]>;

export interface Snapshot {
  projectTasks(projectId: string): Rows<TaskExportRow>;
  workspace(workspaceId: string): Rows<Record<string, unknown>>;
  members(workspaceId: string): Rows<Record<string, unknown>>;
  projects(workspaceId: string): Rows<Record<string, unknown>>;
  projectMembers(workspaceId: string): Rows<Record<string, unknown>>;
  workspaceTasks(workspaceId: string): Rows<TaskExportRow>;
  comments(workspaceId: string): Rows<Record<string, unknown>>;
  timeEntries(workspaceId: string): Rows<Record<string, unknown>>;
  /** Ends the snapshot and gives the connection back (or discards it when it is broken). Idempotent. */
  close(): Promise<void>;
}

/** Rows per round trip: enough to keep the connection busy, few enough that a batch in flight stays small. */
const BATCH_SIZE = 200;

const TASK_COLUMNS = sql.raw(`t.id, t.workspace_id as "workspaceId", t.project_id as "projectId", p.key as "projectKey", t.number,
  t.title, t.description, t.status, t.priority, t.assignee_id as "assigneeId", t.reporter_id as "reporterId",
  t.due_date::text as "dueDate", t.labels, t.estimate_minutes as "estimateMinutes", t.position, t.version,
  t.completed_at as "completedAt", t.created_at as "createdAt", t.updated_at as "updatedAt"`);

export function createExportsRepository(database: Pick<Database, 'pool' | 'db'>) {
  const dialect = new PgDialect();

  return {
    /**
     * A read-only REPEATABLE READ transaction on a connection of its own. The pool's statement
     * timeout would cut a cursor off mid-export (it spans every fetch of the portal), so the
     * snapshot has its own ceiling: `maxDurationMs`.
     */
    async openSnapshot(maxDurationMs: number): Promise<Snapshot> {
      const client = await database.pool.connect();
      // A checked-out client has no pool listener: a connection lost mid-export would emit an
      // unhandled 'error' and end the process. The cursor's read reports the failure instead.
      let broken: Error | undefined;
      let onLost = () => {};
      const lost = new Promise<void>((resolve) => {
        onLost = resolve;
      });
      const onError = (err: Error) => {
        broken = err;
        onLost();
      };
      client.on('error', onError);
      const release = (err?: Error) => {
        client.off('error', onError);
        client.release(err ?? broken);
      };
      try {
        await client.query('begin isolation level repeatable read read only');
        // Between two sections of a workspace export the connection idles in the transaction
        // for as long as the client takes to read: the pool's idle timeout would end it.
        const limit = String(Math.max(1000, Math.floor(maxDurationMs)));
        await client.query(
          "select set_config('statement_timeout', $1, true), set_config('idle_in_transaction_session_timeout', $1, true)",
          [limit],
        );
      } catch (err) {
        release(err as Error);
        throw err;
      }
      let closing: Promise<void> | undefined;
      // A batch is read only when the consumer pulls, so a slow download holds the cursor, not rows.
      async function* rows<T>(query: SQL): Rows<T> {
        const { sql: text, params } = dialect.sqlToQuery(query);
        const cursor = client.query(new Cursor<T>(text, params));
        let failed = false;
        try {
          for (;;) {
            const batch = await cursor.read(BATCH_SIZE);
            if (batch.length === 0) return;
            yield batch;
          }
        } catch (err) {
          failed = true;
          throw err;
        } finally {
          // Closing waits for the server's answer, which never comes on a lost connection.
          if (!failed && !broken) await Promise.race([cursor.close(), lost]);
        }
      }
      return {
        projectTasks: (projectId) =>
          rows(sql`select ${TASK_COLUMNS} from tasks t join projects p on p.id = t.project_id
                   where t.project_id = ${projectId} order by t.number`),
        workspace: (workspaceId) =>
          rows(sql`select id, name, slug, created_by as "createdBy", created_at as "createdAt", updated_at as "updatedAt"
                   from workspaces where id = ${workspaceId}`),
        members: (workspaceId) =>
          rows(sql`select m.user_id as "userId", u.name, u.email, m.role, m.created_at as "joinedAt"
                   from workspace_members m join users u on u.id = m.user_id
                   where m.workspace_id = ${workspaceId} order by m.created_at, m.user_id`),
        projects: (workspaceId) =>
          rows(sql`select id, key, name, description, archived_at as "archivedAt", task_seq as "taskCount",
                   created_by as "createdBy", created_at as "createdAt", updated_at as "updatedAt"
                   from projects where workspace_id = ${workspaceId} order by key`),
        projectMembers: (workspaceId) =>
          rows(sql`select pm.project_id as "projectId", pm.user_id as "userId", pm.created_at as "addedAt"
                   from project_members pm join projects p on p.id = pm.project_id
                   where p.workspace_id = ${workspaceId} order by p.key, pm.created_at, pm.user_id`),
        workspaceTasks: (workspaceId) =>
          rows(sql`select ${TASK_COLUMNS} from tasks t join projects p on p.id = t.project_id
                   where t.workspace_id = ${workspaceId} order by p.key, t.number`),
        // Deleted comments are gone for every reader, so they are not exported either.
        comments: (workspaceId) =>
          rows(sql`select id, task_id as "taskId", author_id as "authorId", body, mentions::text[] as mentions,
                   edited_at as "editedAt", created_at as "createdAt"
                   from task_comments where workspace_id = ${workspaceId} and deleted_at is null order by task_id, id`),
        timeEntries: (workspaceId) =>
          rows(sql`select id, project_id as "projectId", task_id as "taskId", user_id as "userId", started_at as "startedAt",
                   ended_at as "endedAt", minutes, note, created_at as "createdAt", updated_at as "updatedAt"
                   from time_entries where workspace_id = ${workspaceId} order by task_id, id`),
        close() {
          closing ??= (broken ? Promise.reject(broken) : client.query('rollback')).then(
            () => release(),
            (err: Error) => release(err),
          );
          return closing;
        },
      };
    },

    /** The workspace's longest-standing owner of the project's workspace (the CLI's default actor). */
    async findOwnerOfProject(projectId: string): Promise<string | undefined> {
      const [row] = await database.db
        .select({ userId: workspaceMembers.userId })
        .from(projects)
        .innerJoin(workspaceMembers, eq(workspaceMembers.workspaceId, projects.workspaceId))
        .where(sql`${projects.id} = ${projectId} and ${workspaceMembers.role} = 'owner'`)
        .orderBy(asc(workspaceMembers.createdAt), asc(workspaceMembers.userId))
        .limit(1);
      return row?.userId;
    },
  };
}

export type ExportsRepository = ReturnType<typeof createExportsRepository>;
