import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mayDeleteComment, mayEditComment } from './comments.policy.js';

const A = '0190a0b0-0000-7000-8000-00000000000a';
const B = '0190a0b0-0000-7000-8000-00000000000b';

describe('comment policy', () => {
  it('lets only the author edit', () => {
    assert.equal(mayEditComment(A, A), true);
    assert.equal(mayEditComment(A, B), false);
    assert.equal(mayEditComment(A, null), false);
  });

  it('lets the author, admins and owners delete', () => {
    assert.equal(mayDeleteComment(A, 'guest', A), true);
    assert.equal(mayDeleteComment(A, 'member', B), false);
    assert.equal(mayDeleteComment(A, 'admin', B), true);
    assert.equal(mayDeleteComment(A, 'owner', null), true);
  });
});
