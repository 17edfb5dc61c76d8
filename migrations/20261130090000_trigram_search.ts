import type { Knex } from 'knex';

/**
 * The agent inbox searches subjects and requester addresses by substring (`ilike '%…%'`), which
 * no b-tree can serve: at a million tickets every search read the whole table. Trigram GIN
 * indexes answer such patterns from the index. pg_trgm is a trusted extension, so the database's
 * owning role may create it without superuser rights.
 *
 * Without fastupdate, a new ticket goes into the index at once rather than into a pending list
 * that every search reads through until the next vacuum: the bench saw searches slow down by a
 * third over three rounds of new tickets. Tickets are written far less often than searched.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create extension if not exists pg_trgm;
    create index tickets_subject_trgm on tickets using gin (subject gin_trgm_ops)
      with (fastupdate = off);
    create index requesters_email_trgm on requesters using gin (email gin_trgm_ops)
      with (fastupdate = off);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    drop index if exists requesters_email_trgm;
    drop index if exists tickets_subject_trgm;
    drop extension if exists pg_trgm;
  `);
}
