import type { Knex } from 'knex';

/**
 * The inbox of one status, newest activity first, from an index of its own. Along the activity
 * index alone, a page of a status found only among a few old tickets (or none) read the whole
 * workspace's tickets to fill it: every one of a million for "closed" in a workspace that never
 * closes, where this index reads the page itself. The inbox's one generic plan (a statement per
 * shape: with a status and without) takes it for every status.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create index tickets_status_activity
      on tickets (workspace_id, status, last_activity_at desc, id desc)
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index tickets_status_activity');
}
