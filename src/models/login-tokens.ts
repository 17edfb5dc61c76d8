import type { Trx } from '../db/knex';

/** The code that comes with a link: usable only by the browser whose key hashes to `browser`. */
export interface CodeBinding {
  browser: Buffer;
  codeHash: Buffer;
  expiresAt: Date;
}

export async function insert(
  trx: Trx,
  input: {
    workspaceId: string;
    email: string;
    tokenHash: Buffer;
    expiresAt: Date;
    /** Without one, only the link signs in. */
    code?: CodeBinding;
  },
): Promise<void> {
  await trx('login_tokens').insert({
    workspace_id: input.workspaceId,
    email: input.email,
    token_hash: input.tokenHash,
    expires_at: input.expiresAt,
    code_browser: input.code?.browser ?? null,
    code_hash: input.code?.codeHash ?? null,
    code_expires_at: input.code?.expiresAt ?? null,
  });
}

/**
 * Consumes a token in one statement, so two simultaneous uses cannot both win; the hash is
 * cleared with it, and so is the code's: the link and the code are one sign-in. Returns the address it was issued for, or undefined if it was unknown,
 * used or expired.
 */
export async function consume(
  trx: Trx,
  input: { workspaceId: string; tokenHash: Buffer; now: Date },
): Promise<string | undefined> {
  const [row] = await trx('login_tokens')
    .where({ workspace_id: input.workspaceId, token_hash: input.tokenHash })
    .whereNull('used_at')
    .where('expires_at', '>', input.now)
    .update({ used_at: input.now, token_hash: null, code_hash: null })
    .returning<{ email: string }[]>('email');
  return row?.email;
}

export type CodeAttempt =
  | { outcome: 'signed-in'; email: string }
  | { outcome: 'wrong'; attempts: number; email: string }
  | { outcome: 'unusable' };

/**
 * One try of a code from the browser whose key hashes to `browser`, in one statement: it counts
 * the try and, when the code matches, spends the row (link and code together) exactly as
 * `consume` does. PostgreSQL locks the row for the UPDATE and rechecks the conditions after a
 * concurrent one commits, so of two simultaneous right tries one wins, and no number of
 * simultaneous tries gets past `maxAttempts`. `unusable`: no such browser, already used, expired
 * or out of tries.
 */
export async function tryCode(
  trx: Trx,
  input: {
    workspaceId: string;
    browser: Buffer;
    codeHash: Buffer;
    now: Date;
    maxAttempts: number;
  },
): Promise<CodeAttempt> {
  const hash = input.codeHash;
  const [row] = await trx('login_tokens')
    .where({ workspace_id: input.workspaceId, code_browser: input.browser })
    .whereNull('used_at')
    .whereNotNull('code_hash')
    .where('code_expires_at', '>', input.now)
    .where('code_attempts', '<', input.maxAttempts)
    .update({
      code_attempts: trx.raw('code_attempts + 1'),
      // Every right-hand side sees the row as it was, so all three test the same stored hash.
      used_at: trx.raw('case when code_hash = ? then ?::timestamptz end', [hash, input.now]),
      token_hash: trx.raw('case when code_hash = ? then null else token_hash end', [hash]),
      code_hash: trx.raw('case when code_hash = ? then null else code_hash end', [hash]),
    })
    .returning<{ email: string; used_at: Date | null; code_attempts: number }[]>([
      'email',
      'used_at',
      'code_attempts',
    ]);
  if (!row) return { outcome: 'unusable' };
  if (row.used_at) return { outcome: 'signed-in', email: row.email };
  return { outcome: 'wrong', attempts: row.code_attempts, email: row.email };
}

/** Whether a token is still usable, without consuming it (the confirmation page). */
export async function isUsable(
  trx: Trx,
  input: { workspaceId: string; tokenHash: Buffer; now: Date },
): Promise<boolean> {
  const row = await trx('login_tokens')
    .select('id')
    .where({ workspace_id: input.workspaceId, token_hash: input.tokenHash })
    .whereNull('used_at')
    .where('expires_at', '>', input.now)
    .first<{ id: string } | undefined>();
  return row !== undefined;
}

/** Unused tokens past their expiry serve no one; used ones hold no secret and are kept for audit. */
export async function deleteExpired(trx: Trx, now: Date): Promise<number> {
  return trx('login_tokens').whereNull('used_at').where('expires_at', '<=', now).delete();
}

/** Used tokens (their hash is already gone) and expired ones are no use to anybody. */
export async function deleteSpent(trx: Trx, now: Date): Promise<number> {
  return trx('login_tokens').whereNotNull('used_at').orWhere('expires_at', '<=', now).delete();
}

/** Erasure: every token issued for the address, used or not (each row holds the address). */
export async function deleteForEmail(
  trx: Trx,
  workspaceId: string,
  email: string,
): Promise<number> {
  return trx('login_tokens').where({ workspace_id: workspaceId, email }).delete();
}
