// `tandem tasks import --project <id> --file <path> [--as <email>] [--format csv|ndjson]`: the
// same import as POST /projects/:id/import (same service function, same checks), from a
// file of any size, with a progress bar on stderr.
import { createReadStream, type ReadStream, statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Logger } from 'pino';
import { createAuditRepository } from './modules/audit/audit.repository.js';
import { createAuditService } from './modules/audit/audit.service.js';
import { createImporter } from './modules/exports/exports.import.js';
import { createExportsRepository } from './modules/exports/exports.repository.js';
import type { ExportFormat } from './modules/exports/exports.schemas.js';
import { createProjectAccess } from './modules/projects/projects.access.js';
import { createProjectsRepository } from './modules/projects/projects.repository.js';
import { createTasksRepository } from './modules/tasks/tasks.repository.js';
import { createUsersRepository } from './modules/users/users.repository.js';
import { createWorkspaceAccess } from './modules/workspaces/workspaces.access.js';
import { createWorkspacesRepository } from './modules/workspaces/workspaces.repository.js';
import type { Database } from './platform/db/client.js';
import { isAppError } from './platform/errors.js';
import { createEventBus } from './platform/events.js';
import type { Actor } from './platform/http/context.js';
import { isUuid } from './platform/ids.js';
import { createProgress } from './platform/progress.js';

export interface ImportCommandContext {
  log: Logger;
  withDatabase<T>(fn: (database: Database) => Promise<T>): Promise<T>;
  usage(message: string): Error;
}

/** Exit status for a file with invalid rows (sysexits EX_DATAERR). */
const EX_DATAERR = 65;

function formatOf(file: string, given: string | undefined): ExportFormat | undefined {
  if (given === 'csv' || given === 'ndjson') return given;
  if (given !== undefined) return undefined;
  if (/\.csv$/i.test(file)) return 'csv';
  if (/\.(ndjson|jsonl)$/i.test(file)) return 'ndjson';
  return undefined;
}

export async function importTasksCommand(args: string[], ctx: ImportCommandContext): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { project: { type: 'string' }, file: { type: 'string' }, as: { type: 'string' }, format: { type: 'string' } },
  });
  const { project: projectId, file } = values;
  if (!projectId || !isUuid(projectId) || !file) throw ctx.usage('tasks import needs --project <project id> and --file <path>');
  const format = formatOf(file, values.format);
  if (!format) throw ctx.usage('--format must be csv or ndjson (or name the file *.csv, *.ndjson or *.jsonl)');
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    throw ctx.usage(`cannot read ${file}`);
  }

  await ctx.withDatabase(async (database) => {
    const { db } = database;
    const users = createUsersRepository(db);
    const userId = values.as
      ? (await users.findByEmail(values.as))?.id
      : await createExportsRepository(database).findOwnerOfProject(projectId);
    if (!userId && values.as) throw ctx.usage(`no user with e-mail ${values.as}`);
    const user = userId ? await users.findById(userId) : undefined;
    if (!user) {
      // Every workspace has an owner: without one, there is no such project.
      process.stderr.write('tandem: Project not found\n');
      process.exitCode = 1;
      return;
    }
    // The operator acts as this person: the import makes the same access check as over HTTP.
    const actor: Actor = { userId: user.id, role: user.role, sessionId: 'cli' };
    const importer = createImporter({
      db,
      tasks: createTasksRepository(db),
      projectAccess: createProjectAccess(createProjectsRepository(db)),
      workspaceAccess: createWorkspaceAccess(createWorkspacesRepository(db)),
      audit: createAuditService({ audit: createAuditRepository(db) }),
      // No server listens in this process: live clients learn of the import when they reload.
      events: createEventBus(ctx.log),
    });

    const progress = createProgress();
    let current: ReadStream | undefined;
    const open = () => {
      current = createReadStream(file);
      return current;
    };
    try {
      const result = await importer.importTasks(
        actor,
        projectId,
        { format, open },
        {
          via: 'cli',
          onProgress: ({ phase, rows }) => progress.update(phase, current?.bytesRead ?? 0, size, `${rows.toLocaleString('en')} rows`),
        },
      );
      progress.finish();
      const cleared = result.clearedAssignees > 0 ? `; ${result.clearedAssignees} assignees cleared (not members of the workspace)` : '';
      process.stdout.write(
        `imported ${result.imported} tasks as ${user.email}, numbers ${result.firstNumber} to ${result.lastNumber}${cleared}\n`,
      );
    } catch (err) {
      progress.finish();
      if (!isAppError(err)) throw err;
      process.stderr.write(`tandem: ${err.code === 'VALIDATION_FAILED' ? 'nothing imported: the file has invalid rows' : err.message}\n`);
      for (const d of err.details ?? []) process.stderr.write(`  ${d.path} ${d.message}\n`);
      process.exitCode = err.code === 'VALIDATION_FAILED' ? EX_DATAERR : 1;
    }
  });
}
