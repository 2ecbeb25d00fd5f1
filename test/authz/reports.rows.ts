// Reports: read-only, so anyone who may read the project may read them (guests only when added).
import { type AuthzRow, expectations } from './types.js';

const reports = [
  ['summary', ''],
  ['overdue', '?page=1&limit=5'],
  ['throughput', '?from=2025-01-01&to=2025-03-31&tz=Europe/Berlin'],
  ['cycle-time', '?from=2025-01-01&to=2025-03-31'],
  ['burndown', '?from=2025-03-01&to=2025-03-31&tz=America/New_York'],
  ['time', '?from=2025-01-01&to=2025-03-31'],
] as const;

export const rows: AuthzRow[] = reports.map(([name, query]) => ({
  method: 'GET',
  route: `/api/v1/projects/:projectId/reports/${name}`,
  expect: expectations.projectRead(200),
  request: (f) => ({ path: `/api/v1/projects/${f.project.id}/reports/${name}${query}` }),
}));
