import type { Knex } from 'knex';

/**
 * Whether a message has ever had a file. A thread page looked up each of its messages' files, one
 * index probe per message: about 200 µs of PostgreSQL's CPU on a 31-message page, nearly all of
 * it finding nothing, since most messages carry no file. The page now looks only where this says
 * there is something to find.
 *
 * The database keeps it, so no way of storing a file can forget it: a trigger sets it when a file
 * is stored, under the storing scope's row-level security (every scope that may add a file to a
 * message may also see and update that message). Should the message be out of the scope's
 * reach, the trigger refuses the file rather than hide it. Erasing files leaves the flag set: a
 * set flag only means "look", and looking finds what is left.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    alter table messages add column has_files boolean not null default false;

    create function messages_note_file() returns trigger language plpgsql as $$
    begin
      update messages set has_files = true
       where workspace_id = new.workspace_id and id = new.message_id;
      if not found then
        raise exception 'a file for a message this scope cannot update'
          using errcode = '42501';
      end if;
      return null;
    end $$;

    create trigger attachments_note_file after insert on attachments
      for each row execute function messages_note_file();

    select set_config('app.scope', 'system', true);
    update messages m set has_files = true
     where exists (select 1 from attachments a
                    where a.workspace_id = m.workspace_id and a.message_id = m.id);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    drop trigger attachments_note_file on attachments;
    drop function messages_note_file();
    alter table messages drop column has_files;
  `);
}
