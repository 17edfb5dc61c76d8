import type { Trx } from '../db/knex';

/** The single-use links that confirm the address of a held ticket (only their hashes). */

export async function insert(
  trx: Trx,
  input: { workspaceId: string; ticketId: string; tokenHash: Buffer; expiresAt: Date },
): Promise<void> {
  await trx('ticket_confirmations').insert({
    workspace_id: input.workspaceId,
    ticket_id: input.ticketId,
    token_hash: input.tokenHash,
    expires_at: input.expiresAt,
  });
}

/**
 * Spends a link in one statement, so of two simultaneous uses exactly one wins; the hash goes
 * with it. Returns the ticket it confirms, or undefined if unknown, used or expired.
 */
export async function consume(
  trx: Trx,
  input: { workspaceId: string; tokenHash: Buffer; now: Date },
): Promise<string | undefined> {
  const [row] = await trx('ticket_confirmations')
    .where({ workspace_id: input.workspaceId, token_hash: input.tokenHash })
    .whereNull('used_at')
    .where('expires_at', '>', input.now)
    .update({ used_at: input.now, token_hash: null })
    .returning<{ ticket_id: string }[]>('ticket_id');
  return row?.ticket_id;
}

/** Whether a link still works, without spending it (the page with the confirm button). */
export async function isUsable(
  trx: Trx,
  input: { workspaceId: string; tokenHash: Buffer; now: Date },
): Promise<boolean> {
  const row = await trx('ticket_confirmations')
    .select('id')
    .where({ workspace_id: input.workspaceId, token_hash: input.tokenHash })
    .whereNull('used_at')
    .where('expires_at', '>', input.now)
    .first<{ id: string } | undefined>();
  return row !== undefined;
}

/** A released ticket needs no links: any others sent for it stop working with it. */
export async function deleteForTicket(
  trx: Trx,
  input: { workspaceId: string; ticketId: string },
): Promise<void> {
  await trx('ticket_confirmations')
    .where({ workspace_id: input.workspaceId, ticket_id: input.ticketId })
    .delete();
}
