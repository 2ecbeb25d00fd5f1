import type { MailMessage } from '../../platform/mail/mailer.js';

interface Recipient {
  name: string;
  email: string;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function linkMail(to: Recipient, subject: string, intro: string, link: string, outro: string): MailMessage {
  return {
    to: to.email,
    subject,
    text: `Hello ${to.name},\n\n${intro}\n\n${link}\n\n${outro}\n\n— Tandem\n`,
    html: `<p>Hello ${escapeHtml(to.name)},</p><p>${escapeHtml(intro)}</p><p><a href="${escapeHtml(link)}">${escapeHtml(link)}</a></p><p>${escapeHtml(outro)}</p><p>— Tandem</p>`,
  };
}

export const verificationMail = (to: Recipient, link: string) =>
  linkMail(
    to,
    'Confirm your e-mail address',
    'Please confirm your e-mail address for Tandem by opening this link:',
    link,
    'The link works once and expires in 24 hours. If you did not sign up, ignore this message.',
  );

export const passwordResetMail = (to: Recipient, link: string) =>
  linkMail(
    to,
    'Reset your Tandem password',
    'Someone (hopefully you) asked to reset your Tandem password. Choose a new one here:',
    link,
    'The link works once and expires in one hour. If you did not ask for it, ignore this message: your password stays as it is.',
  );
