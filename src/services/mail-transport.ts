import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import nodemailer from 'nodemailer';
import type Mail from 'nodemailer/lib/mailer';
import type { Logger } from 'pino';

/** An image the HTML part shows by `cid:`; base64, because queued mail is sealed as JSON. */
export interface InlineImage {
  cid: string;
  filename: string;
  contentType: string;
  base64: string;
}

/**
 * A ticket's file that goes with the mail. The sealed message names it, never holds its bytes
 * (a queued message stays small); the worker reads them from the attachment store when it sends.
 */
export interface MailFile {
  workspaceId: string;
  ticketId: string;
  attachmentId: string;
}

/** A file's bytes as the worker read them for one sending. */
export interface SentFile {
  filename: string;
  contentType: string;
  content: Buffer;
}

export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
  html: string;
  /** The workspace's name, shown as the sender; the address stays MAIL_FROM's. */
  fromName?: string;
  inlineImages?: InlineImage[];
  /** Where the requester's Reply goes: a reply address naming the ticket (see reply-addresses). */
  replyTo?: string;
  /**
   * RFC 3834: mail written by no person says so, and well-behaved auto-responders then stay
   * silent; an answer to a refused inbound message is `auto-replied`.
   */
  autoSubmitted?: 'auto-generated' | 'auto-replied';
  /** Files sent as attachments: see MailFile. */
  files?: MailFile[];
}

/** Delivers one message, with the bytes of its files, or throws; the outbox worker owns retries. */
export interface MailTransport {
  send(mail: OutgoingMail, files?: readonly SentFile[]): Promise<void>;
  /** Closes what the transport keeps open (SMTP connections); at shutdown. */
  close?(): void;
}

/** The address part of MAIL_FROM (`Name <address>` or a bare address). */
export function addressOf(from: string): string {
  return /<([^<>\s]+)>\s*$/.exec(from)?.[1] ?? from.trim();
}

// C0 and C1 control characters: a display name is one line, whatever the workspace name holds.
// eslint-disable-next-line no-control-regex -- matching control characters is the point here
const CONTROL = /[\u0000-\u001f\u007f-\u009f]+/g;

/**
 * The message as nodemailer takes it. The sender is an address object, never a string built
 * here: nodemailer then quotes or encodes the name (commas, quotes, angle brackets, non-ASCII)
 * and the address cannot be changed by it.
 */
export function composeMail(
  mail: OutgoingMail,
  from: string,
  files: readonly SentFile[] = [],
): Mail.Options {
  const name = mail.fromName?.replace(CONTROL, ' ').trim();
  return {
    from: name ? { name, address: addressOf(from) } : from,
    to: mail.to,
    subject: mail.subject,
    text: mail.text,
    html: mail.html,
    ...(mail.replyTo && { replyTo: mail.replyTo }),
    ...(mail.autoSubmitted && { headers: { 'Auto-Submitted': mail.autoSubmitted } }),
    attachments: [
      ...(mail.inlineImages ?? []).map((image) => ({
        cid: image.cid,
        filename: image.filename,
        contentType: image.contentType,
        content: image.base64,
        encoding: 'base64',
        contentDisposition: 'inline' as const,
      })),
      ...files.map((file) => ({
        filename: file.filename,
        contentType: file.contentType,
        content: file.content,
        contentDisposition: 'attachment' as const,
      })),
    ],
  };
}

/**
 * An SMTP connection stays open this long after its last message. A new connection per message
 * (greeting, EHLO, a TLS handshake with a real relay, QUIT) held the worker to about 7 messages a
 * second on loopback; a burst of mail now reuses open ones, and an idle worker holds none.
 */
const SMTP_IDLE_MS = 5_000;

/**
 * Delivers through SMTP_URL over at most `connections` connections at once (the worker sends
 * that many messages at a time). Options in the URL's query (`?pool=false`) still win.
 */
export function smtpTransport(smtpUrl: string, from: string, connections = 1): MailTransport {
  const transporter = nodemailer.createTransport({
    url: smtpUrl,
    pool: true,
    maxConnections: connections,
    idleTimeout: SMTP_IDLE_MS,
  });
  return {
    async send(mail, files) {
      await transporter.sendMail(composeMail(mail, from, files));
    },
    close() {
      transporter.close();
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
    async send(mail, files) {
      const info = await transporter.sendMail(composeMail(mail, from, files));
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
