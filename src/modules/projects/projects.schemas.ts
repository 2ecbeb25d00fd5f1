import { z } from 'zod';
import { dataEnvelope, idParam, pagedEnvelope, pageQuery } from '../../platform/http/schemas.js';
import { workspaceRole } from '../workspaces/workspaces.schemas.js';
import type { WorkspaceRole } from '../workspaces/workspaces.table.js';
import type { ProjectRow } from './projects.table.js';

export const projectKey = z.string().regex(/^[A-Z]{2,10}$/, { message: 'must be 2 to 10 upper-case letters (A–Z)' });
const projectName = z.string().trim().min(1).max(100);
const description = z.string().max(20_000);
const booleanQuery = z.enum(['true', 'false']).transform((v) => v === 'true');

export const projectIdParams = z.strictObject({ projectId: idParam('project') });
export const projectMemberParams = z.strictObject({ projectId: idParam('project'), userId: idParam('user') });

export const createProjectBody = z.strictObject({ key: projectKey, name: projectName, description: description.optional() });
export const updateProjectBody = z
  .strictObject({ name: projectName.optional(), description: description.optional() })
  .refine((b) => Object.keys(b).length > 0, {
    message: 'must name at least one field to change (name, description)',
    // Only for an empty body: unknown fields are stripped before refinements run.
    when: (payload) => payload.issues.length === 0,
  });
export const deleteProjectBody = z.strictObject({ confirm: z.string().max(20) });
export const listProjectsQuery = z.strictObject({
  ...pageQuery,
  archived: booleanQuery.optional().describe('true: only archived; false: only active; absent: both'),
  q: z.string().trim().min(1).max(100).optional(),
});
export const listProjectMembersQuery = z.strictObject({ ...pageQuery });
export const addProjectMemberBody = z.strictObject({ userId: idParam('user') });

export const projectResponse = z
  .object({
    id: z.string(),
    workspaceId: z.string(),
    key: z.string(),
    name: z.string(),
    description: z.string(),
    archived: z.boolean(),
    archivedAt: z.string().nullable(),
    taskCount: z.number().int().describe('Tasks ever created (the last number handed out)'),
    role: workspaceRole.describe("The caller's workspace role"),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Project' });

export const toProjectResponse = ({ project: p, role }: { project: ProjectRow; role: WorkspaceRole }) => ({
  id: p.id,
  workspaceId: p.workspaceId,
  key: p.key,
  name: p.name,
  description: p.description,
  archived: p.archivedAt !== null,
  archivedAt: p.archivedAt ? p.archivedAt.toISOString() : null,
  taskCount: p.taskSeq,
  role,
  createdAt: p.createdAt.toISOString(),
  updatedAt: p.updatedAt.toISOString(),
});

export const projectMemberResponse = z
  .object({ userId: z.string(), name: z.string(), email: z.string(), addedAt: z.string() })
  .meta({ id: 'ProjectMember' });

export const projectEnvelope = dataEnvelope(projectResponse);
export const projectListEnvelope = pagedEnvelope(projectResponse);
export const projectMemberListEnvelope = pagedEnvelope(projectMemberResponse);
