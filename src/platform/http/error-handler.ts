// The one place where errors become HTTP: every failure, from a zod issue to a dropped
// database connection, leaves as the api.md envelope with the request id. Stacks, SQL and
// paths go to the log under that id, never to the client.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { pgError } from '../db/errors.js';
import { AppError, type ErrorCode, invalidId, notFound, unavailable, validationFailed } from '../errors.js';
import { issuesToDetails } from './validation.js';

export const STATUS: Record<ErrorCode, number> = {
  VALIDATION_FAILED: 400,
  INVALID_ID: 400,
  NO_TOKEN: 401,
  INVALID_TOKEN: 401,
  INVALID_CREDENTIALS: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  PRECONDITION_FAILED: 412,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  IDEMPOTENCY_MISMATCH: 422,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
};

const CONNECTION_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57P01', '57P02', '57P03', '53300']);

const CONNECTION_MESSAGES = /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/i;

function isDatabaseDown(err: unknown): boolean {
  // Drizzle wraps the driver's error (a socket error such as ECONNREFUSED, or a SQLSTATE) in
  // `cause`, so the whole chain is searched, not only the outer error.
  let e: unknown = err;
  for (let depth = 0; e && depth < 4; depth++) {
    const code = pgError(e)?.code ?? (e as { code?: unknown }).code;
    if (typeof code === 'string' && (CONNECTION_ERRORS.has(code) || code.startsWith('08'))) return true;
    if (e instanceof Error && CONNECTION_MESSAGES.test(e.message)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** Translates anything thrown into an AppError; unknown errors become INTERNAL. */
export function toAppError(err: unknown, req: FastifyRequest): AppError {
  if (err instanceof AppError) return err;
  if (hasZodFastifySchemaValidationErrors(err)) {
    const issues = err.validation.map((v) => ({
      path: v.instancePath.split('/').filter(Boolean),
      message: v.message ?? 'is invalid',
      code: v.keyword,
      keys: (v.params as { keys?: string[] }).keys,
    }));
    const context = (err as { validationContext?: string }).validationContext ?? 'body';
    if (context === 'params') {
      const idIssue = issues.find((i) => i.message.startsWith('Invalid ') && i.message.endsWith(' ID'));
      if (idIssue) return new AppError('INVALID_ID', idIssue.message);
      return invalidId('resource');
    }
    return validationFailed(issuesToDetails(issues, context === 'querystring' ? 'query' : context));
  }
  const fe = err as Partial<FastifyError>;
  switch (fe.code) {
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return validationFailed([{ path: 'body', message: 'must not be empty when Content-Type is application/json' }]);
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return validationFailed([{ path: 'body', message: 'is not valid JSON' }]);
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('PAYLOAD_TOO_LARGE', `Request body is larger than the limit of ${req.routeOptions.bodyLimit ?? 0} bytes`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError(
        'UNSUPPORTED_MEDIA_TYPE',
        `Unsupported media type ${JSON.stringify(req.headers['content-type'] ?? '')}; send application/json`,
      );
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return validationFailed([{ path: 'body', message: 'does not match its Content-Length' }]);
    default:
  }
  if (err instanceof SyntaxError && fe.statusCode === 400) {
    return validationFailed([{ path: 'body', message: 'is not valid JSON' }]);
  }
  if (fe.statusCode === 400 && /prototype|constructor/i.test(fe.message ?? '')) {
    return validationFailed([{ path: 'body', message: 'contains a forbidden property name' }]);
  }
  if (isDatabaseDown(err)) return unavailable('the database');
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    if (fe.statusCode === 404) return notFound('resource');
    if (fe.statusCode === 413) return new AppError('PAYLOAD_TOO_LARGE', 'Request body is too large');
    if (fe.statusCode === 415) return new AppError('UNSUPPORTED_MEDIA_TYPE', 'Unsupported media type');
    return validationFailed([{ path: '', message: 'The request is malformed' }]);
  }
  return new AppError('INTERNAL', 'Internal server error');
}

export function sendError(err: AppError, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  const status = STATUS[err.code];
  if (err.headers) reply.headers(err.headers);
  if (status === 401) {
    reply.header('www-authenticate', err.code === 'INVALID_TOKEN' ? 'Bearer error="invalid_token"' : 'Bearer');
  }
  if (status === 503) reply.header('retry-after', '5');
  return reply
    .code(status)
    .type('application/json; charset=utf-8')
    .send({
      success: false,
      error: err.message,
      code: err.code,
      ...(err.details ? { details: err.details } : {}),
      requestId: req.id,
    });
}

interface RouteShape {
  methods: string[];
  pattern: RegExp;
}

export function registerErrorHandling(app: FastifyInstance): void {
  const routes: RouteShape[] = [];
  app.addHook('onRoute', (r) => {
    // CORS answers preflights on a catch-all OPTIONS route; it says nothing about a path.
    const methods = (Array.isArray(r.method) ? r.method : [r.method]).filter((m) => m !== 'OPTIONS');
    if (methods.length === 0 || r.url.includes('*')) return;
    const source = r.url
      .replace(/[.+?^${}()|[\]\\]/g, '\\$&')
      .replace(/:[^/]+/g, '[^/]+')
      .replace(/\*/g, '.*');
    routes.push({ methods, pattern: new RegExp(`^${source}/?$`) });
  });

  app.setErrorHandler((err, req, reply) => {
    const appErr = toAppError(err, req);
    if (STATUS[appErr.code] >= 500) req.log.error({ err }, 'request failed');
    else if (!(err instanceof AppError)) req.log.debug({ err: { message: (err as Error).message } }, 'request rejected');
    return sendError(appErr, req, reply);
  });

  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0] ?? '/';
    const allowed = [...new Set(routes.filter((r) => r.pattern.test(path)).flatMap((r) => r.methods))];
    if (allowed.length > 0) {
      reply.header('allow', allowed.join(', '));
      return sendError(
        new AppError('METHOD_NOT_ALLOWED', `Method ${req.method} is not allowed here; use ${allowed.join(', ')}`),
        req,
        reply,
      );
    }
    return sendError(notFound('route'), req, reply);
  });
}
