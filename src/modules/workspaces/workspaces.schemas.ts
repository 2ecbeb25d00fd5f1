import { z } from 'zod';
import { dataEnvelope, idParam, pagedEnvelope, pageQuery } from '../../platform/http/schemas.js';
import { email } from '../users/users.schemas.js';
import type { MemberView } from './workspaces.repository.js';
import { type InvitationRow, WORKSPACE_ROLES, type WorkspaceRole, type WorkspaceRow } from './workspaces.table.js';

export const workspaceRole = z.enum(WORKSPACE_ROLES);
const workspaceName = z.string().trim().min(1).max(100);
const slug = z
  .string()
  .min(1)
  .max(48)
  .regex(/^[a-z0-9](?:[a-z0-9-]{0,46}[a-z0-9])?$/, {
    message: 'must be lower-case letters, digits and dashes, not starting or ending with a dash',
  });

export const workspaceIdParams = z.strictObject({ workspaceId: idParam('workspace') });
export const memberParams = z.strictObject({ workspaceId: idParam('workspace'), userId: idParam('user') });
export const invitationParams = z.strictObject({ workspaceId: idParam('workspace'), invitationId: idParam('invitation') });

export const createWorkspaceBody = z.strictObject({ name: workspaceName, slug: slug.optional() });
export const updateWorkspaceBody = z
  .strictObject({ name: workspaceName.optional(), slug: slug.optional() })
  .refine((b) => Object.keys(b).length > 0, {
    message: 'must name at least one field to change (name, slug)',
    // Only for an empty body: unknown fields are stripped before refinements run.
    when: (payload) => payload.issues.length === 0,
  });
export const deleteWorkspaceBody = z.strictObject({ confirm: z.string().max(100) });
export const listWorkspacesQuery = z.strictObject({ ...pageQuery });
export const listMembersQuery = z.strictObject({ ...pageQuery, role: workspaceRole.optional() });
export const changeRoleBody = z.strictObject({ role: workspaceRole });
export const inviteBody = z.strictObject({ email, role: workspaceRole.default('member') });
export const invitationTokenBody = z.strictObject({ token: z.string().min(20).max(200) });

export const workspaceResponse = z
  .object({
    id: z.string(),
    name: z.string(),
    slug: z.string(),
    role: workspaceRole.describe("The caller's role in this workspace"),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Workspace' });

export const toWorkspaceResponse = ({ workspace: w, role }: { workspace: WorkspaceRow; role: WorkspaceRole }) => ({
  id: w.id,
  name: w.name,
  slug: w.slug,
  role,
  createdAt: w.createdAt.toISOString(),
  updatedAt: w.updatedAt.toISOString(),
});

export const memberResponse = z
  .object({ userId: z.string(), name: z.string(), email: z.string(), role: workspaceRole, joinedAt: z.string() })
  .meta({ id: 'WorkspaceMember' });

export const toMemberResponse = (m: MemberView) => ({ ...m, joinedAt: m.joinedAt.toISOString() });

export const invitationResponse = z
  .object({
    id: z.string(),
    workspaceId: z.string(),
    email: z.string(),
    role: workspaceRole,
    invitedBy: z.string().nullable(),
    expiresAt: z.string(),
    status: z.enum(['open', 'accepted', 'revoked', 'expired']),
    sentCount: z.number().int(),
    acceptedAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
    createdAt: z.string(),
  })
  .meta({ id: 'Invitation' });

export const toInvitationResponse = (i: InvitationRow) => ({
  id: i.id,
  workspaceId: i.workspaceId,
  email: i.email,
  role: i.role,
  invitedBy: i.invitedBy,
  expiresAt: i.expiresAt.toISOString(),
  status: invitationStatus(i, new Date()),
  sentCount: i.sentCount,
  acceptedAt: i.acceptedAt ? i.acceptedAt.toISOString() : null,
  revokedAt: i.revokedAt ? i.revokedAt.toISOString() : null,
  createdAt: i.createdAt.toISOString(),
});

function invitationStatus(i: InvitationRow, now: Date): 'open' | 'accepted' | 'revoked' | 'expired' {
  if (i.acceptedAt) return 'accepted';
  if (i.revokedAt) return 'revoked';
  return i.expiresAt <= now ? 'expired' : 'open';
}

export const invitationPreviewResponse = z
  .object({
    workspace: z.object({ id: z.string(), name: z.string(), slug: z.string() }),
    email: z.string(),
    role: workspaceRole,
    invitedBy: z.string().nullable().describe("The inviter's name"),
    expiresAt: z.string(),
  })
  .meta({ id: 'InvitationPreview' });

export const workspaceEnvelope = dataEnvelope(workspaceResponse);
export const workspaceListEnvelope = pagedEnvelope(workspaceResponse);
export const memberListEnvelope = pagedEnvelope(memberResponse);
export const invitationEnvelope = dataEnvelope(invitationResponse);
export const invitationListEnvelope = pagedEnvelope(invitationResponse);
export const invitationPreviewEnvelope = dataEnvelope(invitationPreviewResponse);
