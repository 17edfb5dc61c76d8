import type { Knex } from 'knex';

/**
 * Where a workspace's customers are, and what each of them last chose. Languages and zones are
 * not constrained here: a language is added by dropping in a catalogue file, and the set of IANA
 * zones moves with the runtime's ICU data, so both are checked by the application on input.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    alter table workspaces
      add column default_language text not null default 'en',
      add column time_zone text not null default 'UTC'
  `);
  // Null until the requester uses the portal or chooses: the workspace's settings apply until then.
  await knex.raw(`
    alter table requesters
      add column language text,
      add column time_zone text
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('alter table requesters drop column language, drop column time_zone');
  await knex.raw('alter table workspaces drop column default_language, drop column time_zone');
}
