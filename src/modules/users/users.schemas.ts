import { z } from 'zod';
import { dataEnvelope, idParam, iso, pagedEnvelope, pageQuery } from '../../platform/http/schemas.js';
import type { UserSort } from './users.repository.js';
import type { UserRow } from './users.table.js';

export const email = z
  .email()
  .max(254)
  .transform((e) => e.trim());
export const personName = z.string().trim().min(1).max(100);

export const userIdParams = z.strictObject({ id: idParam('user') });

const SORT_KEYS = ['name', 'email', 'createdAt'] as const;
const sortPattern = new RegExp(`^-?(${SORT_KEYS.join('|')})(,-?(${SORT_KEYS.join('|')}))*$`);

export const listUsersQuery = z.strictObject({
  ...pageQuery,
  q: z.string().trim().min(1).max(100).optional(),
  role: z.enum(['user', 'admin']).optional(),
  sort: z
    .string()
    .regex(sortPattern, { message: `must be a comma-separated list of ${SORT_KEYS.join(', ')}, each optionally prefixed with -` })
    .default('createdAt')
    .transform((s): UserSort[] =>
      s.split(',').map((part) => ({ key: part.replace(/^-/, '') as UserSort['key'], desc: part.startsWith('-') })),
    ),
});

export const updateMeBody = z
  .strictObject({ name: personName.optional(), email: email.optional() })
  .refine((b) => Object.keys(b).length > 0, { message: 'must name at least one field to change (name, email)' });

export const replaceUserBody = z.strictObject({
  name: personName,
  email,
  role: z.enum(['user', 'admin']).optional(),
});

export const userResponse = z
  .object({
    id: z.string(),
    email: z.string(),
    name: z.string(),
    role: z.enum(['user', 'admin']),
    emailVerified: z.boolean(),
    emailVerifiedAt: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'User' });

export type UserResponse = z.infer<typeof userResponse>;

export const toUserResponse = (u: UserRow): UserResponse => ({
  id: u.id,
  email: u.email,
  name: u.name,
  role: u.role,
  emailVerified: u.emailVerifiedAt !== null,
  emailVerifiedAt: iso(u.emailVerifiedAt),
  createdAt: u.createdAt.toISOString(),
  updatedAt: u.updatedAt.toISOString(),
});

export const userEnvelope = dataEnvelope(userResponse);
export const userListEnvelope = pagedEnvelope(userResponse);
