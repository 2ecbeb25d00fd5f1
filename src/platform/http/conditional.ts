// Conditional requests (api.md "Writes"): single resources carry an ETag made from their
// version; `If-None-Match` on GET answers 304, `If-Match` on writes is checked by the
// service against the row it has locked (412 on mismatch).
import type { FastifyReply, FastifyRequest } from 'fastify';

export const etagOf = (version: number): string => `"${version}"`;

function tags(header: string | undefined): string[] | '*' | undefined {
  if (header === undefined || header.trim() === '') return undefined;
  if (header.trim() === '*') return '*';
  return header.split(',').map((t) => t.trim().replace(/^W\//, ''));
}

/** Versions an `If-Match` header accepts; undefined when absent or `*` (any current version). */
export function ifMatchVersions(req: FastifyRequest): number[] | undefined {
  const list = tags(req.headers['if-match']);
  if (list === undefined || list === '*') return undefined;
  // A tag that is not one of ours matches nothing, so the write is refused with 412.
  return list.map((t) => (/^"\d+"$/.test(t) ? Number(t.slice(1, -1)) : -1));
}

/** Sets the ETag; true when the client's `If-None-Match` already has this version (send 304). */
export function notModified(req: FastifyRequest, reply: FastifyReply, version: number): boolean {
  const etag = etagOf(version);
  reply.header('etag', etag).header('cache-control', 'private, no-cache');
  const list = tags(req.headers['if-none-match']);
  return list === '*' || (Array.isArray(list) && list.includes(etag));
}

/** 304 with no body (the route's typed reply only knows its 200 shape). */
export const sendNotModified = (reply: FastifyReply): FastifyReply => reply.code(304).send();
