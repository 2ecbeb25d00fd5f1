// What the two baselines (bench/bare-server.ts: users, bench/bare-tasks.ts: tasks) share: the
// JSON answer, and listening and shutting down like Tandem. Transpiled to plain JavaScript with
// them (bench/lib.ts, transpileBench), so it imports nothing at run time.
import type http from 'node:http';
import type pg from 'pg';

export function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const json = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(json), ...headers });
  res.end(json);
}

/** Listens on HOST:PORT with Fastify's keep-alive, and closes connections and pool on SIGTERM or SIGINT. */
export function serve(server: http.Server, pool: pg.Pool, name: string): void {
  // Same keep-alive behaviour as Fastify's defaults (72 s), so neither side reconnects mid-run.
  server.keepAliveTimeout = 72_000;

  const shutdown = () => {
    server.close();
    server.closeAllConnections();
    pool.end().finally(() => process.exit(0));
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);

  server.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1', () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    process.stdout.write(`${name} listening on ${port}\n`);
  });
}
