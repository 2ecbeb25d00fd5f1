// Streaming exports under load: memory stays flat with a slow client, and the cursor's
// connection comes back however a download ends. A file of its own because the memory test
// reads this process's RSS (the server runs in it): garbage other tests leave in a shared
// process would move that number either way.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { addWorkspaceMember, createProject, createTask, createUser, createWorkspace, type RegisteredUser } from './helpers/factories.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { waitFor } from './helpers/wait.js';

const MiB = 1024 * 1024;
const TASKS = 200_000;

// Downloads an NDJSON export, parses every line, checks the numbers run 1, 2, 3… and stalls
// for a second every 700 chunks (~35 MB), long enough for a server that ignored backpressure
// to read most of the export into memory; prints a summary. JSON.parse throws on a bad line.
// It runs as a process of its own, so that its parsing does not count as server memory.
const SLOW_CLIENT = `
const res = await fetch(process.env.EXPORT_URL, { headers: { authorization: 'Bearer ' + process.env.TOKEN } });
const reader = res.body.getReader();
const decoder = new TextDecoder();
let rest = '', count = 0, ordered = true, chunks = 0;
for (;;) {
  const { done, value } = await reader.read();
  if (done) break;
  rest += decoder.decode(value, { stream: true });
  let start = 0;
  for (let end = rest.indexOf('\\n'); end !== -1; end = rest.indexOf('\\n', start)) {
    if (JSON.parse(rest.slice(start, end)).number !== ++count) ordered = false;
    start = end + 1;
  }
  rest = rest.slice(start);
  if (++chunks % 700 === 0) await new Promise((r) => setTimeout(r, 1000));
}
console.log(JSON.stringify({ status: res.status, count, ordered, rest }));
`;

function slowClient(url: string, token: string): Promise<{ status: number; count: number; ordered: boolean; rest: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--input-type=module', '-e', SLOW_CLIENT],
      { env: { PATH: process.env.PATH, EXPORT_URL: url, TOKEN: token }, maxBuffer: MiB },
      (err, stdout, stderr) => (err ? reject(new Error(`slow client failed: ${stderr}`)) : resolve(JSON.parse(stdout))),
    );
  });
}

