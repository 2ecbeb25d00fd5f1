// Typed application errors: a machine code that never changes, a sentence for people, and
// optional details. Mapped to HTTP in exactly one place (platform/http/error-handler.ts).

export type ErrorCode =
  | 'VALIDATION_FAILED'
  | 'INVALID_ID'
  | 'NO_TOKEN'
  | 'INVALID_TOKEN'
  | 'INVALID_CREDENTIALS'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'PRECONDITION_FAILED'
  | 'IDEMPOTENCY_MISMATCH'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'METHOD_NOT_ALLOWED'
  | 'RATE_LIMITED'
  | 'INTERNAL'
  | 'UNAVAILABLE';

export interface ErrorDetail {
  path: string;
  message: string;
}

export class AppError extends Error {
  override name = 'AppError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: ErrorDetail[],
    /** Extra response headers (Retry-After…), applied by the HTTP error handler. */
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }
}

export function isAppError(err: unknown, code?: ErrorCode): err is AppError {
  return err instanceof AppError && (code === undefined || err.code === code);
}

const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

export const validationFailed = (details: ErrorDetail[]) =>
  new AppError(
    'VALIDATION_FAILED',
    `Validation failed: ${details.map((d) => (d.path ? `${d.path} ${d.message}` : d.message)).join('; ')}`,
    details,
  );
export const invalidId = (thing: string) => new AppError('INVALID_ID', `Invalid ${thing} ID`);
export const noToken = () => new AppError('NO_TOKEN', 'Access denied. No token provided.');
export const invalidToken = () => new AppError('INVALID_TOKEN', 'Invalid or expired token.');
export const invalidCredentials = () => new AppError('INVALID_CREDENTIALS', 'Invalid credentials');
export const forbidden = () => new AppError('FORBIDDEN', 'Insufficient permissions.');
export const notFound = (thing: string) => new AppError('NOT_FOUND', `${capitalize(thing)} not found`);
export const conflict = (message: string) => new AppError('CONFLICT', capitalize(message));
export const preconditionFailed = () =>
  new AppError('PRECONDITION_FAILED', 'The resource has changed since you read it (If-Match does not match).');
/** Refuses a write based on a stale read: the caller's If-Match versions, when given, must include the current one. */
export function requireVersion(current: number, expected: readonly number[] | undefined): void {
  if (expected && !expected.includes(current)) throw preconditionFailed();
}
export const rateLimited = (retryAfterSeconds: number) =>
  new AppError('RATE_LIMITED', 'Too many requests, please try again later.', undefined, {
    'retry-after': String(Math.max(1, Math.ceil(retryAfterSeconds))),
  });
export const unavailable = (what: string) => new AppError('UNAVAILABLE', `${capitalize(what)} is unavailable, please try again shortly.`);
