// Build data through the public API, as a client would.
import { randomBytes } from 'node:crypto';
import type { TestServer } from './server.js';

export interface RegisteredUser {
  id: string;
  email: string;
  name: string;
  password: string;
  role: 'user' | 'admin';
  accessToken: string;
  refreshToken: string;
}

let counter = 0;
export const uniqueEmail = (prefix = 'user') =>
  `${prefix}.${Date.now().toString(36)}.${++counter}.${randomBytes(3).toString('hex')}@example.com`;
export const strongPassword = () => `Str0ng-${randomBytes(9).toString('base64url')}`;

/** Registers a user (the first one in a fresh database becomes admin). */
export async function createUser(
  server: TestServer,
  overrides: { name?: string; email?: string; password?: string } = {},
): Promise<RegisteredUser> {
  const input = {
    name: overrides.name ?? `Test User ${++counter}`,
    email: overrides.email ?? uniqueEmail(),
    password: overrides.password ?? strongPassword(),
  };
  const res = await server.request('POST', '/api/v1/auth/register', { body: input });
  if (res.status !== 201) throw new Error(`register failed: ${res.status} ${res.text}`);
  return {
    id: res.body.user.id,
    email: res.body.user.email,
    name: res.body.user.name,
    role: res.body.user.role,
    password: input.password,
    accessToken: res.body.accessToken,
    refreshToken: res.body.refreshToken,
  };
}

export async function login(server: TestServer, email: string, password: string) {
  return server.request('POST', '/api/v1/auth/login', { body: { email, password } });
}
