import type { Knex } from 'knex';

/** Agent sign-in looks a user up by address before anyone is signed in: the `signin` scope reads users of its workspace. */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create policy users_signin on users for select
      using (app_scope() = 'signin' and workspace_id = app_workspace_id());
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop policy users_signin on users');
}
