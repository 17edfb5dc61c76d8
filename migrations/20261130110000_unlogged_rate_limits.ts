import type { Knex } from 'knex';

/**
 * Rate-limit counters are written on every sign-in request and every failed agent sign-in, each
 * in a statement of its own, and each such commit waited for the write-ahead log to reach the
 * disk. They are worth less than that: after a crash of the database server an unlogged table
 * is emptied, which only restarts the counting windows (at most an hour). Unlogged, a count is
 * one write in shared memory.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('alter table rate_limits set unlogged');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('alter table rate_limits set logged');
}
