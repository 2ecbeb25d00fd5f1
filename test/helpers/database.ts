// Each test file gets a database of its own, cloned from the migrated template in
// milliseconds; test/run.ts made the template and passes its location in the environment.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export function adminUrl(): string {
  const url = process.env.TANDEM_TEST_ADMIN_URL;
  if (!url) throw new Error('run tests with `npm test` (it starts PostgreSQL and sets TANDEM_TEST_ADMIN_URL)');
  return url;
}

async function withAdmin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A fresh, migrated, empty database; returns its connection string. */
export async function createTestDatabase(): Promise<string> {
  const name = `t_${randomBytes(6).toString('hex')}`;
  const template = process.env.TANDEM_TEST_TEMPLATE ?? 'tandem_test_template';
  await withAdmin((c) => c.query(`create database ${name} template ${template}`));
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  return url.toString();
}

/** An empty database without migrations (for migration tests). */
export async function createEmptyDatabase(): Promise<string> {
  const name = `e_${randomBytes(6).toString('hex')}`;
  await withAdmin((c) => c.query(`create database ${name}`));
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  return url.toString();
}

export async function dropDatabase(url: string): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  await withAdmin((c) => c.query(`drop database if exists ${name} with (force)`));
}
