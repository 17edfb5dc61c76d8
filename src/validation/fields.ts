import { translatorFor, type Translate } from '../i18n/translate';
import { z } from 'zod';

// C0 and C1 control characters; multi-line text may keep tab, line feed and carriage return.
/* eslint-disable no-control-regex -- matching control characters is the point here */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const CONTROL_EXCEPT_LINES = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;
// U+FFFD is what invalid UTF-8 decodes to; lone surrogates cannot be stored or mailed.
/* eslint-enable no-control-regex */
const UNREADABLE = /\ufffd|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * One plain address: no display names, quoted parts, comments or lists. Commas, semicolons,
 * double quotes, angle brackets, spaces and control characters can never appear. The apostrophe
 * stays allowed: it is common in real addresses (o'brien@example.com) and harmless in headers.
 */
const EMAIL =
  /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$/;

const english = translatorFor('en');

/** The person's own address; its messages in `t`'s language (the agent app's are English). */
export function emailField(max: number, t: Translate = english) {
  const missing = t('forms.email.missing');
  return z
    .string({ error: missing })
    .trim()
    .min(1, missing)
    .max(max, t('forms.email.tooLong', { max }))
    .refine((v) => EMAIL.test(v) && v.split('@')[0]!.length <= 64, t('forms.email.format'))
    .transform((v) => v.toLowerCase());
}

/** An address that may be left blank (blank becomes null); `what` names it in the messages. */
export function optionalEmailField(max: number, what: string, example: string) {
  return z
    .string({ error: `Enter ${what} in the correct format, like ${example}` })
    .trim()
    .max(max, `${what[0]!.toUpperCase()}${what.slice(1)} must be ${max} characters or fewer`)
    .refine(
      (v) => v === '' || (EMAIL.test(v) && v.split('@')[0]!.length <= 64),
      `Enter ${what} in the correct format, like ${example}`,
    )
    .optional()
    .transform((v) => (v ? v.toLowerCase() : null));
}

interface EnglishTextMessages {
  /** Shown when the field is empty, e.g. "Enter a subject". */
  missing: string;
  /** The field's name in a sentence, e.g. "Subject". */
  label: string;
}

/**
 * A text field's messages as whole sentences, so each language words them its own way (a
 * label cannot be spliced into a German or Arabic sentence). `missing` is said when the field
 * is empty, or, for an optional field, when what came is not text at all.
 */
export interface TextMessages {
  missing: string;
  tooLong: string;
  unreadable: string;
}

/** The messages of a customer's field `name` from the catalogues' `forms.<name>` section. */
export function fieldMessages(t: Translate, name: string, max: number): TextMessages {
  return {
    missing: t(`forms.${name}.missing`),
    tooLong: t(`forms.${name}.tooLong`, { max }),
    unreadable: t(`forms.${name}.unreadable`),
  };
}

// The agent app's fields, English as they always were.
function englishMessages(
  messages: EnglishTextMessages | TextMessages,
  max: number,
  optional = false,
): TextMessages {
  if (!('label' in messages)) return messages;
  const { label } = messages;
  return {
    missing: optional ? `${label} must be text` : messages.missing,
    tooLong: `${label} must be ${max.toLocaleString('en-GB')} characters or fewer`,
    unreadable: `${label} must only include letters, numbers, spaces and punctuation`,
  };
}

export function textField(
  max: number,
  given: EnglishTextMessages | TextMessages,
  options: { multiline?: boolean } = {},
) {
  const control = options.multiline ? CONTROL_EXCEPT_LINES : CONTROL;
  const messages = englishMessages(given, max);
  return z
    .string({ error: messages.missing })
    .trim()
    .min(1, messages.missing)
    .max(max, messages.tooLong)
    .refine((v) => !control.test(v) && !UNREADABLE.test(v), messages.unreadable);
}

const EVERY_CONTROL = new RegExp(CONTROL.source, 'g');

/**
 * A one-line text the form refused, as the form shows it again: trimmed and without its control
 * characters, which HTML cannot hold (most of them are not allowed in a document at all).
 */
export function shownAgain(value: unknown): string {
  return typeof value === 'string' ? value.replace(EVERY_CONTROL, '').trim() : '';
}

/** An optional text: blank becomes null. A string `given` is the field's English label. */
export function optionalTextField(
  max: number,
  given: string | TextMessages,
  options: { multiline?: boolean } = {},
) {
  const control = options.multiline ? CONTROL_EXCEPT_LINES : CONTROL;
  const messages = englishMessages(
    typeof given === 'string' ? { label: given, missing: '' } : given,
    max,
    true,
  );
  return z
    .string({ error: messages.missing })
    .trim()
    .max(max, messages.tooLong)
    .refine((v) => !control.test(v) && !UNREADABLE.test(v), messages.unreadable)
    .optional()
    .transform((v) => (v ? v : null));
}
