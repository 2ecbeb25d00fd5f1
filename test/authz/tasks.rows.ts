// Tasks: create, read by id and by key, write, move, delete, bulk update, activity, my tasks.
import { freshTask } from './fresh.js';
import { type AuthzRow, expectations } from './types.js';

const task = '/api/v1/tasks/:taskId';
const everyField = {
  title: 'Replaced by the matrix',
  description: '',
  status: 'in_progress',
  priority: 'high',
  assigneeId: null,
  dueDate: null,
  labels: [],
  estimateMinutes: null,
};

export const rows: AuthzRow[] = [
  {
    method: 'POST',
    route: '/api/v1/projects/:projectId/tasks',
    expect: expectations.projectWrite(201),
    request: (f) => ({ path: `/api/v1/projects/${f.project.id}/tasks`, body: { title: 'Created by the matrix' } }),
  },
  {
    method: 'GET',
    route: '/api/v1/projects/:projectId/tasks',
    expect: expectations.projectRead(200),
    request: (f) => ({ path: `/api/v1/projects/${f.project.id}/tasks` }),
  },
  {
    method: 'GET',
    route: '/api/v1/projects/:projectId/tasks/:taskKey',
    expect: expectations.projectRead(200),
    request: (f) => ({ path: `/api/v1/projects/${f.project.id}/tasks/${f.task.key}` }),
  },
  {
    method: 'POST',
    route: '/api/v1/projects/:projectId/tasks/bulk-update',
    expect: expectations.projectWrite(200),
    request: async (f) => ({
      path: `/api/v1/projects/${f.project.id}/tasks/bulk-update`,
      body: { ids: [await freshTask(f)], set: { addLabels: ['matrix'] } },
    }),
  },
  {
    method: 'GET',
    route: '/api/v1/users/me/tasks',
    // Everyone's own list, across the workspaces they are in (empty for an outsider).
    expect: expectations.signedIn(200),
    request: () => ({ path: '/api/v1/users/me/tasks' }),
  },
  {
    method: 'GET',
    route: task,
    expect: expectations.projectRead(200),
    request: (f) => ({ path: `/api/v1/tasks/${f.task.id}` }),
  },
  {
    method: 'PATCH',
    route: task,
    expect: expectations.projectWrite(200),
    request: async (f) => ({ path: `/api/v1/tasks/${await freshTask(f)}`, body: { priority: 'urgent' } }),
  },
  {
    method: 'PUT',
    route: task,
    expect: expectations.projectWrite(200),
    request: async (f) => ({ path: `/api/v1/tasks/${await freshTask(f)}`, body: everyField }),
  },
  {
    method: 'POST',
    route: `${task}/move`,
    expect: expectations.projectWrite(200),
    request: async (f) => ({ path: `/api/v1/tasks/${await freshTask(f)}/move`, body: { status: 'in_review' } }),
  },
  {
    method: 'DELETE',
    route: task,
    expect: expectations.projectWrite(200),
    request: async (f) => ({ path: `/api/v1/tasks/${await freshTask(f)}` }),
  },
  {
    method: 'GET',
    route: `${task}/activity`,
    expect: expectations.projectRead(200),
    request: (f) => ({ path: `/api/v1/tasks/${f.task.id}/activity` }),
  },
];
