import type { Knex } from 'knex';

/**
 * Verified anonymous tickets. A workspace may ask people who open a ticket without signing in to
 * confirm their address first; until they do, the ticket is held (`held_since` set): the policies
 * hide it from agents and from the address's signed-in requester, so no query, however written,
 * shows it in the inbox, the export or a ticket page. Only the visitor session that opened it
 * (its `app.ticket_ids`) and the system scope see it. The confirmation links are stored like
 * sign-in tokens: only a SHA-256 hash, cleared when the link is used.
 */
const heldAware: Record<string, [table: string, using: string, original: string]> = {
  tickets_agent: [
    'tickets',
    `workspace_id = app_scoped_workspace_id('agent') and held_since is null`,
    `workspace_id = app_scoped_workspace_id('agent')`,
  ],
  tickets_requester: [
    'tickets',
    `workspace_id = app_scoped_workspace_id('requester') and requester_id = app_scoped_requester_id()
     and held_since is null`,
    `workspace_id = app_scoped_workspace_id('requester') and requester_id = app_scoped_requester_id()`,
  ],
};

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    alter table workspaces add column confirm_anonymous_email boolean not null default false;

    alter table tickets add column held_since timestamptz;
    create index tickets_held on tickets (held_since) where held_since is not null;

    create table ticket_confirmations (
      workspace_id uuid not null,
      id uuid not null default gen_random_uuid(),
      ticket_id uuid not null,
      token_hash bytea,
      expires_at timestamptz not null,
      used_at timestamptz,
      created_at timestamptz not null default now(),
      primary key (workspace_id, id),
      unique (workspace_id, token_hash),
      foreign key (workspace_id, ticket_id) references tickets (workspace_id, id) on delete cascade,
      check ((used_at is null) = (token_hash is not null))
    );
    create index ticket_confirmations_ticket on ticket_confirmations (workspace_id, ticket_id);

    alter table ticket_confirmations enable row level security;
    alter table ticket_confirmations force row level security;
    create policy ticket_confirmations_system on ticket_confirmations
      using (app_scope() = 'system');
    -- The link's pages look tokens up and spend them in the sign-in scope (the person holding the
    -- link may be on another device); the visitor who opened the ticket may ask for a new link.
    create policy ticket_confirmations_signin on ticket_confirmations
      using (workspace_id = app_scoped_workspace_id('signin'));
    create policy ticket_confirmations_visitor on ticket_confirmations
      using (workspace_id = app_scoped_workspace_id('visitor')
             and ticket_id = any (app_scoped_ticket_ids()));
  `);
  for (const [policy, [table, using]] of Object.entries(heldAware)) {
    await knex.raw(`alter policy ${policy} on ${table} using (${using})`);
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const [policy, [table, , original]] of Object.entries(heldAware)) {
    await knex.raw(`alter policy ${policy} on ${table} using (${original})`);
  }
  await knex.raw(`
    drop table ticket_confirmations;
    drop index tickets_held;
    alter table tickets drop column held_since;
    alter table workspaces drop column confirm_anonymous_email;
  `);
}
