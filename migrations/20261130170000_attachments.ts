import type { Knex } from 'knex';

/**
 * Attachments (#11 section 1). A file belongs to one message and is visible exactly where its
 * message is: the customer policies ask the messages table (under its own policies) whether the
 * message is visible, so an internal note's file stays as hidden as the note, and a held ticket's
 * files as hidden as the ticket.
 *
 * The bytes live apart from the description, in chunk rows keyed by a storage key, so the
 * storage can stream (one chunk in memory at a time) and another store (S3-compatible) could
 * hold them instead. A chunk is readable only through a visible attachment that names its key.
 * Chunks are written before their attachment row (the file's type is known only once its first
 * bytes are read, its size only at the end), so their foreign key is checked at commit; deleting
 * an attachment deletes its chunks through that key.
 *
 * Customers may add files only to their own messages on tickets they hold; agents to any message
 * of their workspace. Nobody but an agent (erasure) or the system changes or deletes a file.
 */
const ALLOWED_TYPES = [
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
  'application/pdf',
  'text/plain',
  'text/csv',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation',
];

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table attachments (
      workspace_id uuid not null,
      id uuid not null default gen_random_uuid(),
      message_id uuid not null,
      position smallint not null check (position >= 0),
      name text not null check (char_length(name) between 1 and 200),
      content_type text not null check (content_type in (${ALLOWED_TYPES.map((t) => `'${t}'`).join(', ')})),
      size bigint not null check (size >= 0),
      storage_key uuid not null,
      created_at timestamptz not null default now(),
      primary key (workspace_id, id),
      unique (workspace_id, storage_key),
      unique (workspace_id, message_id, position),
      foreign key (workspace_id, message_id) references messages (workspace_id, id) on delete cascade
    );

    create table attachment_chunks (
      workspace_id uuid not null,
      storage_key uuid not null,
      seq integer not null check (seq >= 0),
      data bytea not null,
      primary key (workspace_id, storage_key, seq),
      foreign key (workspace_id, storage_key) references attachments (workspace_id, storage_key)
        on delete cascade deferrable initially deferred
    );
    -- Chunks are read back and written one at a time; keep them out of line and uncompressed
    -- (most allowed types are compressed already).
    alter table attachment_chunks alter column data set storage external;

    alter table attachments enable row level security;
    alter table attachments force row level security;
    create policy attachments_system on attachments using (app_scope() = 'system');
    create policy attachments_agent on attachments
      using (workspace_id = app_scoped_workspace_id('agent'));
    create policy attachments_customer on attachments for select
      using (app_scope() in ('requester', 'visitor') and workspace_id = app_workspace_id()
             and exists (select 1 from messages m
                         where m.workspace_id = attachments.workspace_id
                           and m.id = attachments.message_id));
    create policy attachments_customer_insert on attachments for insert
      with check (app_scope() in ('requester', 'visitor') and workspace_id = app_workspace_id()
                  and exists (select 1 from messages m
                              where m.workspace_id = attachments.workspace_id
                                and m.id = attachments.message_id
                                and m.author_kind = 'requester'));

    alter table attachment_chunks enable row level security;
    alter table attachment_chunks force row level security;
    create policy attachment_chunks_system on attachment_chunks using (app_scope() = 'system');
    create policy attachment_chunks_read on attachment_chunks for select
      using (app_scope() in ('agent', 'requester', 'visitor') and workspace_id = app_workspace_id()
             and exists (select 1 from attachments a
                         where a.workspace_id = attachment_chunks.workspace_id
                           and a.storage_key = attachment_chunks.storage_key));
    -- A chunk without an attachment row fails the foreign key at commit, so the only thing an
    -- insert could smuggle in is rolled back with it.
    create policy attachment_chunks_write on attachment_chunks for insert
      with check (app_scope() in ('agent', 'requester', 'visitor')
                  and workspace_id = app_workspace_id());
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`drop table attachment_chunks; drop table attachments;`);
}
