import type { Knex } from 'knex';

/**
 * Replies by email (#11 point 2). Every mail to a requester about a ticket carries a Reply-To of
 * `reply+<token>@INBOUND_DOMAIN`; the token names one ticket and its requester. Like sign-in
 * links, only the SHA-256 of a token is stored. A token stays good for its ticket's life: it goes
 * with the ticket (cascade) or when its requester is erased.
 *
 * Inbound mail carries no workspace, so its token is looked up by hash alone, in the system
 * scope (`reply_addresses_hash`); the unit of work narrows to the token's requester at once.
 * Request scopes only ever add tokens, each for a ticket it may already see; an agent scope may
 * also delete its workspace's (erasure revokes them).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table reply_addresses (
      workspace_id uuid not null,
      id uuid not null default gen_random_uuid(),
      ticket_id uuid not null,
      requester_id uuid not null,
      token_hash bytea not null,
      created_at timestamptz not null default now(),
      primary key (workspace_id, id),
      unique (workspace_id, token_hash),
      foreign key (workspace_id, ticket_id) references tickets (workspace_id, id) on delete cascade,
      foreign key (workspace_id, requester_id) references requesters (workspace_id, id)
        on delete cascade
    );
    create index reply_addresses_hash on reply_addresses (token_hash);
    create index reply_addresses_requester on reply_addresses (workspace_id, requester_id);

    alter table reply_addresses enable row level security;
    alter table reply_addresses force row level security;
    create policy reply_addresses_system on reply_addresses using (app_scope() = 'system');
    create policy reply_addresses_agent on reply_addresses
      using (workspace_id = app_scoped_workspace_id('agent'));
    create policy reply_addresses_issue on reply_addresses for insert
      with check (
        (workspace_id = app_scoped_workspace_id('requester')
         and requester_id = app_scoped_requester_id())
        or (workspace_id = app_scoped_workspace_id('visitor')
            and ticket_id = any (app_scoped_ticket_ids())));
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`drop table reply_addresses`);
}
