import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import nodemailer from 'nodemailer';
import type { Logger } from 'pino';

export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
  html: string;
}

/** Delivers one message or throws; the outbox worker owns retries. */
export interface MailTransport {
  send(mail: OutgoingMail): Promise<void>;
}

export function smtpTransport(smtpUrl: string, from: string): MailTransport {
  const transporter = nodemailer.createTransport(smtpUrl);
  return {
    async send(mail) {
      await transporter.sendMail({ from, ...mail });
    },
  };
}

/**
 * Development: each message becomes an .eml file under DATA_DIR/mail, and its links are
 * printed, so the whole sign-in flow works from a terminal with no mail server.
 */
export function fileTransport(dataDir: string, from: string, logger: Logger): MailTransport {
  const directory = path.join(dataDir, 'mail');
  const transporter = nodemailer.createTransport({ streamTransport: true, buffer: true });
  return {
    async send(mail) {
      const info = await transporter.sendMail({ from, ...mail });
      mkdirSync(directory, { recursive: true });
      const file = path.join(
        directory,
        `${Date.now()}-${info.messageId.replace(/[^\w.-]/g, '')}.eml`,
      );
      writeFileSync(file, info.message as Buffer);
      const links = mail.text.match(/https?:\/\/\S+/g) ?? [];
      process.stdout.write(
        `\nMail to ${mail.to}: "${mail.subject}"\n  saved as ${file}\n` +
          links.map((link) => `  link: ${link}\n`).join(''),
      );
      logger.debug({ file }, 'development mail written');
    },
  };
}
