// Export and import: route schemas, the record shapes of a workspace export, the CSV columns
// and the schema every imported row must pass. A task is exported exactly as the API shows it
// (toTaskResponse), so a file written by the exporter is a file the importer reads.
import { z } from 'zod';
import { dataEnvelope, idParam } from '../../platform/http/schemas.js';
import { createTaskBody, taskResponse } from '../tasks/tasks.schemas.js';
import { workspaceRole } from '../workspaces/workspaces.schemas.js';

export const EXPORT_FORMATS = ['csv', 'ndjson'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export const CONTENT_TYPES: Record<ExportFormat, string> = {
  csv: 'text/csv; charset=utf-8',
  ndjson: 'application/x-ndjson',
};

/** Errors an import reports at most; a file that bad has a systematic problem the first ones show. */
export const MAX_IMPORT_ERRORS = 100;

/** Import bodies are capped separately from JSON bodies (api.md: uploads per endpoint). */
export const IMPORT_BODY_LIMIT = 50 * 1024 * 1024;

/** CSV columns: the fields of the API's task, in the same order. */
export const TASK_COLUMNS = Object.keys(taskResponse.shape) as (keyof z.infer<typeof taskResponse>)[];

export const projectExportParams = z.strictObject({ projectId: idParam('project') });
export const workspaceExportParams = z.strictObject({ workspaceId: idParam('workspace') });
export const projectExportQuery = z.strictObject({
  format: z.enum(EXPORT_FORMATS).default('ndjson').describe('`ndjson` (one task per line, default) or `csv` (one row per task)'),
});

const fileResponse = (description: string, types: string[]) => ({
  description,
  content: Object.fromEntries(types.map((t) => [t, { schema: z.string() }])),
});
export const projectExportResponse = fileResponse('The project’s tasks as a file download, streamed', [
  CONTENT_TYPES.ndjson,
  CONTENT_TYPES.csv,
]);
export const workspaceExportResponse = fileResponse('One JSON record per line: `{ "type", "data" }`, parents before children', [
  CONTENT_TYPES.ndjson,
]);

export const importBody = z
  .custom<Buffer>((v) => Buffer.isBuffer(v))
  .meta({ type: 'string', description: 'The NDJSON or CSV of a project export (Content-Type application/x-ndjson or text/csv)' });

export const importResult = z.object({
  imported: z.number().int(),
  clearedAssignees: z.number().int().describe('Rows whose assignee is not a member of this workspace, imported unassigned'),
  firstNumber: z.number().int(),
  lastNumber: z.number().int(),
});
export type ImportResult = z.infer<typeof importResult>;
export const importEnvelope = dataEnvelope(importResult);

// Fields an export carries but an import does not keep: the target project hands out new
// ids, numbers and board positions, and the importer becomes the reporter.
const ignored = z.unknown().optional();

/** One imported task; unknown fields are an error (a misspelt column must not be dropped silently). */
export const importedTask = createTaskBody.extend({
  completedAt: z.iso.datetime({ offset: true }).nullable().optional(),
  id: ignored,
  key: ignored,
  number: ignored,
  projectId: ignored,
  workspaceId: ignored,
  reporterId: ignored,
  position: ignored,
  version: ignored,
  createdAt: ignored,
  updatedAt: ignored,
});
export type ImportedTask = z.infer<typeof importedTask>;

// The `data` of each record type of a workspace export (a task's is the API's task). Strict,
// so that a test of the export notices a field that appears or goes missing.

const workspaceRecord = z.strictObject({
  id: z.string(),
  name: z.string(),
  slug: z.string(),
  createdBy: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
const memberRecord = z.strictObject({
  userId: z.string(),
  name: z.string(),
  email: z.string(),
  role: workspaceRole,
  joinedAt: z.string(),
});
const projectRecord = z.strictObject({
  id: z.string(),
  key: z.string(),
  name: z.string(),
  description: z.string(),
  archivedAt: z.string().nullable(),
  taskCount: z.number().int(),
  createdBy: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
const projectMemberRecord = z.strictObject({ projectId: z.string(), userId: z.string(), addedAt: z.string() });
const commentRecord = z.strictObject({
  id: z.string(),
  taskId: z.string(),
  authorId: z.string().nullable(),
  body: z.string(),
  mentions: z.array(z.string()),
  editedAt: z.string().nullable(),
  createdAt: z.string(),
});
const timeEntryRecord = z.strictObject({
  id: z.string(),
  projectId: z.string(),
  taskId: z.string(),
  userId: z.string(),
  startedAt: z.string(),
  endedAt: z.string().nullable(),
  minutes: z.number().int().nullable(),
  note: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

/** Record types in the order a workspace export writes them: parents before children. */
export const EXPORT_RECORDS = {
  workspace: workspaceRecord,
  member: memberRecord,
  project: projectRecord,
  projectMember: projectMemberRecord,
  task: taskResponse,
  comment: commentRecord,
  timeEntry: timeEntryRecord,
} as const;
export type RecordType = keyof typeof EXPORT_RECORDS;
