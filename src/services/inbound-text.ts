import EmailReplyParser from 'email-reply-parser';
import type { ParsedMail } from 'mailparser';

/**
 * The text of an inbound mail as a thread message: plain text only (an HTML-only mail is turned
 * into text by mailparser's html-to-text, and no HTML is ever kept), without the quoted history
 * and signature a mail client adds under a reply, and without characters that do not belong in
 * a message.
 */

// C0 and C1 controls except tab and line feed, and the bidirectional overrides that can make
// text read differently from what it is.
// eslint-disable-next-line no-control-regex -- matching control characters is the point here
const UNWANTED = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

export function plainText(text: string): string {
  return text.replace(/\r\n?/g, '\n').normalize('NFC').replace(UNWANTED, '');
}

function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  const marker = '\n[…shortened]';
  return text.slice(0, max - marker.length) + marker;
}

/** A message's body: what the customer wrote above the quoted history, at most `max` long. */
export function messageBody(mail: ParsedMail, max: number): string {
  const whole = plainText(mail.text ?? '').trim();
  // A whole mail the parser takes for quotation (a forward, say) is kept as it is.
  const visible = whole ? new EmailReplyParser().parseReply(whole).trim() || whole : '';
  return cut(visible || '(This email had no text.)', max);
}

/** The subject as a ticket's, on one line, at most `max` long. */
export function ticketSubject(mail: ParsedMail, max: number): string {
  const subject = plainText(mail.subject ?? '')
    .replace(/\s+/g, ' ')
    .trim();
  return cut(subject || '(no subject)', max).replace(/\n/g, ' ');
}
