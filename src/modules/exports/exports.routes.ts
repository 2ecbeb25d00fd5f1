import { Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { AppError } from '../../platform/errors.js';
import { actorOf, requestMeta } from '../../platform/http/context.js';
import { errorResponses } from '../../platform/http/schemas.js';
import {
  type ExportFormat,
  IMPORT_BODY_LIMIT,
  importBody,
  importEnvelope,
  projectExportParams,
  projectExportQuery,
  projectExportResponse,
  workspaceExportParams,
  workspaceExportResponse,
} from './exports.schemas.js';
import type { ExportFile, ExportsService } from './exports.service.js';

const tags = ['export'];

const IMPORT_TYPES: Record<string, ExportFormat> = { 'application/x-ndjson': 'ndjson', 'text/csv': 'csv' };
const importFormat = (header: string | undefined): ExportFormat | undefined =>
  IMPORT_TYPES[(header ?? '').split(';')[0]?.trim().toLowerCase() ?? ''];

/** The body in 64 kB slices (no copies), so that parsing it never makes one giant string. */
function* slices(body: Buffer) {
  for (let at = 0; at < body.length; at += 64 * 1024) yield body.subarray(at, at + 64 * 1024);
}

function sendFile(reply: FastifyReply, file: ExportFile) {
  return reply
    .header('content-type', file.contentType)
    .header('content-disposition', `attachment; filename="${file.filename}"`)
    .header('cache-control', 'no-store')
    .send(file.stream);
}

export const exportsRoutes =
  (service: ExportsService): FastifyPluginAsyncZod =>
  async (app) => {
    // Only this plugin's routes read NDJSON and CSV bodies; the bytes go to the service as
    // they came, which parses them row by row.
    app.addContentTypeParser(
      ['application/x-ndjson', 'text/csv'],
      { parseAs: 'buffer', bodyLimit: IMPORT_BODY_LIMIT },
      (_req, body, done) => done(null, body),
    );

    app.get(
      '/projects/:projectId/export',
      {
        // A HEAD would run the whole export only to throw the body away.
        exposeHeadRoute: false,
        schema: {
          tags,
          summary: 'Download every task of a project as NDJSON or CSV (members and above; archived projects too)',
          description:
            'Streamed from a database cursor: the download starts at once and server memory stays flat whatever the size. ' +
            'At most a few exports run at a time per server (429 beyond). Each line (NDJSON) or row (CSV) is a task as `GET /tasks/:taskId` shows it.',
          params: projectExportParams,
          querystring: projectExportQuery,
          response: { 200: projectExportResponse, ...errorResponses(400, 401, 403, 404, 429) },
        },
      },
      async (req, reply) => {
        const file = await service.exportProjectTasks(actorOf(req), req.params.projectId, req.query.format, {
          meta: requestMeta(req),
          onStreamError: (err) => req.log.error({ err }, 'export failed after its first byte; response cut short'),
        });
        return sendFile(reply, file);
      },
    );

    app.get(
      '/workspaces/:workspaceId/export',
      {
        // A HEAD would run the whole export only to throw the body away.
        exposeHeadRoute: false,
        schema: {
          tags,
          summary: 'Download a whole workspace as NDJSON (admins and owners)',
          description:
            'One `{ "type", "data" }` record per line, parents before children: workspace, member, project, projectMember, ' +
            'task, comment, timeEntry. Read in one consistent snapshot and streamed.',
          params: workspaceExportParams,
          response: { 200: workspaceExportResponse, ...errorResponses(400, 401, 403, 404, 429) },
        },
      },
      async (req, reply) => {
        const file = await service.exportWorkspace(actorOf(req), req.params.workspaceId, {
          meta: requestMeta(req),
          onStreamError: (err) => req.log.error({ err }, 'export failed after its first byte; response cut short'),
        });
        return sendFile(reply, file);
      },
    );

    app.post(
      '/projects/:projectId/import',
      {
        bodyLimit: IMPORT_BODY_LIMIT,
        // Refused before the body is read: a wrong media type should not cost 50 MB of upload.
        preParsing: async (req) => {
          if (!importFormat(req.headers['content-type'])) {
            throw new AppError(
              'UNSUPPORTED_MEDIA_TYPE',
              `Unsupported media type ${JSON.stringify(req.headers['content-type'] ?? '')}; send application/x-ndjson or text/csv`,
            );
          }
        },
        schema: {
          tags,
          summary: 'Import the tasks of a project export (NDJSON or CSV) into this project (admins and owners)',
          description:
            'Every row is validated first; any invalid row answers 400 with `details` naming its line (`line 17: dueDate`, up to 100) ' +
            'and nothing is imported. Then all rows are written in one transaction with new numbers. Body up to 50 MB.',
          params: projectExportParams,
          consumes: ['application/x-ndjson', 'text/csv'],
          body: importBody,
          response: { 200: importEnvelope, ...errorResponses(400, 401, 403, 404, 409, 413, 415) },
        },
      },
      async (req) => {
        const format = importFormat(req.headers['content-type']) ?? 'ndjson';
        const body = req.body;
        const result = await service.importTasks(
          actorOf(req),
          req.params.projectId,
          { format, open: () => Readable.from(slices(body)) },
          { meta: requestMeta(req), via: 'api' },
        );
        return { success: true as const, data: result };
      },
    );
  };
