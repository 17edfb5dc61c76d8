import type { Knex } from 'knex';

/**
 * The agent inbox's search by subject, for one page (models/ticket-search.ts calls it).
 *
 * A subject search must be planned for its words: a rare one is found through the trigram
 * index, a common one by walking the activity index until a page is full, and no single plan
 * serves both (the one PostgreSQL makes for any words walks the whole workspace for a rare one:
 * a second at a million tickets). In the search's statement that meant planning all of it on
 * every search, branches, joins and row-level security: 0.3–0.4 ms of PostgreSQL's time a search,
 * more than running it. Here only the statement whose plan depends on the words is planned for
 * them, over tickets alone (0.15 ms); the search's own statement, which joins the requesters to
 * at most a page of tickets, keeps one plan for every search (`app_tickets_by_address` answers
 * the address branch the same way).
 *
 * The function reads under the caller's own row-level security (it is not a security definer):
 * an agent sees their own workspace's tickets, and nothing else.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create function app_tickets_by_subject(
      p_workspace_id uuid, p_pattern text, p_status text, p_after_at timestamptz,
      p_after_id uuid, p_limit integer)
    returns table (
      id uuid, workspace_id uuid, number integer, requester_id uuid, subject text, status text,
      created_at timestamptz, last_activity_at timestamptz, last_reply_at timestamptz,
      rating smallint, rating_comment text, rated_at timestamptz, held_since timestamptz,
      resolved_at timestamptz)
    language plpgsql stable rows 25
    as $$
    begin
      -- Planned for these values every time: the nulls fold away, and the pattern's trigrams
      -- weigh against the activity index.
      return query execute
        'select t.id, t.workspace_id, t.number, t.requester_id, t.subject, t.status,
                t.created_at, t.last_activity_at, t.last_reply_at, t.rating, t.rating_comment,
                t.rated_at, t.held_since, t.resolved_at
           from tickets t
          where t.workspace_id = $1 and t.held_since is null
            and t.subject ilike $2 escape ''\\''
            and ($3::text is null or t.status = $3)
            and ($4::timestamptz is null or (t.last_activity_at, t.id) < ($4, $5))
          order by t.last_activity_at desc, t.id desc
          limit $6'
        using p_workspace_id, p_pattern, p_status, p_after_at, p_after_id, p_limit;
    end $$;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    drop function app_tickets_by_subject(uuid, text, text, timestamptz, uuid, integer);
  `);
}
