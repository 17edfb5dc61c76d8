import type { HeaderValue, ParsedMail } from 'mailparser';

/**
 * Mail that no person wrote, or that we wrote ourselves, must never be answered and never become
 * a message: answering an auto-responder is how two machines end up mailing each other forever.
 * These checks follow RFC 3834 (Auto-Submitted) and the conventions real auto-responders, list
 * servers and bounce messages use. Returns why a message is dropped, or undefined.
 */

/** Out-of-office subjects in the languages our customers write in, at the start of a subject. */
const OUT_OF_OFFICE = new RegExp(
  '^(?:(?:re|aw|sv|vs|antw|réf|r)\\s*:\\s*)*(?:' +
    [
      'auto(?:matic)?[ -]?reply',
      'autoreply',
      'out of (?:the )?office',
      'abwesenheitsnotiz',
      'automatische antwort',
      'abwesend',
      'réponse automatique',
      'absent(?:e)? du bureau',
      'respuesta automática',
      'fuera de la oficina',
      'risposta automatica',
      'fuori ufficio',
      'automatisch antwoord',
      'afwezig',
      'autosvar',
      'frånvaro',
      'resposta automática',
      'ausente',
    ].join('|') +
    ')',
  'iu',
);

/** Local parts that only machines send from: bounces and delivery reports. */
const MACHINE_SENDERS = /^(?:mailer-daemon|postmaster|mail-daemon|no-?reply|bounces?)$/i;

function headerText(value: HeaderValue | undefined): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(String).join(' ');
  if ('value' in value && typeof value.value === 'string') return value.value;
  if ('text' in value && typeof value.text === 'string') return value.text;
  return '';
}

export type DropReason =
  'no-sender' | 'bounce' | 'own-address' | 'auto-submitted' | 'bulk' | 'auto-reply';

export function dropReason(
  mail: ParsedMail,
  input: {
    /** The envelope's MAIL FROM; empty (`<>`) for a bounce. undefined when not known (a pipe). */
    envelopeFrom: string | undefined;
    sender: string | undefined;
    /** MAIL_FROM's address: mail from it is our own, come back. */
    ownAddress: string;
    inboundDomain: string | undefined;
  },
): DropReason | undefined {
  const { sender } = input;
  if (input.envelopeFrom === '') return 'bounce';
  if (!sender) return 'no-sender';
  const lower = sender.toLowerCase();
  const domain = lower.slice(lower.lastIndexOf('@') + 1);
  if (lower === input.ownAddress.toLowerCase() || domain === input.inboundDomain) {
    return 'own-address';
  }
  if (MACHINE_SENDERS.test(lower.slice(0, lower.lastIndexOf('@')))) return 'bounce';
  const h = mail.headers;
  const contentType = headerText(h.get('content-type')).toLowerCase();
  if (contentType.startsWith('multipart/report')) return 'bounce';
  const autoSubmitted = headerText(h.get('auto-submitted')).trim().toLowerCase();
  if (autoSubmitted && !autoSubmitted.startsWith('no')) return 'auto-submitted';
  if (/^(?:bulk|junk|list)\b/i.test(headerText(h.get('precedence')).trim())) return 'bulk';
  if (h.has('list-id') || h.has('list-unsubscribe')) return 'bulk';
  if (h.has('x-autoreply') || h.has('x-autorespond') || h.has('x-autoresponder')) {
    return 'auto-reply';
  }
  if (/^(?:all|oof|autoreply)\b/i.test(headerText(h.get('x-auto-response-suppress')).trim())) {
    return 'auto-reply';
  }
  if (OUT_OF_OFFICE.test((mail.subject ?? '').trim())) return 'auto-reply';
  return undefined;
}
