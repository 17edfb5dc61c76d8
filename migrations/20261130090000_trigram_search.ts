import type { Knex } from 'knex';

/**
 * The agent inbox searches subjects and requester addresses by substring (`ilike '%…%'`), which
 * no b-tree can serve: at a million tickets every search read the whole table. Trigram GIN
 * indexes answer such patterns from the index. pg_trgm is a trusted extension, so the database's
 * owning role may create it without superuser rights.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create extension if not exists pg_trgm;
    create index tickets_subject_trgm on tickets using gin (subject gin_trgm_ops);
    create index requesters_email_trgm on requesters using gin (email gin_trgm_ops);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    drop index if exists requesters_email_trgm;
    drop index if exists tickets_subject_trgm;
    drop extension if exists pg_trgm;
  `);
}
