import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hashPassword, passwordWeakness, verifyPassword } from './passwords.js';

describe('password policy', () => {
  it('refuses passwords from the shipped common list, whatever their case', () => {
    assert.match(passwordWeakness('Password123') ?? '', /too common/);
    assert.match(passwordWeakness('QWERTYUIOP') ?? '', /too common/);
  });

  it('refuses a single repeated character and the person’s own name or address', () => {
    assert.match(passwordWeakness('zzzzzzzzzzzz') ?? '', /single character/);
    assert.match(passwordWeakness('Ada@Example.com', ['ada@example.com', 'Ada']) ?? '', /name or email/);
  });

  it('accepts an ordinary passphrase', () => {
    assert.equal(passwordWeakness('correct horse battery staple'), undefined);
  });
});

describe('argon2id hashing', () => {
  it('stores argon2id with OWASP parameters and verifies only the right password', async () => {
    const hash = await hashPassword('correct horse battery staple');
    assert.match(hash, /^\$argon2id\$v=19\$m=19456,p=1,t=2\$/);
    assert.equal(await verifyPassword(hash, 'correct horse battery staple'), true);
    assert.equal(await verifyPassword(hash, 'correct horse battery stapler'), false);
  });

  it('treats a malformed stored hash as a failed verification, not a crash', async () => {
    assert.equal(await verifyPassword('not-a-hash', 'whatever'), false);
  });
});
