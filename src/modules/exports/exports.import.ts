// Import of a project export (NDJSON or CSV) into a project: every row is validated first and
// a bad one is reported with its line; then everything is written in one transaction, in
// multi-row batches, or nothing is. Tasks get new numbers in the target project.
import type { Readable } from 'node:stream';
import type { Db, Executor } from '../../platform/db/client.js';
import { inTransaction } from '../../platform/db/transaction.js';
import { conflict, type ErrorDetail, validationFailed } from '../../platform/errors.js';
import type { EventBus } from '../../platform/events.js';
import type { Actor, RequestMeta } from '../../platform/http/context.js';
import { newId } from '../../platform/ids.js';
import type { AuditRecorder } from '../audit/audit.service.js';
import type { ProjectAccess } from '../projects/projects.access.js';
import type { TasksRepository } from '../tasks/tasks.repository.js';
import type { TaskRow, TaskStatus } from '../tasks/tasks.table.js';
import type { WorkspaceAccess } from '../workspaces/workspaces.access.js';
import { type ParsedRow, parseRows } from './exports.parse.js';
import { type ExportFormat, type ImportResult, MAX_IMPORT_ERRORS } from './exports.schemas.js';

/** What import needs of the tasks module's storage: numbering, board ends, inserts. */
export type TaskStore = Pick<TasksRepository, 'reserveNumbers' | 'endOfColumn' | 'insert' | 'insertActivities'>;

export interface ImportSource {
  format: ExportFormat;
  /** Opens the input from its start; called once to validate and once to write. */
  open(): Readable;
}

export interface ImportProgress {
  phase: 'validating' | 'importing';
  /** Rows read so far in this phase, and the line the last one started on. */
  rows: number;
  line: number;
}

export interface ImportOptions {
  meta?: RequestMeta;
  /** Recorded in the audit trail. */
  via?: 'api' | 'cli';
  onProgress?(progress: ImportProgress): void;
}

interface ImporterDeps {
  db: Db;
  tasks: TaskStore;
  projectAccess: ProjectAccess;
  workspaceAccess: WorkspaceAccess;
  audit: AuditRecorder;
  events: EventBus;
  clock?: () => Date;
}

const BATCH_ROWS = 1000;
// A row may carry a 100,000-character description: batches are cut by size too, so one
// INSERT stays well below what a single statement should carry.
const BATCH_CHARS = 4_000_000;
/** The board's spacing between neighbours (tasks.repository POSITION_GAP). */
const POSITION_GAP = 1024;
const PROGRESS_EVERY = 1000;

type TrackedFields = Pick<
  TaskRow,
  'title' | 'description' | 'status' | 'priority' | 'assigneeId' | 'dueDate' | 'labels' | 'estimateMinutes'
>;
// As for a task created by hand: status and priority start from nothing, so they are always
// recorded and reports can tell the status a task started in.
const BLANK: Record<keyof TrackedFields, unknown> = {
  title: '',
  description: '',
  status: null,
  priority: null,
  assigneeId: null,
  dueDate: null,
  labels: [],
  estimateMinutes: null,
};

/** What a 'created' activity records: each field that differs from a blank task. */
function createdChanges(task: TrackedFields) {
  const changes: Record<string, { before: unknown; after: unknown }> = {};
  for (const field of Object.keys(BLANK) as (keyof TrackedFields)[]) {
    if (JSON.stringify(task[field]) !== JSON.stringify(BLANK[field])) changes[field] = { before: BLANK[field], after: task[field] };
  }
  return changes;
}

