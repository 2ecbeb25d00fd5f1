// Export: a project's tasks (CSV or NDJSON) or a whole workspace (NDJSON), streamed from a
// database cursor to the caller with backpressure, so memory stays flat however many rows
// there are. The file is this use case's product, so its records are shaped here.
import { Readable } from 'node:stream';
import type { Db } from '../../platform/db/client.js';
import { forbidden, rateLimited } from '../../platform/errors.js';
import type { EventBus } from '../../platform/events.js';
import type { Actor, RequestMeta } from '../../platform/http/context.js';
import type { AuditRecorder } from '../audit/audit.service.js';
import type { ProjectAccess } from '../projects/projects.access.js';
import { toTaskResponse } from '../tasks/tasks.schemas.js';
import type { WorkspaceAccess } from '../workspaces/workspaces.access.js';
import { mayInProject } from '../workspaces/workspaces.policy.js';
import { createImporter, type TaskStore } from './exports.import.js';
import type { ExportsRepository, Snapshot } from './exports.repository.js';
import { CONTENT_TYPES, type ExportFormat, type RecordType } from './exports.schemas.js';
import { encode, firstChunk } from './exports.streams.js';

export interface ExportFile {
  filename: string;
  contentType: string;
  /** Ends by itself; destroy it to stop early (the cursor closes and its connection returns). */
  stream: Readable;
}

export interface ExportOptions {
  meta?: RequestMeta;
  /** Called for a failure after the first byte, when the response can only be cut short. */
  onStreamError?(err: Error): void;
}

export interface ExportsServiceDeps {
  db: Db;
  exports: ExportsRepository;
  tasks: TaskStore;
  projectAccess: ProjectAccess;
  workspaceAccess: WorkspaceAccess;
  audit: AuditRecorder;
  events: EventBus;
  /** Each running export holds a pooled connection: beyond this many, callers are asked to retry. */
  maxConcurrentExports?: number;
  /** The longest one export may take (its snapshot's statement timeout). */
  maxExportMs?: number;
  clock?: () => Date;
}

const DEFAULT_MAX_EXPORT_MS = 60 * 60 * 1000;

/** Dates as ISO 8601 strings, as everywhere on the wire. */
const isoDates = (row: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(row).map(([k, v]) => [k, v instanceof Date ? v.toISOString() : v]));

const record = (type: RecordType, data: unknown) => ({ type, data });

/** Export and import of tasks and workspaces. */
export function createExportsService(deps: ExportsServiceDeps) {
  const { exports: repo, projectAccess, workspaceAccess, audit, clock = () => new Date() } = deps;
  const maxConcurrent = deps.maxConcurrentExports ?? 2;
  const maxExportMs = deps.maxExportMs ?? DEFAULT_MAX_EXPORT_MS;
  let running = 0;

  /** Opens a snapshot, starts the records flowing and waits for the first chunk of the file. */
  async function startExport(
    format: ExportFormat,
    produce: (snapshot: Snapshot) => AsyncIterable<object[]>,
    onStreamError: (err: Error) => void,
  ): Promise<Readable> {
    if (running >= maxConcurrent) throw rateLimited(5);
    running++;
    let snapshot: Snapshot;
    try {
      snapshot = await repo.openSnapshot(maxExportMs);
    } catch (err) {
      running--;
      throw err;
    }
    // One batch ahead at most: the cursor is read as fast as the client downloads, no faster.
    const source = Readable.from(produce(snapshot), { highWaterMark: 1 });
    // On 'close', not in the generator's finally: a source destroyed before its first read never
    // runs the generator's body, and its connection must come back all the same.
    source.once('close', () => {
      void snapshot.close().finally(() => running--);
    });
    let started = false;
    const file = encode(source, format, (err) => {
      if (started) onStreamError(err);
    });
    try {
      await firstChunk(file);
    } catch (err) {
      file.destroy();
      throw err;
    }
    started = true;
    return file;
  }

  const today = () => clock().toISOString().slice(0, 10);

  return {
    /** A project's tasks, in number order. Members and above (like writing); archived projects too. */
    async exportProjectTasks(actor: Actor, projectId: string, format: ExportFormat, options: ExportOptions = {}): Promise<ExportFile> {
      const { project, role } = await projectAccess.requireProject(actor, projectId, 'read');
      if (!mayInProject(role, 'write')) throw forbidden();
      const stream = await startExport(
        format,
        async function* (snapshot) {
          for await (const rows of snapshot.projectTasks(projectId)) yield rows.map((row) => toTaskResponse(row, row.projectKey));
        },
        options.onStreamError ?? (() => {}),
      );
      await recordAudit(stream, () =>
        audit.record(
          deps.db,
          { action: 'project.exported', actorId: actor.userId, targetType: 'project', targetId: projectId, metadata: { format } },
          options.meta,
        ),
      );
      return { filename: `${project.key}-tasks-${today()}.${format}`, contentType: CONTENT_TYPES[format], stream };
    },

    /**
     * Everything in a workspace, one `{ type, data }` record per line, parents before children
     * (workspace, members, projects, project members, tasks, comments, time entries), read in
     * one snapshot so the records agree with each other. Admins and owners.
     */
    async exportWorkspace(actor: Actor, workspaceId: string, options: ExportOptions = {}): Promise<ExportFile> {
      const { workspace } = await workspaceAccess.requireWorkspace(actor, workspaceId, 'export');
      const stream = await startExport(
        'ndjson',
        async function* (s) {
          const typed = (type: RecordType, rows: Record<string, unknown>[]) => rows.map((row) => record(type, isoDates(row)));
          for await (const rows of s.workspace(workspaceId)) yield typed('workspace', rows);
          for await (const rows of s.members(workspaceId)) yield typed('member', rows);
          for await (const rows of s.projects(workspaceId)) yield typed('project', rows);
          for await (const rows of s.projectMembers(workspaceId)) yield typed('projectMember', rows);
          for await (const rows of s.workspaceTasks(workspaceId))
            yield rows.map((row) => record('task', toTaskResponse(row, row.projectKey)));
          for await (const rows of s.comments(workspaceId)) yield typed('comment', rows);
          for await (const rows of s.timeEntries(workspaceId)) yield typed('timeEntry', rows);
        },
        options.onStreamError ?? (() => {}),
      );
      await recordAudit(stream, () =>
        audit.record(
          deps.db,
          { action: 'workspace.exported', actorId: actor.userId, targetType: 'workspace', targetId: workspaceId },
          options.meta,
        ),
      );
      return { filename: `${workspace.slug}-workspace-${today()}.ndjson`, contentType: CONTENT_TYPES.ndjson, stream };
    },

    ...createImporter(deps),
  };
}

/** An export nobody can account for must not leave: a failed audit write stops the stream. */
async function recordAudit(stream: Readable, write: () => Promise<void>): Promise<void> {
  try {
    await write();
  } catch (err) {
    stream.destroy();
    throw err;
  }
}

export type ExportsService = ReturnType<typeof createExportsService>;
