import type { Knex } from 'knex';

/**
 * The whole first schema. Tenant tables are keyed (workspace_id, id) and every foreign key between
 * them includes workspace_id, so they can be sharded by workspace unchanged. Row-level security is
 * forced on each of them: the app role owns the tables, and owners are exempt unless FORCE is set.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create function app_scope() returns text language sql stable
      as $$ select coalesce(current_setting('app.scope', true), '') $$;
    create function app_workspace_id() returns uuid language sql stable
      as $$ select nullif(current_setting('app.workspace_id', true), '')::uuid $$;
    create function app_requester_id() returns uuid language sql stable
      as $$ select nullif(current_setting('app.requester_id', true), '')::uuid $$;
    create function app_ticket_ids() returns uuid[] language sql stable
      as $$ select coalesce(nullif(current_setting('app.ticket_ids', true), '')::uuid[], '{}') $$;

    create table workspaces (
      id uuid primary key default gen_random_uuid(),
      slug text not null unique check (slug ~ '^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9]){0,1}$'),
      name text not null check (length(name) between 1 and 100),
      portal_enabled boolean not null default false,
      primary_color text not null default '#1d70b8' check (primary_color ~ '^#[0-9a-f]{6}$'),
      logo bytea,
      logo_type text check (logo_type in ('image/png', 'image/jpeg', 'image/webp')),
      logo_version integer not null default 0,
      ticket_seq integer not null default 1000,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    );

    create table requesters (
      workspace_id uuid not null references workspaces (id) on delete cascade,
      id uuid not null default gen_random_uuid(),
      email text not null check (email = lower(email) and length(email) <= 254),
      name text not null default '',
      created_at timestamptz not null default now(),
      primary key (workspace_id, id),
      unique (workspace_id, email)
    );

    create table users (
      workspace_id uuid not null references workspaces (id) on delete cascade,
      id uuid not null default gen_random_uuid(),
      email text not null check (email = lower(email) and length(email) <= 254),
      name text not null,
      role text not null check (role in ('admin', 'agent')),
      password_hash text not null,
      created_at timestamptz not null default now(),
      primary key (workspace_id, id),
      unique (workspace_id, email)
    );

    create table login_tokens (
      workspace_id uuid not null references workspaces (id) on delete cascade,
      id uuid not null default gen_random_uuid(),
      email text not null,
      token_hash bytea,
      expires_at timestamptz not null,
      used_at timestamptz,
      created_at timestamptz not null default now(),
      primary key (workspace_id, id),
      unique (workspace_id, token_hash),
      check ((used_at is null) = (token_hash is not null))
    );

    create table tickets (
      workspace_id uuid not null references workspaces (id) on delete cascade,
      id uuid not null default gen_random_uuid(),
      number integer not null,
      requester_id uuid not null,
      subject text not null,
      status text not null default 'open' check (status in ('open', 'pending', 'resolved', 'closed')),
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      last_activity_at timestamptz not null default now(),
      last_reply_at timestamptz,
      rating smallint check (rating between 1 and 5),
      rating_comment text,
      rated_at timestamptz,
      primary key (workspace_id, id),
      unique (workspace_id, number),
      foreign key (workspace_id, requester_id) references requesters (workspace_id, id)
    );
    create index tickets_requester_activity
      on tickets (workspace_id, requester_id, last_activity_at desc, id desc);
    create index tickets_activity on tickets (workspace_id, last_activity_at desc, id desc);

    create table messages (
      workspace_id uuid not null,
      id uuid not null default gen_random_uuid(),
      ticket_id uuid not null,
      author_kind text not null check (author_kind in ('requester', 'agent')),
      requester_id uuid,
      user_id uuid,
      author_name text not null,
      body text not null,
      internal boolean not null default false,
      created_at timestamptz not null default now(),
      primary key (workspace_id, id),
      foreign key (workspace_id, ticket_id) references tickets (workspace_id, id) on delete cascade,
      check (not internal or author_kind = 'agent')
    );
    create index messages_thread on messages (workspace_id, ticket_id, created_at, id);

    create table mail_outbox (
      id uuid primary key default gen_random_uuid(),
      workspace_id uuid references workspaces (id) on delete cascade,
      sealed bytea,
      attempts integer not null default 0,
      next_attempt_at timestamptz not null default now(),
      sent_at timestamptz,
      last_error text,
      created_at timestamptz not null default now()
    );
    create index mail_outbox_due on mail_outbox (next_attempt_at) where sent_at is null;

    create table portal_sessions (
      sid varchar not null primary key,
      sess json not null,
      expire timestamp(6) not null
    );
    create index portal_sessions_expire on portal_sessions (expire);
    create table admin_sessions (
      sid varchar not null primary key,
      sess json not null,
      expire timestamp(6) not null
    );
    create index admin_sessions_expire on admin_sessions (expire);

    create table rate_limits (
      key varchar(255) primary key,
      points integer not null default 0,
      expire bigint
    );
  `);

  // Row-level security: every tenant table, forced, with one policy per scope. No scope: no rows.
  for (const table of [
    'requesters',
    'users',
    'login_tokens',
    'tickets',
    'messages',
    'mail_outbox',
  ]) {
    await knex.raw(`
      alter table ${table} enable row level security;
      alter table ${table} force row level security;
      create policy ${table}_system on ${table} using (app_scope() = 'system');
    `);
  }
  await knex.raw(`
    create policy requesters_agent on requesters
      using (app_scope() in ('agent', 'signin') and workspace_id = app_workspace_id());
    create policy requesters_self on requesters
      using (app_scope() = 'requester' and workspace_id = app_workspace_id() and id = app_requester_id());
    create policy requesters_visitor on requesters for select
      using (app_scope() = 'visitor' and workspace_id = app_workspace_id()
             and id in (select requester_id from tickets where id = any (app_ticket_ids())));

    create policy users_agent on users
      using (app_scope() = 'agent' and workspace_id = app_workspace_id());

    create policy login_tokens_signin on login_tokens
      using (app_scope() = 'signin' and workspace_id = app_workspace_id());

    create policy tickets_agent on tickets
      using (app_scope() = 'agent' and workspace_id = app_workspace_id());
    create policy tickets_requester on tickets
      using (app_scope() = 'requester' and workspace_id = app_workspace_id()
             and requester_id = app_requester_id());
    create policy tickets_visitor on tickets
      using (app_scope() = 'visitor' and workspace_id = app_workspace_id()
             and id = any (app_ticket_ids()));

    create policy messages_agent on messages
      using (app_scope() = 'agent' and workspace_id = app_workspace_id());
    create policy messages_requester on messages
      using (app_scope() = 'requester' and workspace_id = app_workspace_id() and not internal
             and exists (select 1 from tickets t
                         where t.workspace_id = messages.workspace_id and t.id = messages.ticket_id));
    create policy messages_visitor on messages
      using (app_scope() = 'visitor' and workspace_id = app_workspace_id() and not internal
             and ticket_id = any (app_ticket_ids()));

    -- Any scoped unit of work may queue mail for its own workspace, but only the system
    -- scope (the mail worker) can read the queue back: the sealed bodies hold sign-in links.
    create policy mail_outbox_enqueue on mail_outbox for insert
      with check (app_scope() <> '' and workspace_id = app_workspace_id());
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    drop table if exists rate_limits, admin_sessions, portal_sessions, mail_outbox, messages,
      tickets, login_tokens, users, requesters, workspaces cascade;
    drop function if exists app_scope(), app_workspace_id(), app_requester_id(), app_ticket_ids();
  `);
}
