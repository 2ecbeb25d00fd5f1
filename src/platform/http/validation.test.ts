import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { validationFailed } from '../errors.js';
import { issuesToDetails } from './validation.js';

const schema = z.strictObject({
  name: z.string().min(1).max(5),
  email: z.email(),
  age: z.number().int().optional(),
  role: z.enum(['user', 'admin']).optional(),
});

const messageFor = (input: unknown) => {
  const result = schema.safeParse(input);
  assert.equal(result.success, false);
  return validationFailed(issuesToDetails(result.error?.issues ?? [], 'body')).message;
};

describe('validation messages', () => {
  it('says which field is missing or malformed, in words', () => {
    assert.equal(messageFor({ name: 'Ada' }), 'Validation failed: email is required');
    assert.equal(messageFor({ name: 'Ada', email: 'nope' }), 'Validation failed: email must be a valid email address');
    assert.equal(messageFor({ name: '', email: 'a@b.co' }), 'Validation failed: name must not be empty');
    assert.equal(messageFor({ name: 'Adalovelace', email: 'a@b.co' }), 'Validation failed: name must be at most 5 characters');
    assert.equal(messageFor({ name: 'Ada', email: 'a@b.co', age: 'x' }), 'Validation failed: age must be a number');
    assert.equal(messageFor({ name: 'Ada', email: 'a@b.co', role: 'root' }), 'Validation failed: role must be one of: user, admin');
  });

  it('names each unknown field separately', () => {
    const result = schema.safeParse({ name: 'Ada', email: 'a@b.co', isAdmin: true, ownerId: 1 });
    const details = issuesToDetails(result.error?.issues ?? []);
    assert.deepEqual(details, [
      { path: 'isAdmin', message: 'is not an allowed field' },
      { path: 'ownerId', message: 'is not an allowed field' },
    ]);
  });

  it('describes a body that is not an object at all', () => {
    assert.equal(messageFor(null), 'Validation failed: body must be an object');
  });
});
