import type { Knex } from 'knex';

/**
 * No requester's address holds a space, a tab or line break, or any of < > ( ) , ; : " — both
 * ways an address comes in refuse them (`EMAIL` in validation/fields.ts for the forms, `ADDRESS`
 * in services/inbound-mail.ts for mail). Said in the schema, it is something a search can rely
 * on: a search text holding one of them cannot be part of any address, so the inbox search leaves
 * its address branch out (`NEVER_IN_AN_ADDRESS` in models/ticket-search.ts, which a test holds to
 * this very set). A search for a phrase then plans and runs one branch instead of two.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    alter table requesters add constraint requesters_email_unseparated
      check (email !~ '[ \\t\\n\\r\\f\\v<>(),;:"]')
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('alter table requesters drop constraint requesters_email_unseparated');
}
