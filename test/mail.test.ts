// Mail that a person follows: verification and password-reset links, delivered over real
// SMTP to a local server, or written as .eml files when no SMTP_URL is configured.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SMTPServer } from 'smtp-server';
import { createUser, login, strongPassword, uniqueEmail } from './helpers/factories.js';
import { type ApiResponse, startTestServer, type TestServer } from './helpers/server.js';

const APP_URL = 'https://app.tandem.test';

interface ReceivedMail {
  from: string;
  to: string[];
  raw: string;
}

interface MailSink {
  port: number;
  messages: ReceivedMail[];
  close(): Promise<void>;
}

/** A real SMTP server on a random loopback port that keeps every message it is given. */
async function startSmtpSink(): Promise<MailSink> {
  const messages: ReceivedMail[] = [];
  const smtp = new SMTPServer({
    authOptional: true,
    // Plain SMTP on loopback: without this the client would try STARTTLS against the
    // library's self-signed certificate and refuse it.
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
        messages.push({ from, to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks).toString('utf8') });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  const { port } = smtp.server.address() as AddressInfo;
  return { port, messages, close: () => new Promise<void>((resolve) => smtp.close(resolve)) };
}

/** The readable text of a MIME message: every part, with its transfer encoding undone. */
function mailText(raw: string): string {
  const split = /\r?\n\r?\n/.exec(raw);
  const head = split ? raw.slice(0, split.index) : raw;
  const body = split ? raw.slice(split.index + split[0].length) : '';
  const boundary = /boundary="?([^";\r\n]+)"?/i.exec(head)?.[1];
  if (boundary) return body.split(`--${boundary}`).map(mailText).join('\n');
  const encoding = /content-transfer-encoding:\s*([\w-]+)/i.exec(head)?.[1]?.toLowerCase();
  if (encoding === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (encoding === 'quoted-printable') {
    const bytes = body
      .replace(/=\r?\n/g, '')
      .replace(/=([0-9A-F]{2})/gi, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
    return Buffer.from(bytes, 'latin1').toString('utf8');
  }
  return body;
}

const header = (raw: string, name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'im').exec(raw)?.[1]?.trim();

/** The token of the first link to `page` in the message. */
function linkToken(raw: string, page: string): string {
  const text = mailText(raw);
  const escaped = `${APP_URL}/${page}`.replace(/[.?/]/g, '\\$&');
  const token = new RegExp(`${escaped}\\?token=([A-Za-z0-9_-]+)`).exec(text)?.[1];
  assert.ok(token, `a ${APP_URL}/${page}?token=… link in:\n${text}`);
  return token;
}

/** Mail leaves after the response: poll a little while, then fail. */
async function eventually<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function assertBadToken(res: ApiResponse) {
  assert.equal(res.status, 400, res.text);
  assert.equal(res.body.code, 'VALIDATION_FAILED');
  assert.ok(res.body.error.startsWith('Validation failed'), res.body.error);
  assert.deepEqual(
    res.body.details.map((d: { path: string }) => d.path),
    ['token'],
  );
}

describe('mail over SMTP', () => {
  let smtp: MailSink;
  let server: TestServer;
  before(async () => {
    smtp = await startSmtpSink();
    server = await startTestServer({
      SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
      APP_URL,
      MAIL_FROM: 'Tandem <no-reply@tandem.test>',
    });
  });
  after(async () => {
    await server.close();
    await smtp.close();
  });

  const mailTo = (email: string, subject: string) =>
    eventually(`"${subject}" to ${email}`, () =>
      smtp.messages.find((m) => m.to.some((to) => to.toLowerCase() === email.toLowerCase()) && header(m.raw, 'Subject') === subject),
    );
  const me = (token: string) => server.request('GET', '/api/v1/users/me', { token });
  const forgot = (email: string) => server.request('POST', '/api/v1/auth/forgot-password', { body: { email } });

  it('mails a verification link on registration that verifies the address exactly once', async () => {
    const user = await createUser(server, { email: uniqueEmail('verify') });
    const mail = await mailTo(user.email, 'Confirm your e-mail address');
    assert.equal(mail.from, 'no-reply@tandem.test');
    const token = linkToken(mail.raw, 'verify-email');

    const res = await server.request('POST', '/api/v1/auth/verify-email', { body: { token } });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.data.id, user.id);
    assert.equal(res.body.data.emailVerified, true);
    assert.equal((await me(user.accessToken)).body.data.emailVerified, true);
    const row = await server.sql.query('select email_verified_at from users where id = $1', [user.id]);
    assert.ok(row.rows[0]?.email_verified_at, 'stored as verified');

    assertBadToken(await server.request('POST', '/api/v1/auth/verify-email', { body: { token } }));
  });

  it('answers forgot-password the same for an unknown address and mails only a real one', async () => {
    const user = await createUser(server);
    const unknown = uniqueEmail('nobody');
    const forUnknown = await forgot(unknown);
    const forUser = await forgot(user.email);
    assert.equal(forUnknown.status, 202, forUnknown.text);
    assert.equal(forUser.status, 202, forUser.text);
    assert.deepEqual(forUnknown.body, forUser.body);
    assert.deepEqual(forUser.body, { success: true, message: 'If an account exists for that address, a reset link is on its way.' });

    await mailTo(user.email, 'Reset your Tandem password');
    assert.deepEqual(
      smtp.messages.filter((m) => m.to.some((to) => to.toLowerCase() === unknown.toLowerCase())),
      [],
      'nothing is sent to an address without an account',
    );
  });

  it('resets the password with the mailed link: every session ends and only the new password signs in', async () => {
    const user = await createUser(server);
    const laptop = await login(server, user.email, user.password);
    assert.equal((await forgot(user.email)).status, 202);
    const token = linkToken((await mailTo(user.email, 'Reset your Tandem password')).raw, 'reset-password');

    const password = strongPassword();
    const res = await server.request('POST', '/api/v1/auth/reset-password', { body: { token, password } });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body, { success: true, message: 'Password reset successfully' });

    for (const accessToken of [user.accessToken, laptop.body.accessToken]) {
      const stale = await me(accessToken);
      assert.equal(stale.status, 401, stale.text);
      assert.equal(stale.body.code, 'INVALID_TOKEN');
    }
    const staleRefresh = await server.request('POST', '/api/v1/auth/refresh', { body: { refreshToken: laptop.body.refreshToken } });
    assert.equal(staleRefresh.status, 401);
    assert.equal((await login(server, user.email, user.password)).status, 401);
    const fresh = await login(server, user.email, password);
    assert.equal(fresh.status, 200, fresh.text);
    assert.equal(fresh.body.user.emailVerified, true, 'following the link proved the address');

    assertBadToken(await server.request('POST', '/api/v1/auth/reset-password', { body: { token, password: strongPassword() } }));
    assert.equal((await login(server, user.email, password)).status, 200, 'the reused link changed nothing');
  });

  it('keeps the reset link usable when the new password is refused', async () => {
    const user = await createUser(server);
    assert.equal((await forgot(user.email)).status, 202);
    const token = linkToken((await mailTo(user.email, 'Reset your Tandem password')).raw, 'reset-password');

    const weak = await server.request('POST', '/api/v1/auth/reset-password', { body: { token, password: 'password123' } });
    assert.equal(weak.status, 400, weak.text);
    assert.deepEqual(
      weak.body.details.map((d: { path: string }) => d.path),
      ['password'],
    );
    assert.equal((await login(server, user.email, user.password)).status, 200, 'the password is unchanged');

    const password = strongPassword();
    const res = await server.request('POST', '/api/v1/auth/reset-password', { body: { token, password } });
    assert.equal(res.status, 200, res.text);
    assert.equal((await login(server, user.email, password)).status, 200);
  });
});

describe('mail without SMTP', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ APP_URL });
  });
  after(() => server.close());

  it('writes each message as an .eml file under DATA_DIR/mail whose link works', async () => {
    const user = await createUser(server);
    const dir = path.join(server.dataDir, 'mail');
    const raw = await eventually(`a complete .eml file in ${dir}`, async () => {
      const name = (await readdir(dir).catch(() => [] as string[])).find((n) => n.endsWith('.eml'));
      const content = name && (await readFile(path.join(dir, name), 'utf8'));
      // The file is created before it is written: wait for the closing MIME boundary.
      return content && /--\s*$/.test(content) ? content : undefined;
    });
    assert.equal(header(raw, 'To'), user.email);
    assert.equal(header(raw, 'Subject'), 'Confirm your e-mail address');

    const res = await server.request('POST', '/api/v1/auth/verify-email', { body: { token: linkToken(raw, 'verify-email') } });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.data.emailVerified, true);
  });
});