export function createImporter(deps: ImporterDeps) {
  const { db, tasks, projectAccess, workspaceAccess, audit, events, clock = () => new Date() } = deps;

  async function* rowsOf(source: ImportSource, phase: ImportProgress['phase'], onProgress?: ImportOptions['onProgress']) {
    let rows = 0;
    let line = 0;
    for await (const row of parseRows(source.open(), source.format) as AsyncIterable<ParsedRow>) {
      rows++;
      line = row.line;
      if (onProgress && rows % PROGRESS_EVERY === 0) onProgress({ phase, rows, line });
      yield row;
    }
    onProgress?.({ phase, rows, line });
  }

  return {
    /**
     * Imports tasks into a project (admins and owners). Assignees who are not members of the
     * target workspace are dropped (counted in `clearedAssignees`); the importer is the reporter.
     */
    async importTasks(actor: Actor, projectId: string, source: ImportSource, options: ImportOptions = {}): Promise<ImportResult> {
      const { project } = await projectAccess.requireProject(actor, projectId, 'manage');

      const errors: ErrorDetail[] = [];
      const assignees = new Set<string>();
      let count = 0;
      let more = false;
      for await (const row of rowsOf(source, 'validating', options.onProgress)) {
        if ('errors' in row) {
          more = errors.length >= MAX_IMPORT_ERRORS;
          if (more) break;
          errors.push(...row.errors);
          continue;
        }
        count++;
        if (row.task.assigneeId) assignees.add(row.task.assigneeId);
      }
      if (more || errors.length > MAX_IMPORT_ERRORS) {
        errors.splice(MAX_IMPORT_ERRORS);
        errors.push({ path: 'file', message: `has more errors; stopped after the first ${MAX_IMPORT_ERRORS}` });
      }
      if (errors.length > 0) throw validationFailed(errors);
      if (count === 0) throw validationFailed([{ path: 'file', message: 'contains no tasks' }]);
      const members = assignees.size > 0 ? await workspaceAccess.memberIds(project.workspaceId, [...assignees]) : new Set<string>();

      const now = clock();
      const result = await inTransaction(db, async (tx) => {
        const firstNumber = await tasks.reserveNumbers(tx, projectId, count);
        const columnEnds = new Map<TaskStatus, number>();
        let written = 0;
        let clearedAssignees = 0;
        let batch: Parameters<TaskStore['insert']>[1] = [];
        let batchChars = 0;
        const flush = async (exec: Executor) => {
          if (batch.length === 0) return;
          const inserted = await tasks.insert(exec, batch);
          await tasks.insertActivities(
            exec,
            inserted.map((t) => ({
              id: newId(),
              workspaceId: t.workspaceId,
              projectId,
              taskId: t.id,
              actorId: actor.userId,
              verb: 'created',
              changes: createdChanges(t),
              createdAt: now,
            })),
          );
          batch = [];
          batchChars = 0;
        };
        for await (const row of rowsOf(source, 'importing', options.onProgress)) {
          // The input is read twice; a file that changed in between is refused, not half-read.
          if ('errors' in row) throw validationFailed(row.errors);
          if (written >= count) throw conflict('the import file changed while it was being imported');
          const t = row.task;
          const status = t.status ?? 'todo';
          const position = columnEnds.get(status) ?? (await tasks.endOfColumn(tx, projectId, status));
          columnEnds.set(status, position + POSITION_GAP);
          const assigneeId = t.assigneeId && members.has(t.assigneeId) ? t.assigneeId : null;
          if (t.assigneeId && !assigneeId) clearedAssignees++;
          batch.push({
            id: newId(),
            workspaceId: project.workspaceId,
            projectId,
            number: firstNumber + written,
            title: t.title,
            description: t.description ?? '',
            status,
            priority: t.priority ?? 'none',
            assigneeId,
            reporterId: actor.userId,
            dueDate: t.dueDate ?? null,
            labels: t.labels ?? [],
            estimateMinutes: t.estimateMinutes ?? null,
            position,
            // A done task keeps when it was completed; that is history, not a new event.
            completedAt: status === 'done' ? (t.completedAt ? new Date(t.completedAt) : now) : null,
            createdAt: now,
            updatedAt: now,
          });
          written++;
          batchChars += t.title.length + (t.description?.length ?? 0);
          if (batch.length >= BATCH_ROWS || batchChars >= BATCH_CHARS) await flush(tx);
        }
        await flush(tx);
        if (written !== count) throw conflict('the import file changed while it was being imported');
        const lastNumber = firstNumber + count - 1;
        await audit.record(
          tx,
          {
            action: 'project.imported',
            actorId: actor.userId,
            targetType: 'project',
            targetId: projectId,
            metadata: { format: source.format, imported: count, clearedAssignees, firstNumber, lastNumber, via: options.via ?? 'api' },
          },
          options.meta,
        );
        return { imported: count, clearedAssignees, firstNumber, lastNumber };
      });
      // One event for the whole import rather than one per task: a 100,000-row import must not
      // become 100,000 realtime messages and notifications. Listeners refetch the project.
      events.publish([
        {
          type: 'tasks.imported',
          workspaceId: project.workspaceId,
          projectId,
          actorId: actor.userId,
          occurredAt: now,
          data: { projectKey: project.key, ...result },
        },
      ]);
      return result;
    },
  };
}
