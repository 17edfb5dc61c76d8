import type { Trx } from '../db/knex';

/** Whether a message was already taken for a recipient (see migration 20261201150000). */
export async function exists(trx: Trx, key: Buffer): Promise<boolean> {
  const row = await trx('inbound_receipts')
    .select<{ key: Buffer }[]>('key')
    .where({ key })
    .first<{ key: Buffer } | undefined>();
  return row !== undefined;
}

/**
 * Records that a message was taken for a recipient. A second record of the same key fails on
 * the primary key, so of two deliveries of one message at the same moment one rolls back.
 */
export async function insert(trx: Trx, key: Buffer, at: Date): Promise<void> {
  await trx('inbound_receipts').insert({ key, received_at: at });
}

export async function deleteBefore(trx: Trx, before: Date): Promise<number> {
  return trx('inbound_receipts').where('received_at', '<', before).delete();
}
