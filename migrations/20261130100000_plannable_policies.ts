import type { Knex } from 'knex';

/**
 * The same row-level security, written so the planner can estimate it. Each policy used to test
 * `app_scope() = '…'` beside its row conditions; the planner cannot know that comparison and
 * guessed that almost no row would pass, so a requester's 1,000 tickets were all fetched and
 * sorted to show 25 (5 ms instead of 0.1 ms). Now the scope is folded into the value a column
 * is compared with: `workspace_id = app_scoped_workspace_id('agent')` is NULL, so no row, in any
 * other scope, and for the planner it is a plain `column = value` whose value it can look up
 * when it plans the query. Who sees which rows does not change.
 *
 * A policy with a subquery keeps the plain `app_scope() = '…'` test in front: a false AND stops
 * there, where a NULL comparison would go on to run the subquery (a scan of every ticket) for
 * each row in every other scope. The visitor's subquery is a correlated EXISTS (an index probe
 * per row) rather than `id in (select …)`, whose hashed plan the planner costs as a scan of
 * every ticket and which so turned every join to requesters into a hash join over all of them.
 */
const scopedFunctions = `
  create function app_scoped_workspace_id(kind text) returns uuid language sql stable
    as $$ select case when app_scope() = kind then app_workspace_id() end $$;
  create function app_scoped_requester_id() returns uuid language sql stable
    as $$ select case when app_scope() = 'requester' then app_requester_id() end $$;
  create function app_scoped_ticket_ids() returns uuid[] language sql stable
    as $$ select case when app_scope() = 'visitor' then app_ticket_ids() end $$;
`;

const plannable: Record<string, [table: string, using: string]> = {
  requesters_agent: [
    'requesters',
    `workspace_id = app_scoped_workspace_id('agent') or workspace_id = app_scoped_workspace_id('signin')`,
  ],
  requesters_self: [
    'requesters',
    `workspace_id = app_scoped_workspace_id('requester') and id = app_scoped_requester_id()`,
  ],
  requesters_visitor: [
    'requesters',
    `app_scope() = 'visitor' and workspace_id = app_scoped_workspace_id('visitor')
     and exists (select 1 from tickets t
                 where t.workspace_id = requesters.workspace_id and t.requester_id = requesters.id
                   and t.id = any (app_scoped_ticket_ids()))`,
  ],
  users_agent: ['users', `workspace_id = app_scoped_workspace_id('agent')`],
  users_signin: ['users', `workspace_id = app_scoped_workspace_id('signin')`],
  login_tokens_signin: ['login_tokens', `workspace_id = app_scoped_workspace_id('signin')`],
  tickets_agent: ['tickets', `workspace_id = app_scoped_workspace_id('agent')`],
  tickets_requester: [
    'tickets',
    `workspace_id = app_scoped_workspace_id('requester') and requester_id = app_scoped_requester_id()`,
  ],
  tickets_visitor: [
    'tickets',
    `workspace_id = app_scoped_workspace_id('visitor') and id = any (app_scoped_ticket_ids())`,
  ],
  messages_agent: ['messages', `workspace_id = app_scoped_workspace_id('agent')`],
  messages_requester: [
    'messages',
    `app_scope() = 'requester' and workspace_id = app_scoped_workspace_id('requester')
     and not internal and exists (select 1 from tickets t
                 where t.workspace_id = messages.workspace_id and t.id = messages.ticket_id)`,
  ],
  messages_visitor: [
    'messages',
    `workspace_id = app_scoped_workspace_id('visitor') and not internal
     and ticket_id = any (app_scoped_ticket_ids())`,
  ],
};

/** The definitions of the first two migrations, for `down`. */
const original: Record<string, string> = {
  requesters_agent: `app_scope() in ('agent', 'signin') and workspace_id = app_workspace_id()`,
  requesters_self: `app_scope() = 'requester' and workspace_id = app_workspace_id() and id = app_requester_id()`,
  requesters_visitor: `app_scope() = 'visitor' and workspace_id = app_workspace_id()
    and id in (select requester_id from tickets where id = any (app_ticket_ids()))`,
  users_agent: `app_scope() = 'agent' and workspace_id = app_workspace_id()`,
  users_signin: `app_scope() = 'signin' and workspace_id = app_workspace_id()`,
  login_tokens_signin: `app_scope() = 'signin' and workspace_id = app_workspace_id()`,
  tickets_agent: `app_scope() = 'agent' and workspace_id = app_workspace_id()`,
  tickets_requester: `app_scope() = 'requester' and workspace_id = app_workspace_id()
    and requester_id = app_requester_id()`,
  tickets_visitor: `app_scope() = 'visitor' and workspace_id = app_workspace_id()
    and id = any (app_ticket_ids())`,
  messages_agent: `app_scope() = 'agent' and workspace_id = app_workspace_id()`,
  messages_requester: `app_scope() = 'requester' and workspace_id = app_workspace_id() and not internal
    and exists (select 1 from tickets t
                where t.workspace_id = messages.workspace_id and t.id = messages.ticket_id)`,
  messages_visitor: `app_scope() = 'visitor' and workspace_id = app_workspace_id() and not internal
    and ticket_id = any (app_ticket_ids())`,
};

export async function up(knex: Knex): Promise<void> {
  await knex.raw(scopedFunctions);
  for (const [policy, [table, using]] of Object.entries(plannable)) {
    await knex.raw(`alter policy ${policy} on ${table} using (${using})`);
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const [policy, [table]] of Object.entries(plannable)) {
    await knex.raw(`alter policy ${policy} on ${table} using (${original[policy]})`);
  }
  await knex.raw(`
    drop function app_scoped_workspace_id(text);
    drop function app_scoped_requester_id();
    drop function app_scoped_ticket_ids();
  `);
}
