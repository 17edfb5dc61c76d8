import type { Knex } from 'knex';

/**
 * Customers add to a conversation; they never rewrite or remove any of it.
 *
 * Messages had one policy for every command (20261201110200), so a requester's or a visitor's
 * scope could UPDATE or DELETE the public messages it can read: its own replies and the agents'.
 * It could likewise delete its tickets, and a requester its own row. The app never asks any of
 * this, but row-level security is there for the day a query goes wrong. Now only the system and
 * agent scopes may update or delete a message (erasure is an admin's), and only they may delete a
 * ticket or a requester (nothing in the app does). Restrictive policies, joined with AND to
 * the permissive ones: who may read and add stays exactly as it was, and reads are not touched
 * (restrictive policies for UPDATE and DELETE are not planned into a SELECT).
 *
 * The one update a customer's request made was the files trigger's (20261201170000): storing a
 * file marks its message, under the storing scope. The file itself has passed attachments' own
 * policy by then (a customer's only onto a requester's message it can see, in its workspace), so
 * the trigger now sets the flag as the system scope, for that file's message alone, and puts the
 * scope back before it returns. (A function's own SET clause would do that by itself, but only a
 * superuser may give one for a setting PostgreSQL does not know.) Should the update fail, the
 * statement fails with it, and a rollback, to a savepoint or whole, takes the setting back too.
 * A trigger function cannot be called on its own, so this lends the scope to nothing else.
 */
const STAFF = `coalesce(current_setting('app.scope', true), '') in ('system', 'agent')`;

/**
 * What a customer's own actions change on a ticket (a reply, solving or reopening it, a rating,
 * confirming the address of a held one) and on their requester record (a name where there was
 * none, the language and time zone, asking to be erased). Nothing else of either is theirs to
 * change: not a ticket's subject, number, owner or creation time, nor their own address (who
 * they are) or whether they were erased. A held ticket may be released, never held again (which
 * would hide it from the agents). Checked by a trigger, since policies see rows, not columns.
 */
const CUSTOMER_TICKET_COLUMNS = [
  'status',
  'updated_at',
  'last_activity_at',
  'last_reply_at',
  'rating',
  'rating_comment',
  'rated_at',
  'resolved_at',
  'held_since',
];
const CUSTOMER_REQUESTER_COLUMNS = ['name', 'language', 'time_zone', 'erasure_requested_at'];

const customerChanges = (table: string, columns: string[], extra: string) => `
    create function ${table}_customer_changes() returns trigger language plpgsql as $$
    begin
      if ${STAFF} then
        return new;
      end if;
      if (to_jsonb(new) - '{${columns.join(',')}}'::text[])
           is distinct from (to_jsonb(old) - '{${columns.join(',')}}'::text[])${extra} then
        raise exception 'a customer may change only the ${columns.join(', ')} of ${table}'
          using errcode = '42501';
      end if;
      return new;
    end $$;

    create trigger ${table}_customer_changes before update on ${table}
      for each row execute function ${table}_customer_changes();
`;

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create or replace function messages_note_file() returns trigger language plpgsql as $$
    declare
      scope text := current_setting('app.scope', true);
    begin
      perform set_config('app.scope', 'system', true);
      -- A second file on a message leaves its row as it is.
      update messages set has_files = true
       where workspace_id = new.workspace_id and id = new.message_id and not has_files;
      perform set_config('app.scope', coalesce(scope, ''), true);
      return null;
    end $$;

    create policy messages_changed_by_staff on messages as restrictive for update
      using (${STAFF});
    create policy messages_removed_by_staff on messages as restrictive for delete
      using (${STAFF});
    create policy tickets_removed_by_staff on tickets as restrictive for delete
      using (${STAFF});
    create policy requesters_removed_by_staff on requesters as restrictive for delete
      using (${STAFF});
    ${customerChanges(
      'tickets',
      CUSTOMER_TICKET_COLUMNS,
      `
         or (new.held_since is not null and new.held_since is distinct from old.held_since)`,
    )}
    ${customerChanges('requesters', CUSTOMER_REQUESTER_COLUMNS, '')}
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    drop trigger requesters_customer_changes on requesters;
    drop function requesters_customer_changes();
    drop trigger tickets_customer_changes on tickets;
    drop function tickets_customer_changes();
    drop policy requesters_removed_by_staff on requesters;
    drop policy tickets_removed_by_staff on tickets;
    drop policy messages_removed_by_staff on messages;
    drop policy messages_changed_by_staff on messages;

    create or replace function messages_note_file() returns trigger language plpgsql as $$
    begin
      update messages set has_files = true
       where workspace_id = new.workspace_id and id = new.message_id;
      if not found then
        raise exception 'a file for a message this scope cannot update'
          using errcode = '42501';
      end if;
      return null;
    end $$;
  `);
}
