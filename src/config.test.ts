import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError, loadConfig } from './config.js';

const SECRET = 'a-jwt-secret-that-is-long-enough-0123456789';

describe('loadConfig', () => {
  let dataDir: string;
  before(() => {
    // Development generates secrets under DATA_DIR: keep them out of the repository.
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'tandem-config-'));
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  const load = (env: Record<string, string>) => loadConfig({ DATA_DIR: dataDir, ...env });

  function configError(env: Record<string, string>): ConfigError {
    try {
      load(env);
    } catch (err) {
      assert.ok(err instanceof ConfigError, `a ConfigError, not ${String(err)}`);
      return err;
    }
    assert.fail(`loadConfig accepted ${JSON.stringify(env)}`);
  }

  it('refuses to start in production without JWT_SECRET, naming the variable', () => {
    const err = configError({ NODE_ENV: 'production' });
    assert.match(err.message, /JWT_SECRET/);
    assert.equal(existsSync(path.join(dataDir, 'secrets.json')), false, 'production never generates a secret');
  });

  it('refuses a JWT_SECRET shorter than 32 bytes', () => {
    const err = configError({ JWT_SECRET: '0123456789' });
    assert.match(err.message, /JWT_SECRET/);
    assert.match(err.message, /32 bytes/);
    assert.match(configError({ NODE_ENV: 'production', JWT_SECRET: '0123456789' }).message, /JWT_SECRET/);
  });

  it('accepts a 32-byte JWT_SECRET in production', () => {
    const config = load({ NODE_ENV: 'production', JWT_SECRET: SECRET });
    assert.equal(config.env, 'production');
    assert.equal(config.jwt.secret, SECRET);
  });

  it('names PORT when it is not a number', () => {
    const err = configError({ PORT: 'abc', JWT_SECRET: SECRET });
    assert.match(err.message, /PORT/);
    assert.doesNotMatch(err.message, /JWT_SECRET/);
  });

  it('names every invalid variable at once', () => {
    const err = configError({ PORT: '70000', DATABASE_URL: 'mysql://db/tandem', JWT_SECRET: SECRET });
    assert.match(err.message, /PORT/);
    assert.match(err.message, /DATABASE_URL/);
  });

  it('parses CORS_ORIGINS as a comma-separated list of URLs', () => {
    const config = load({ JWT_SECRET: SECRET, CORS_ORIGINS: ' https://app.example.com, http://localhost:5173 ,,' });
    assert.deepEqual(config.corsOrigins, ['https://app.example.com', 'http://localhost:5173']);
    assert.deepEqual(load({ JWT_SECRET: SECRET }).corsOrigins, []);
    assert.match(configError({ JWT_SECRET: SECRET, CORS_ORIGINS: 'not a url' }).message, /CORS_ORIGINS/);
  });

  it('returns a deeply frozen config', () => {
    const config = load({ JWT_SECRET: SECRET, CORS_ORIGINS: 'https://app.example.com' });
    assert.ok(Object.isFrozen(config));
    assert.ok(Object.isFrozen(config.jwt));
    assert.ok(Object.isFrozen(config.rateLimit));
    assert.ok(Object.isFrozen(config.corsOrigins));
    assert.throws(() => {
      (config as { port: number }).port = 1;
    }, TypeError);
    assert.throws(() => {
      (config.jwt as { secret: string }).secret = 'x';
    }, TypeError);
  });

  it('generates a development JWT secret once under DATA_DIR and reuses it', () => {
    const first = load({});
    const second = load({});
    assert.ok(Buffer.byteLength(first.jwt.secret) >= 32);
    assert.equal(second.jwt.secret, first.jwt.secret);
    const stored = JSON.parse(readFileSync(path.join(dataDir, 'secrets.json'), 'utf8')) as { jwtSecret: string };
    assert.equal(stored.jwtSecret, first.jwt.secret);
  });

  it('derives PUBLIC_URL from PORT and trims trailing slashes', () => {
    assert.equal(load({ JWT_SECRET: SECRET, PORT: '4100' }).publicUrl, 'http://localhost:4100');
    const config = load({ JWT_SECRET: SECRET, PUBLIC_URL: 'https://tandem.example.com/' });
    assert.equal(config.publicUrl, 'https://tandem.example.com');
    assert.equal(config.appUrl, 'https://tandem.example.com');
  });
});
