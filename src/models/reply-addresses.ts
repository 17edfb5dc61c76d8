import type { Trx } from '../db/knex';

/** The tokens of reply addresses (only their hashes), each naming a ticket and its requester. */

export interface ReplyAddressTarget {
  workspaceId: string;
  ticketId: string;
  requesterId: string;
}

export async function insert(
  trx: Trx,
  input: ReplyAddressTarget & { tokenHash: Buffer; at: Date },
): Promise<void> {
  // No RETURNING: the scopes that issue tokens may add rows but not read them back.
  await trx('reply_addresses').insert({
    workspace_id: input.workspaceId,
    ticket_id: input.ticketId,
    requester_id: input.requesterId,
    token_hash: input.tokenHash,
    created_at: input.at,
  });
}

/** What a token names, looked up by its hash in every workspace (the system scope). */
export async function findByHash(
  trx: Trx,
  tokenHash: Buffer,
): Promise<ReplyAddressTarget | undefined> {
  const row = await trx('reply_addresses')
    .select<{ workspace_id: string; ticket_id: string; requester_id: string }[]>(
      'workspace_id',
      'ticket_id',
      'requester_id',
    )
    .where({ token_hash: tokenHash })
    .first();
  return row
    ? { workspaceId: row.workspace_id, ticketId: row.ticket_id, requesterId: row.requester_id }
    : undefined;
}

/** Revokes every reply address of a requester (erasure): mail to them is refused from then on. */
export async function deleteForRequester(
  trx: Trx,
  input: { workspaceId: string; requesterId: string },
): Promise<number> {
  return trx('reply_addresses')
    .where({ workspace_id: input.workspaceId, requester_id: input.requesterId })
    .delete();
}
