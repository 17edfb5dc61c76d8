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
