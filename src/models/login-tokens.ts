import type { Trx } from '../db/knex';

export async function insert(
  trx: Trx,
  input: { workspaceId: string; email: string; tokenHash: Buffer; expiresAt: Date },
): Promise<void> {
  await trx('login_tokens').insert({
    workspace_id: input.workspaceId,
    email: input.email,
    token_hash: input.tokenHash,
    expires_at: input.expiresAt,
  });
}

/**
 * Consumes a token in one statement, so two simultaneous uses cannot both win; the hash is
 * cleared with it. Returns the address it was issued for, or undefined if it was unknown,
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
    .update({ used_at: input.now, token_hash: null })
    .returning<{ email: string }[]>('email');
  return row?.email;
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
