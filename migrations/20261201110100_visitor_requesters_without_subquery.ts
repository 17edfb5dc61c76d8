import type { Knex } from 'knex';

/**
 * A visitor (an anonymous ticket's session) sees the requesters of its own tickets. The policy
 * said so with an `exists` subquery on tickets, and PostgreSQL plans that subquery, row-level
 * security of tickets and all, wherever requesters are read in any scope, though it only ever runs
 * for visitors: a sixth of the planning of an inbox search. Here the same set comes from a
 * PL/pgSQL function, which the planner does not look into, called only once the scope is known to
 * be a visitor's.
 *
 * The function reads tickets under the caller's own row-level security (it is not a security
 * definer), so it finds the visitor's tickets and no others, exactly as the subquery did.
 */
const SCOPE = `coalesce(current_setting('app.scope', true), '')`;
const WORKSPACE = `nullif(current_setting('app.workspace_id', true), '')::uuid`;
const TICKET_IDS = `coalesce(nullif(current_setting('app.ticket_ids', true), '')::uuid[], '{}')`;
const VISITOR_WORKSPACE = `(case when ${SCOPE} = 'visitor' then ${WORKSPACE} end)`;

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create function app_visitor_requester_ids() returns uuid[] language plpgsql stable as $$
    declare
      ticket_ids uuid[] := ${TICKET_IDS};
    begin
      -- Any other scope gets nothing, at once: the planner calls this while it estimates, in
      -- every scope, even where the policy would never get as far as calling it.
      if ${SCOPE} <> 'visitor' or ticket_ids = '{}' then
        return '{}';
      end if;
      return array(select t.requester_id from tickets t
                    where t.workspace_id = ${WORKSPACE} and t.id = any (ticket_ids));
    end $$;
    alter policy requesters_visitor on requesters using (
      ${SCOPE} = 'visitor' and workspace_id = ${VISITOR_WORKSPACE}
      and id = any (app_visitor_requester_ids()));
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    alter policy requesters_visitor on requesters using (
      ${SCOPE} = 'visitor' and workspace_id = ${VISITOR_WORKSPACE}
      and exists (select 1 from tickets t
                   where t.workspace_id = requesters.workspace_id and t.requester_id = requesters.id
                     and t.id = any (case when ${SCOPE} = 'visitor' then ${TICKET_IDS} end)));
    drop function app_visitor_requester_ids();
  `);
}
