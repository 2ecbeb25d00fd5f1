import { z } from 'zod';
import { cursorEnvelope, cursorQuery } from '../../platform/http/schemas.js';

export const listAuditQuery = z.strictObject({
  ...cursorQuery,
  action: z.string().min(1).max(64).optional(),
  actorId: z.uuid().optional(),
  targetId: z.string().min(1).max(128).optional(),
});

export const auditEventResponse = z
  .object({
    id: z.string(),
    action: z.string(),
    actorId: z.string().nullable(),
    targetType: z.string().nullable(),
    targetId: z.string().nullable(),
    ip: z.string().nullable(),
    userAgent: z.string().nullable(),
    requestId: z.string().nullable(),
    metadata: z.record(z.string(), z.unknown()),
    createdAt: z.string(),
  })
  .meta({ id: 'AuditEvent' });

export const auditListResponse = cursorEnvelope(auditEventResponse);