describe('streaming exports', () => {
  let server: TestServer;
  let member: RegisteredUser;
  let small: { id: string };
  let big: { id: string };

  const exportUrl = (projectId: string, format = 'ndjson') => `${server.url}/api/v1/projects/${projectId}/export?format=${format}`;
  const auth = () => ({ authorization: `Bearer ${member.accessToken}` });
  const pool = () => server.tandem.database.pool;
  const poolSettled = () => waitFor('every connection back in the pool', () => (pool().idleCount === pool().totalCount ? true : undefined));
  /** Reads one chunk of a download and leaves the rest waiting (the server is then held by backpressure). */
  async function startDownload(projectId: string, signal: AbortSignal, headers: Record<string, string> = {}) {
    const res = await fetch(exportUrl(projectId), { headers: { ...auth(), ...headers }, signal });
    assert.equal(res.status, 200);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    return { res, reader };
  }
  /** The server's backends running an export cursor. */
  const exportBackends = async () =>
    (
      await server.sql.query(
        `select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() and query like '%from tasks t join projects p%'`,
      )
    ).rows as { pid: number }[];

  before(async () => {
    server = await startTestServer();
    const owner = await createUser(server);
    const workspace = await createWorkspace(server, owner);
    member = await addWorkspaceMember(server, owner, workspace.id, 'member');
    small = await createProject(server, owner, workspace.id);
    await createTask(server, member, small.id, { title: 'The only task' });
    big = await createProject(server, owner, workspace.id);
    // One statement, so the seed takes seconds rather than minutes. The description is long
    // (an export of ~130 MB) but one word, which keeps the full-text index cheap to fill.
    await server.sql.query(
      `insert into tasks (id, workspace_id, project_id, number, title, description, status, priority, labels, position, reporter_id)
       select gen_random_uuid(), p.workspace_id, p.id, g, 'Seeded task ' || g, repeat('x', 200),
              (array['todo', 'in_progress', 'done'])[1 + g % 3], 'medium', array['seed'], g * 1024, $2
       from projects p, generate_series(1, $3::int) g where p.id = $1`,
      [big.id, member.id, TASKS],
    );
    await server.sql.query('update projects set task_seq = $2 where id = $1', [big.id, TASKS]);
  });

  after(async () => {
    await server?.close();
  });

  it('streams a 200,000-task export with server RSS growth under 50 MiB', async () => {
    // A first, fast export sizes the process once: V8 grows its young generation (up to 48 MiB
    // on 64-bit) and old space under any sustained allocation, whatever the export does, and
    // how far depends on when collections happen. The baseline is therefore the highest RSS
    // seen during that first export; what must stay flat is the slow download after it, where
    // a server that ignored backpressure would buffer most of the ~130 MB export.
    let peak = process.memoryUsage().rss;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 20);
    let baseline = 0;
    let summary: Awaited<ReturnType<typeof slowClient>>;
    try {
      const warmUp = (await fetch(exportUrl(big.id), { headers: auth() })).body as ReadableStream<Uint8Array>;
      for await (const _ of warmUp);
      await poolSettled();
      baseline = Math.max(peak, process.memoryUsage().rss);
      peak = baseline;
      summary = await slowClient(exportUrl(big.id), member.accessToken);
    } finally {
      clearInterval(sampler);
    }
    assert.deepEqual(summary, { status: 200, count: TASKS, ordered: true, rest: '' });
    const growth = (peak - baseline) / MiB;
    assert.ok(growth < 50, `RSS grew by ${growth.toFixed(1)} MiB`);
    await poolSettled();
  });

  it('gives the connection back when the client goes away mid-download', async () => {
    const controller = new AbortController();
    const { reader } = await startDownload(big.id, controller.signal);
    assert.equal((await exportBackends()).length, 1, 'the cursor is open while the client reads');
    assert.ok(pool().totalCount > pool().idleCount);
    controller.abort();
    await reader.read().catch(() => undefined);
    await poolSettled();
    const { rows } = await server.sql.query(
      `select count(*)::int as n from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() and state <> 'idle'`,
    );
    assert.equal(rows[0].n, 0, 'no transaction is left open');
  });

  it('cuts the response short and logs the request id when the database fails mid-stream', async () => {
    const { reader } = await startDownload(big.id, new AbortController().signal, { 'x-request-id': 'export-killed-1' });
    const [backend] = await exportBackends();
    assert.ok(backend);
    await server.sql.query('select pg_terminate_backend($1)', [backend.pid]);
    await assert.rejects(async () => {
      for (;;) if ((await reader.read()).done) break;
    }, 'the download ends with an error, not a clean end');
    const logged = await waitFor('the error log line', () =>
      server.logs.find(
        (l) => l.requestId === 'export-killed-1' && l.level === 'error' && String(l.msg).startsWith('export failed after its first byte'),
      ),
    );
    assert.ok(logged.err);
    await poolSettled();
    const next = await fetch(exportUrl(small.id), { headers: auth() });
    assert.equal((await next.text()).split('\n').filter(Boolean).length, 1, 'the next export works');
  });

  it('asks callers to retry later when too many exports run at once', async () => {
    // DATABASE_POOL_MAX is 10 here: three exports at a time.
    const controllers = [new AbortController(), new AbortController(), new AbortController()];
    for (const c of controllers) await startDownload(big.id, c.signal);
    const busy = await server.request('GET', `/api/v1/projects/${small.id}/export`, { token: member.accessToken });
    assert.equal(busy.status, 429);
    assert.equal(busy.body.code, 'RATE_LIMITED');
    assert.ok(busy.headers.get('retry-after'));
    for (const c of controllers) c.abort();
    await poolSettled();
    const again = await fetch(exportUrl(small.id), { headers: auth() });
    assert.equal(again.status, 200);
    await again.text();
  });
});
