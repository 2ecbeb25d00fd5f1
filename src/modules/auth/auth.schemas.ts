import { z } from 'zod';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../../platform/auth/passwords.js';
import { dataEnvelope, idParam, messageSchema } from '../../platform/http/schemas.js';
import { email, personName, userResponse } from '../users/users.schemas.js';

const password = z.string().min(PASSWORD_MIN_LENGTH).max(PASSWORD_MAX_LENGTH);
/** Any stored password may be typed at login; only the length cap guards the hash. */
const anyPassword = z.string().min(1).max(PASSWORD_MAX_LENGTH);
const opaqueToken = z.string().min(20).max(200);

export const registerBody = z.strictObject({
  name: personName,
  email,
  password,
  invitationToken: z
    .string()
    .min(20)
    .max(200)
    .optional()
    .describe('From an invitation link: the new account joins that workspace (the e-mail must be the invited address)'),
});
export const loginBody = z.strictObject({ email, password: anyPassword });
// Nullish, not optional: Fastify hands a request without a body to the schema as null, and a
// browser in cookie mode refreshes with no body at all.
export const refreshBody = z.strictObject({ refreshToken: opaqueToken.optional() }).nullish();
export const tokenDeliveryQuery = z.strictObject({
  cookie: z
    .enum(['true', 'false'])
    .optional()
    .transform((v) => v === 'true')
    .meta({ description: 'true: the refresh token is set as an HttpOnly `__Host-` cookie instead of returned' }),
});
export const changePasswordBody = z.strictObject({ currentPassword: anyPassword, newPassword: password });
export const verifyEmailBody = z.strictObject({ token: opaqueToken });
export const forgotPasswordBody = z.strictObject({ email });
export const resetPasswordBody = z.strictObject({ token: opaqueToken, password });
export const sessionIdParams = z.strictObject({ id: idParam('session') });

export const tokenResponse = z
  .object({
    success: z.literal(true),
    message: z.string(),
    user: userResponse,
    accessToken: z.string(),
    refreshToken: z.string().optional().meta({ description: 'Absent in cookie mode' }),
    csrfToken: z.string().optional().meta({ description: 'Cookie mode: send it back as X-CSRF-Token' }),
    tokenType: z.literal('Bearer'),
    expiresIn: z.number().int(),
  })
  .meta({ id: 'TokenResponse' });

export const sessionResponse = z
  .object({
    id: z.string(),
    current: z.boolean(),
    userAgent: z.string().nullable(),
    ip: z.string().nullable(),
    signedInAt: z.string(),
    lastUsedAt: z.string(),
    expiresAt: z.string(),
  })
  .meta({ id: 'Session' });

export const sessionsEnvelope = dataEnvelope(z.array(sessionResponse));
export const userEnvelope = dataEnvelope(userResponse);
export { messageSchema };
