import type { Knex } from 'knex';

/**
 * Close and reopen (#10 point 2). A ticket remembers when it was last resolved, because a customer
 * may reopen it only for a while after that. Every status change someone makes is an event in the
 * ticket's thread ("Marked as solved by you on …"), beside the messages but not one of them.
 *
 * Events are public: the customer sees every one on their own ticket, so the requester's and the
 * visitor's policies read like the messages' minus the internal test. A customer's scope may add
 * events only in the ticket's requester's name, so it cannot forge one from an agent. Customers
 * never change or delete an event: the thread is history. Agents may update one only because
 * erasure (an admin's confirmation) replaces a requester's name in their status changes.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    alter table tickets add column resolved_at timestamptz;
    -- Tickets are under forced row-level security: the data step runs in the system scope.
    -- Tickets resolved before this migration count from their last change.
    select set_config('app.scope', 'system', true);
    update tickets set resolved_at = updated_at where status = 'resolved';

    create table ticket_events (
      workspace_id uuid not null,
      id uuid not null default gen_random_uuid(),
      ticket_id uuid not null,
      actor_kind text not null check (actor_kind in ('requester', 'agent')),
      requester_id uuid,
      user_id uuid,
      actor_name text not null,
      from_status text not null check (from_status in ('open', 'pending', 'resolved', 'closed')),
      to_status text not null check (to_status in ('open', 'pending', 'resolved', 'closed')),
      created_at timestamptz not null,
      primary key (workspace_id, id),
      foreign key (workspace_id, ticket_id) references tickets (workspace_id, id) on delete cascade,
      check ((actor_kind = 'requester') = (requester_id is not null)),
      check ((actor_kind = 'agent') = (user_id is not null)),
      check (from_status <> to_status)
    );
    create index ticket_events_thread on ticket_events (workspace_id, ticket_id, created_at, id);

    alter table ticket_events enable row level security;
    alter table ticket_events force row level security;
    create policy ticket_events_system on ticket_events using (app_scope() = 'system');
    create policy ticket_events_agent on ticket_events for select
      using (workspace_id = app_scoped_workspace_id('agent'));
    create policy ticket_events_agent_insert on ticket_events for insert
      with check (workspace_id = app_scoped_workspace_id('agent'));
    create policy ticket_events_agent_erase on ticket_events for update
      using (workspace_id = app_scoped_workspace_id('agent'));
    create policy ticket_events_requester on ticket_events for select
      using (app_scope() = 'requester' and workspace_id = app_scoped_workspace_id('requester')
             and exists (select 1 from tickets t
                         where t.workspace_id = ticket_events.workspace_id
                           and t.id = ticket_events.ticket_id));
    create policy ticket_events_visitor on ticket_events for select
      using (workspace_id = app_scoped_workspace_id('visitor')
             and ticket_id = any (app_scoped_ticket_ids()));
    -- The tickets subquery runs under the tickets' own policies: only a ticket this scope holds,
    -- and only in its requester's name.
    create policy ticket_events_customer_insert on ticket_events for insert
      with check (app_scope() in ('requester', 'visitor') and workspace_id = app_workspace_id()
                  and actor_kind = 'requester'
                  and exists (select 1 from tickets t
                              where t.workspace_id = ticket_events.workspace_id
                                and t.id = ticket_events.ticket_id
                                and t.requester_id = ticket_events.requester_id));
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    drop table ticket_events;
    alter table tickets drop column resolved_at;
  `);
}
