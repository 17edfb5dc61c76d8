import { createHash, createHmac, randomBytes, randomInt } from 'node:crypto';

/*
 * The short code in a sign-in mail, typed by a person on another device. It is only 8 characters,
 * so it is never enough on its own: it works only together with a random key that the browser
 * which asked for the mail holds in a cookie (see middleware/sign-in-code-cookie.ts), for a few
 * minutes and a few tries. The database keeps a hash of that key, to find the row, and an HMAC of
 * the code under the key, so a copy of the database can neither show the code nor test guesses.
 */

/** No 0/O, 1/I/L or U/V: read off a phone and typed on a keyboard, nothing can be misread. */
const ALPHABET = 'ABCDEFGHJKMNPQRSTVWXYZ23456789';
const CODE_LENGTH = 8;
const CODE_PATTERN = new RegExp(`^[${ALPHABET}]{${CODE_LENGTH}}$`);
const BROWSER_KEY_BYTES = 32;
const BROWSER_KEY_PATTERN = /^[A-Za-z0-9_-]{43}$/;
// Spaces and every kind of dash a phone's keyboard or a copy from a mail may produce.
const SEPARATORS = /[\s\-\u2010-\u2015\u2212]/g;

/** A new code: 8 characters drawn uniformly from the alphabet (about 39 bits). */
export function newCode(): string {
  let code = '';
  for (let i = 0; i < CODE_LENGTH; i += 1) code += ALPHABET[randomInt(ALPHABET.length)];
  return code;
}

/** As the mail shows it: two groups of four, `ABCD-EFGH`. */
export function groupCode(code: string): string {
  return `${code.slice(0, CODE_LENGTH / 2)}-${code.slice(CODE_LENGTH / 2)}`;
}

/** A typed code as stored: any case, with or without the dash or spaces; undefined if no code. */
export function normaliseCode(typed: string): string | undefined {
  const code = typed.replace(SEPARATORS, '').toUpperCase();
  return CODE_PATTERN.test(code) ? code : undefined;
}

/** The key the asking browser keeps; it never reaches the database, nor the mail. */
export function newBrowserKey(): string {
  return randomBytes(BROWSER_KEY_BYTES).toString('base64url');
}

export function isBrowserKey(value: unknown): value is string {
  return typeof value === 'string' && BROWSER_KEY_PATTERN.test(value);
}

/** Finds the row of the browser's request (the key itself is not stored). */
export function browserHash(browserKey: string): Buffer {
  return createHash('sha256').update(browserKey).digest();
}

/** The code as stored: worthless, and untestable, without the browser's key. */
export function codeHash(browserKey: string, code: string): Buffer {
  return createHmac('sha256', browserKey).update(code).digest();
}
