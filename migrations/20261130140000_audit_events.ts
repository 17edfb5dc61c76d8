import type { Knex } from 'knex';

/**
 * The audit trail: security events per workspace, append-only for the app. Any scope bound to
 * the workspace may add an event (it is written in the same transaction as the change it
 * describes, whoever makes it); only the system scope may delete (retention); and reading needs
 * the agent scope of a user who is an admin of that workspace right now, so the database itself
 * holds back the trail from agents, and from an admin demoted a moment ago. That needs to know
 * who the agent is: `app.user_id`, set with the agent scope.
 *
 * The admin test does not refer to the row, so PostgreSQL runs it once per query (an InitPlan),
 * not once per event.
 */
const ACTIONS = [
  'portal.signin_link_requested',
  'portal.signin_link_used',
  'portal.ticket_opened_anonymously',
  'agent.signin_succeeded',
  'agent.signin_failed',
  'agent.locked_out',
  'agent.signed_out',
  'module.changed',
  'branding.changed',
  'logo.changed',
  'logo.removed',
  'user.created',
];

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create function app_user_id() returns uuid language sql stable
      as $$ select nullif(current_setting('app.user_id', true), '')::uuid $$;

    create table audit_events (
      workspace_id uuid not null references workspaces (id) on delete cascade,
      id uuid not null default gen_random_uuid(),
      occurred_at timestamptz not null,
      action text not null check (action in (${ACTIONS.map((a) => `'${a}'`).join(', ')})),
      actor_kind text not null check (actor_kind in ('requester', 'user', 'visitor', 'system')),
      actor_id uuid,
      actor_label text not null default '' check (length(actor_label) <= 254),
      subject_id uuid,
      subject_label text not null default '' check (length(subject_label) <= 254),
      ip inet,
      details jsonb not null default '{}' check (octet_length(details::text) <= 2000),
      primary key (workspace_id, id),
      check (actor_id is null or actor_kind in ('requester', 'user'))
    );
    create index audit_events_newest on audit_events (workspace_id, occurred_at desc, id desc);
    create index audit_events_age on audit_events (occurred_at);

    alter table audit_events enable row level security;
    alter table audit_events force row level security;
    create policy audit_events_system on audit_events using (app_scope() = 'system');
    create policy audit_events_record on audit_events for insert
      with check (app_scope() in ('agent', 'signin', 'requester', 'visitor')
                  and workspace_id = app_workspace_id());
    create policy audit_events_admin on audit_events for select
      using (workspace_id = app_scoped_workspace_id('agent')
             and exists (select 1 from users u
                         where u.workspace_id = app_scoped_workspace_id('agent')
                           and u.id = app_user_id() and u.role = 'admin'));
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    drop table audit_events;
    drop function app_user_id();
  `);
}
