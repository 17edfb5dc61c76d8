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

export function emailField(max: number) {
  const message = 'Enter an email address in the correct format, like name@example.com';
  return z
    .string({ error: 'Enter your email address' })
    .trim()
    .min(1, 'Enter your email address')
    .max(max, `Email address must be ${max} characters or fewer`)
    .refine((v) => EMAIL.test(v) && v.split('@')[0]!.length <= 64, message)
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

interface TextMessages {
  /** Shown when the field is empty, e.g. "Enter a subject". */
  missing: string;
  /** The field's name in a sentence, e.g. "Subject". */
  label: string;
}

export function textField(
  max: number,
  messages: TextMessages,
  options: { multiline?: boolean } = {},
) {
  const control = options.multiline ? CONTROL_EXCEPT_LINES : CONTROL;
  return z
    .string({ error: messages.missing })
    .trim()
    .min(1, messages.missing)
    .max(max, `${messages.label} must be ${max.toLocaleString('en-GB')} characters or fewer`)
    .refine(
      (v) => !control.test(v) && !UNREADABLE.test(v),
      `${messages.label} must only include letters, numbers, spaces and punctuation`,
    );
}

/** An optional text: blank becomes null. */
export function optionalTextField(
  max: number,
  label: string,
  options: { multiline?: boolean } = {},
) {
  const control = options.multiline ? CONTROL_EXCEPT_LINES : CONTROL;
  return z
    .string({ error: `${label} must be text` })
    .trim()
    .max(max, `${label} must be ${max.toLocaleString('en-GB')} characters or fewer`)
    .refine(
      (v) => !control.test(v) && !UNREADABLE.test(v),
      `${label} must only include letters, numbers, spaces and punctuation`,
    )
    .optional()
    .transform((v) => (v ? v : null));
}
