import type { Knex } from 'knex';

/**
 * A sign-in mail also carries a short code, for signing in on the device that asked rather than
 * the one that reads the mail. It lives on the link's own row, so spending either spends both in
 * one UPDATE. The code is usable only by the browser that asked: `code_browser` is the SHA-256 of
 * a random key kept in that browser's cookie, and `code_hash` an HMAC of the code under that same
 * key, so neither the code nor a way to test guesses offline is in the database. Wrong tries are
 * counted on the row (`code_attempts`) in the same statement that checks the code.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    alter table login_tokens
      add column code_browser bytea,
      add column code_hash bytea,
      add column code_expires_at timestamptz,
      add column code_attempts smallint not null default 0,
      add constraint login_tokens_code_browser unique (workspace_id, code_browser),
      add constraint login_tokens_code_complete
        check (code_hash is null or (code_browser is not null and code_expires_at is not null)),
      add constraint login_tokens_code_spent check (used_at is null or code_hash is null);
  `);
}

/** Undoes exactly what up did, so that `npx knex migrate:rollback` leaves the schema as before. */
export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    alter table login_tokens
      drop constraint login_tokens_code_spent,
      drop constraint login_tokens_code_complete,
      drop constraint login_tokens_code_browser,
      drop column code_attempts,
      drop column code_expires_at,
      drop column code_hash,
      drop column code_browser;
  `);
}
