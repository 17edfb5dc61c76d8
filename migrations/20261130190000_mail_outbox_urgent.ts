import type { Knex } from 'knex';

/**
 * Mail with an expiry (a sign-in link) is claimed before the rest: a burst of acknowledgements
 * must not hold a link back that dies within the hour. This index serves that claim in
 * due order, as mail_outbox_due serves the general one.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create index mail_outbox_due_expiring on mail_outbox (next_attempt_at)
      where status = 'queued' and expires_at is not null
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index mail_outbox_due_expiring');
}
