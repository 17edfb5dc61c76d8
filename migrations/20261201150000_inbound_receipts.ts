import type { Knex } from 'knex';

/**
 * One row for each message taken for one of our recipients (a new ticket, a reply added), kept
 * a week. An SMTP answer covers a whole message: when one recipient of several has to be
 * deferred (its workspace is over the tickets-by-mail limit), the sending server sends the whole
 * message again later, and the recipients already served would be served twice. The receipt is
 * written in the same transaction as what the message did, so a message is taken for a recipient
 * once, however often it comes.
 *
 * The key is a SHA-256 of the message's identity (its Message-ID and sender, or its bytes) and
 * the recipient: no address, token or workspace in the clear, so, like rate_limits, the table
 * holds no tenant data and needs no row-level security.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table inbound_receipts (
      key bytea primary key,
      received_at timestamptz not null
    );
    create index inbound_receipts_received_at on inbound_receipts (received_at);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop table inbound_receipts');
}
