import type { Knex } from 'knex';

/**
 * When the cluster's housekeeping last ran: whichever instance takes the advisory lock and finds
 * the last run older than the interval does the work, so it runs once an interval however many
 * instances there are. Not a tenant table: no row-level security.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table housekeeping (
      id integer primary key check (id = 1),
      last_run_at timestamptz not null
    )
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop table housekeeping');
}
