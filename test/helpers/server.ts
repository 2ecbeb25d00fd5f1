// A real Tandem on a random loopback port over a real database, and a small fetch client.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pg from 'pg';
import { loadConfig } from '../../src/config.js';
import { startTandem, type Tandem } from '../../src/main.js';
import { createLogger } from '../../src/platform/observability/logger.js';
import { createTestDatabase, dropDatabase } from './database.js';

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface RequestOptions {
  body?: unknown;
  /** Sent as is, without JSON encoding (for malformed-body tests). */
  raw?: string | Buffer;
  token?: string;
  headers?: Record<string, string>;
}

export interface TestServer {
  url: string;
  tandem: Tandem;
  /** A direct connection to this server's database, for asserting stored rows. */
  sql: pg.Pool;
  dataDir: string;
  /** Every log line the server wrote, parsed. */
  logs: Record<string, unknown>[];
  rawLogs: string[];
  jwtSecret: string;
  request<T = any>(method: string, path: string, options?: RequestOptions): Promise<ApiResponse<T>>;
  close(): Promise<void>;
}

export async function startTestServer(env: Record<string, string> = {}): Promise<TestServer> {
  const databaseUrl = await createTestDatabase();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'tandem-test-'));
  const jwtSecret = randomBytes(32).toString('base64url');
  const config = loadConfig({
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: '0',
    DATA_DIR: dataDir,
    JWT_SECRET: jwtSecret,
    LOG_LEVEL: 'info',
    DATABASE_URL: databaseUrl,
    ...env,
  });
  const rawLogs: string[] = [];
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line) continue;
        rawLogs.push(line);
        logs.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  const tandem = await startTandem(config, createLogger(config.logLevel, sink));
  const url = tandem.url.replace('localhost', '127.0.0.1');
  const sql = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  // pool.end() resolves before its connections have closed, so close()'s `drop database … with
  // (force)` can terminate one (57P01); without a listener that error crashes the test file.
  sql.on('error', () => {});

  return {
    url,
    tandem,
    sql,
    dataDir,
    logs,
    rawLogs,
    jwtSecret,
    async request(method, p, options = {}) {
      const headers: Record<string, string> = { ...options.headers };
      let body: string | Buffer | undefined;
      if (options.raw !== undefined) body = options.raw;
      else if (options.body !== undefined) {
        body = JSON.stringify(options.body);
        headers['content-type'] ??= 'application/json';
      }
      if (options.token) headers.authorization = `Bearer ${options.token}`;
      const res = await fetch(`${url}${p}`, { method, headers, body });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        // not JSON (docs page, metrics)
      }
      return { status: res.status, headers: res.headers, body: parsed as any, text };
    },
    async close() {
      await tandem.shutdown();
      await sql.end();
      await dropDatabase(databaseUrl);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
