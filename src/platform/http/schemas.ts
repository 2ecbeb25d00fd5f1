// Building blocks for route schemas: envelopes, ids, pagination. They validate requests,
// shape responses and feed the OpenAPI document from one definition.
import { z } from 'zod';
import { isUuid } from '../ids.js';

export const errorSchema = z
  .object({
    success: z.literal(false),
    error: z.string(),
    code: z.string(),
    details: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    requestId: z.string(),
  })
  .meta({ id: 'Error' });

export const messageSchema = z.object({ success: z.literal(true), message: z.string() });

export const dataEnvelope = <T extends z.ZodType>(data: T) => z.object({ success: z.literal(true), data });

export const pageSchema = z.object({
  page: z.number().int(),
  limit: z.number().int(),
  total: z.number().int(),
  totalPages: z.number().int(),
});

export const cursorPageSchema = z.object({
  limit: z.number().int(),
  nextCursor: z.string().nullable(),
  hasMore: z.boolean(),
});

export const pagedEnvelope = <T extends z.ZodType>(item: T) =>
  z.object({ success: z.literal(true), data: z.array(item), pagination: pageSchema });

export const cursorEnvelope = <T extends z.ZodType>(item: T) =>
  z.object({ success: z.literal(true), data: z.array(item), pagination: cursorPageSchema });

/** A UUID path parameter whose failure reads `Invalid <thing> ID` (400 INVALID_ID). */
export const idParam = (thing: string) =>
  z
    .string()
    .refine(isUuid, { message: `Invalid ${thing} ID` })
    .meta({ format: 'uuid' });

export const pageQuery = {
  page: z.coerce.number().int().min(1).max(100_000).default(1),
  limit: z.coerce.number().int().min(1).max(100).default(20),
};

export const cursorQuery = {
  cursor: z.string().max(512).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
};

/** Opaque cursors: base64url of the sort key and id. */
export const encodeCursor = (parts: readonly (string | number)[]) => Buffer.from(JSON.stringify(parts)).toString('base64url');

export function decodeCursor(cursor: string): unknown[] | undefined {
  try {
    const parts: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    return Array.isArray(parts) ? parts : undefined;
  } catch {
    return undefined;
  }
}

/** Standard error responses for the OpenAPI document, by status. */
export const errorResponses = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((s) => [s, errorSchema])) as Record<number, typeof errorSchema>;

export const iso = (d: Date | null | undefined): string | null => (d ? d.toISOString() : null);

/** The `pagination` object of an offset page. */
export const offsetPagination = (page: number, limit: number, total: number) => ({
  page,
  limit,
  total,
  totalPages: Math.ceil(total / limit),
});

// Intl accepts some names PostgreSQL reads differently (a bare "+01:00" is POSIX there, with the
// sign flipped; newer Node versions accept it), so only region names pass, spelt as the zone
// database does (europe/berlin → Europe/Berlin; Intl's own canonical names are legacy ones,
// Europe/Kyiv → Europe/Kiev). Every `tz` parameter of the API is this one.
const ZONE_NAMES = new Map(Intl.supportedValuesOf('timeZone').map((name) => [name.toLowerCase(), name]));
const knownToIntl = (tz: string) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
};

/** An IANA time zone name, as PostgreSQL and Intl both read it. */
export const timeZone = z
  .string()
  .max(64)
  .refine(knownToIntl, { message: 'must be an IANA time zone such as Europe/Berlin' })
  .refine((tz) => /^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(tz), {
    message: 'must be an IANA time zone such as Europe/Berlin',
    when: (payload) => payload.issues.length === 0,
  })
  .transform((tz) => ZONE_NAMES.get(tz.toLowerCase()) ?? tz);
