import type { Knex } from 'knex';

/**
 * The portal's ticket search (issue 10, point 3) matches whole words in subjects and in public
 * messages with PostgreSQL full-text search. The subject gets a GIN index on the expression
 * rather than a stored tsvector column: nothing more to keep up to date, and an edit of the text
 * (erasure replaces it) keeps its index entry right by itself.
 *
 * Message bodies get no word index: a customer searches only their own tickets, whose messages
 * the search reads ticket by ticket (see customer-ticket-search.ts). An index over every
 * message of every workspace would cost each reply's insert, and for a common word a search
 * starting from it reads all the workspace's messages that hold the word.
 *
 * The 'simple' configuration lower-cases words and does nothing else: no stemming and no stop
 * words, so a search means the same in any language a workspace's customers write in, and "on"
 * or "it" are words like any other. No fastupdate, as for the trigram indexes: subjects are
 * written once and searched often.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create index tickets_subject_words on tickets
      using gin (to_tsvector('simple'::regconfig, subject)) with (fastupdate = off);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index if exists tickets_subject_words');
}
