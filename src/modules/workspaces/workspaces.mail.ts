import type { MailMessage } from '../../platform/mail/mailer.js';

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function invitationMail(input: {
  to: string;
  inviter: string;
  workspace: string;
  role: string;
  link: string;
  expiresAt: Date;
}): MailMessage {
  const intro = `${input.inviter} invited you to join the workspace "${input.workspace}" on Tandem as ${input.role === 'admin' ? 'an' : 'a'} ${input.role}.`;
  const outro = `The link works once and expires on ${input.expiresAt.toUTCString()}. If you do not have a Tandem account yet, the link lets you create one. If you did not expect this, ignore this message.`;
  return {
    to: input.to,
    subject: `Join ${input.workspace} on Tandem`,
    text: `Hello,\n\n${intro}\n\n${input.link}\n\n${outro}\n\n— Tandem\n`,
    html: `<p>Hello,</p><p>${escapeHtml(intro)}</p><p><a href="${escapeHtml(input.link)}">${escapeHtml(input.link)}</a></p><p>${escapeHtml(outro)}</p><p>— Tandem</p>`,
  };
}
