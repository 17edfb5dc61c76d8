import type { Knex } from 'knex';

/**
 * Switching a workspace's portal off ends every portal session of that workspace. The rows are
 * deleted at the switch; this instant also makes a session signed in before it count as signed
 * out, so a request already in flight at the switch cannot write its session back to life.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('alter table workspaces add column portal_sessions_after timestamptz');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('alter table workspaces drop column portal_sessions_after');
}
