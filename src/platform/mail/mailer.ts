// Outgoing mail through nodemailer: to SMTP_URL when set, otherwise each message is written
// as an .eml file under DATA_DIR/mail and its first link is logged, so a developer can
// follow a verification or reset link without any mail server.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import nodemailer from 'nodemailer';
import type { Logger } from 'pino';
import { newId } from '../ids.js';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html?: string;
}

export interface Mailer {
  send(message: MailMessage): Promise<void>;
  close(): void;
}

export interface MailerOptions {
  smtpUrl: string | undefined;
  from: string;
  dataDir: string;
  log: Logger;
  /** Log the first link of each message written to a file (development convenience only:
   * links carry one-time tokens). */
  logLinks: boolean;
}

export function createMailer({ smtpUrl, from, dataDir, log, logLinks }: MailerOptions): Mailer {
  if (smtpUrl) {
    const transport = nodemailer.createTransport(smtpUrl);
    return {
      async send(m) {
        const info = await transport.sendMail({ from, ...m });
        log.info({ to: m.to, subject: m.subject, messageId: info.messageId }, 'mail sent');
      },
      close: () => transport.close(),
    };
  }
  const dir = path.join(dataDir, 'mail');
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  return {
    async send(m) {
      const info = await transport.sendMail({ from, ...m });
      await mkdir(dir, { recursive: true });
      const file = path.join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${newId()}.eml`);
      await writeFile(file, info.message as Buffer, { mode: 0o600 });
      const link = logLinks ? /https?:\/\/\S+/.exec(m.text)?.[0] : undefined;
      log.info({ to: m.to, subject: m.subject, file, link }, 'mail written to file (SMTP_URL is not set)');
    },
    close: () => transport.close(),
  };
}
