import assert from 'node:assert/strict';
import { afterEach, describe, it, mock } from 'node:test';
import { createAccessTokens } from './tokens.js';

const options = { secret: 'a-test-secret-of-at-least-thirty-two-bytes', issuer: 'tandem', audience: 'tandem-api', ttlSeconds: 900 };
const claims = { sub: 'user-1', sid: 'session-1', role: 'user' as const };

/** The same token with one character of its signature changed. */
const tamper = (token: string) => `${token.slice(0, -2)}${token.at(-2) === 'A' ? 'B' : 'A'}${token.at(-1)}`;

describe('access tokens', () => {
  afterEach(() => mock.timers.reset());

  it('verifies a token it signed, and answers again from its cache with the same claims', () => {
    const tokens = createAccessTokens(options);
    const token = tokens.sign(claims);
    const first = tokens.verify(token);
    assert.deepEqual({ sub: first.sub, sid: first.sid, role: first.role }, claims);
    assert.equal(first.exp - first.iat, 900);
    assert.equal(tokens.verify(token), first);
    assert.ok(Object.isFrozen(first), 'cached claims are shared, so they must not be changeable');
  });

  it('refuses a tampered or foreign token even while the genuine one is cached', () => {
    const tokens = createAccessTokens(options);
    const token = tokens.sign(claims);
    tokens.verify(token);
    assert.throws(() => tokens.verify(tamper(token)));
    const [header, , signature] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ ...claims, role: 'admin', iss: 'tandem', aud: 'tandem-api', iat: 1, exp: 4e9 }));
    assert.throws(() => tokens.verify(`${header}.${forged.toString('base64url')}.${signature}`));
    const foreign = createAccessTokens({ ...options, secret: 'another-secret-of-at-least-thirty-two-bytes' });
    assert.throws(() => tokens.verify(foreign.sign(claims)));
    assert.throws(() => createAccessTokens({ ...options, audience: 'elsewhere' }).verify(token));
  });

  it('stops accepting a cached token once it expires', () => {
    mock.timers.enable({ apis: ['Date'], now: Date.parse('2026-01-01T00:00:00Z') });
    const tokens = createAccessTokens(options);
    const token = tokens.sign(claims);
    tokens.verify(token);
    mock.timers.tick(900_000);
    assert.equal(tokens.verify(token).sub, 'user-1');
    mock.timers.tick(1);
    assert.throws(() => tokens.verify(token));
    assert.throws(() => createAccessTokens(options).verify(token), 'the verifier agrees without the cache');
  });
});
