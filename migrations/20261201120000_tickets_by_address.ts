import type { Knex } from 'knex';

/**
 * The agent inbox's search by requester address, as one function (models/ticket-search.ts calls
 * it for one page of results).
 *
 * As a join of tickets and requesters in the search's statement it read every ticket of the
 * matching requesters and sorted them to show a page: 1,000 for a busy customer's address (2 ms),
 * 76,000 for a fragment that two busy customers share (0.1 s). When few requesters match, each
 * one's newest tickets are read in order from the requester's activity index instead, a page at
 * most each. When many match (a common fragment, such as the domain), that would be a probe per
 * requester, so the join walks the activity index as before. Which it is, is known only once
 * their addresses are counted: the count (at most FEW + 1) and the join are planned afresh for
 * the fragment, as the statement was; the per-requester reading is the same plan for any.
 *
 * Planning the join in every search statement cost a third of a search's planning, even when the
 * fragment matched no address: the statement now plans a function call instead (0.6 → 0.4 ms),
 * and counting the matching addresses inside costs about what that saved.
 *
 * The function reads under the caller's own row-level security (it is not a security definer):
 * an agent sees their own workspace's requesters and tickets, and nothing else, exactly as the
 * join did.
 */
const FEW = 100;
const MAX_UUID = 'ffffffff-ffff-ffff-ffff-ffffffffffff';

const COLUMNS = `t.id, t.workspace_id, t.number, t.requester_id, t.subject, t.status, t.created_at,
  t.last_activity_at, t.last_reply_at, t.rating, t.rating_comment, t.rated_at, t.held_since,
  t.resolved_at`;

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create function app_tickets_by_address(
      p_workspace_id uuid, p_pattern text, p_status text, p_after_at timestamptz,
      p_after_id uuid, p_limit integer)
    returns table (
      id uuid, workspace_id uuid, number integer, requester_id uuid, subject text, status text,
      created_at timestamptz, last_activity_at timestamptz, last_reply_at timestamptz,
      rating smallint, rating_comment text, rated_at timestamptz, held_since timestamptz,
      resolved_at timestamptz, requester_name text, requester_email text)
    language plpgsql stable rows ${FEW}
    -- The statements written out below read one requester's index the same way for any values:
    -- planned once a connection, not on every call (left to choose, PostgreSQL kept planning
    -- them afresh, a fifth of a millisecond each time). The two run through EXECUTE are planned
    -- for their values every time whatever this says.
    set plan_cache_mode = force_generic_plan
    as $$
    #variable_conflict use_column
    declare
      matching uuid[];
      -- The first page's cursor is past every ticket, so one plan serves every page and starts
      -- its index scan at the cursor. (Written as coalesce() in the statement, the comparison
      -- was no longer one the index could take under row-level security.)
      after_at timestamptz := coalesce(p_after_at, 'infinity');
      after_id uuid := coalesce(p_after_id, '${MAX_UUID}');
    begin
      -- The pattern's own plan: a trigram index for a rare fragment, a scan that stops at
      -- ${FEW + 1} for a common one.
      execute 'select array(select r.id from requesters r
                             where r.workspace_id = $1 and r.email ilike $2 escape ''\\''
                             limit ${FEW + 1})'
        into matching using p_workspace_id, p_pattern;
      if cardinality(matching) = 0 then
        return;
      end if;
      if cardinality(matching) > ${FEW} then
        return query execute
          'select ${COLUMNS}, r.name, r.email
             from tickets t
             join requesters r on r.workspace_id = t.workspace_id and r.id = t.requester_id
            where t.workspace_id = $1 and t.held_since is null and r.email ilike $2 escape ''\\''
              and ($3::text is null or t.status = $3)
              and ($4::timestamptz is null or (t.last_activity_at, t.id) < ($4, $5))
            order by t.last_activity_at desc, t.id desc
            limit $6'
          using p_workspace_id, p_pattern, p_status, p_after_at, p_after_id, p_limit;
        return;
      end if;
      return query
        select ${COLUMNS}, r.name, r.email
          from requesters r
          cross join lateral (
            select ${COLUMNS} from tickets t
             where t.workspace_id = r.workspace_id and t.requester_id = r.id
               and (t.last_activity_at, t.id) < (after_at, after_id)
               and t.held_since is null and (p_status is null or t.status = p_status)
             order by t.last_activity_at desc, t.id desc
             limit p_limit) t
         where r.workspace_id = p_workspace_id and r.id = any (matching)
         order by t.last_activity_at desc, t.id desc
         limit p_limit;
    end $$;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    drop function app_tickets_by_address(uuid, text, text, timestamptz, uuid, integer);
  `);
}
