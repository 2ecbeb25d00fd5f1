import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createLogger } from './logger.js';

function capture() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  return { log: createLogger('info', sink), lines };
}

describe('log redaction', () => {
  it('redacts secrets at the top level, inside logged containers, in headers and on failed queries', () => {
    const { log, lines } = capture();
    log.info({ password: 'hunter2-top', body: { newPassword: 'hunter2-body' }, refreshToken: 'rt-secret' }, 'one');
    log.info({ req: { headers: { authorization: 'Bearer at-secret', cookie: '__Host-tandem_refresh=ck-secret' } } }, 'two');
    log.error({ err: { message: 'insert failed', params: ['$argon2id$hash-secret'] } }, 'three');
    const text = lines.join('');
    for (const secret of ['hunter2-top', 'hunter2-body', 'rt-secret', 'at-secret', 'ck-secret', 'hash-secret']) {
      assert.ok(!text.includes(secret), `${secret} must not be logged`);
    }
    assert.equal((text.match(/\[redacted\]/g) ?? []).length, 6);
  });
});
