import { createHash, randomBytes } from 'node:crypto';

/**
 * Secrets for single-use links mailed to an address (sign-in links, address confirmations): 32
 * random bytes, base64url (43 characters).
 * Only the SHA-256 of a token is stored; the token itself exists in the mail alone.
 */
const TOKEN_BYTES = 32;
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export function newLinkToken(): { token: string; hash: Buffer } {
  const token = randomBytes(TOKEN_BYTES).toString('base64url');
  return { token, hash: createHash('sha256').update(token).digest() };
}

/** The stored form of a token from a URL; undefined for anything that cannot be one. */
export function hashLinkToken(token: string): Buffer | undefined {
  if (!TOKEN_PATTERN.test(token)) return undefined;
  return createHash('sha256').update(token).digest();
}

/**
 * The token in a reply address (`reply+<token>@…`): 20 random bytes (160 bits) in lower-case hex,
 * because mail systems may change the case of an address's local part, and the whole local part
 * must stay within SMTP's 64 characters. Stored, like link tokens, only as a SHA-256 hash.
 */
const REPLY_TOKEN_BYTES = 20;
const REPLY_TOKEN_PATTERN = /^[0-9a-f]{40}$/;

export function newReplyToken(): { token: string; hash: Buffer } {
  const token = randomBytes(REPLY_TOKEN_BYTES).toString('hex');
  return { token, hash: createHash('sha256').update(token).digest() };
}

/** The stored form of a reply token, or undefined for anything that cannot be one. */
export function hashReplyToken(token: string): Buffer | undefined {
  const normal = token.toLowerCase();
  if (!REPLY_TOKEN_PATTERN.test(normal)) return undefined;
  return createHash('sha256').update(normal).digest();
}
