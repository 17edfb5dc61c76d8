import { PREPARED } from '../db/deferred-statements';
import type { Trx } from '../db/knex';
import {
  listableTickets,
  listPlain,
  newestActivityFirst,
  toTicket,
  type ActivityCursor,
  type Ticket,
  type TicketFilter,
  type TicketRow,
  type TicketStatus,
} from './tickets';

/** What a customer narrows their ticket list to; every given criterion narrows it further. */
export interface CustomerTicketSearch {
  status?: TicketStatus;
  /**
   * The search box in web-search syntax (words, "a phrase", `or`, `-word`), matched as whole
   * words in the subject or in any one public message; and, when the box read as one of this
   * workspace's references, that ticket number.
   */
  words?: { text: string; number?: number };
}

// The configuration and the subject's expression must be exactly those of the index (migration
// 20261130152000), or PostgreSQL cannot use them. websearch_to_tsquery takes any text without
// a syntax error: input that holds no word becomes an empty query, which matches nothing.
const WORDS = `websearch_to_tsquery('simple'::regconfig, ?)`;
const SUBJECT_MATCHES = `to_tsvector('simple'::regconfig, subject) @@ ${WORDS}`;
const BODY_MATCHES = `to_tsvector('simple'::regconfig, m.body) @@ ${WORDS}`;

type Input = {
  workspaceId: string;
  filter: TicketFilter;
  search: CustomerTicketSearch;
  after?: ActivityCursor;
  limit: number;
};

/**
 * A customer's tickets narrowed by the search, newest activity first, `limit` from `after` on.
 *
 * Words make a union of one query per way a ticket can match (subject, a public message,
 * reference), each ordered and limited by itself, as the agent inbox's search does: PostgreSQL
 * cannot serve an OR across two tables from their indexes, but plans each branch on its own,
 * the subject from its word index when the words are rare and along the requester's activity
 * index when they are common. Internal notes are excluded here as well as by row-level security.
 * (Exported, unrun, for tests that plan it.)
 */
export function customerSearchQuery(
  trx: Trx,
  input: Input & { search: { words: NonNullable<CustomerTicketSearch['words']> } },
) {
  const { search, limit } = input;
  const narrowed = () => {
    const query = listableTickets(trx, input);
    if (search.status) query.where({ status: search.status });
    return query;
  };
  const page = (query: ReturnType<typeof narrowed>) =>
    query.orderBy([...newestActivityFirst]).limit(limit);
  const prepared = <Q extends { options(options: object): Q }>(query: Q) =>
    query.options({ name: PREPARED });
  const words = search.words;
  // OFFSET 0 keeps the subquery a check per ticket: without it PostgreSQL may turn it around and
  // start from every message in the workspace holding a common word. This way a search reads at
  // most the customer's own tickets and their messages, and stops once it has a page.
  const publicMessageMatches = `exists (select 1 from messages m
    where m.workspace_id = tickets.workspace_id and m.ticket_id = tickets.id and not m.internal
      and ${BODY_MATCHES} offset 0)`;
  const branches = [
    page(narrowed().whereRaw(SUBJECT_MATCHES, [words.text])),
    page(narrowed().whereRaw(publicMessageMatches, [words.text])),
  ];
  if (words.number !== undefined) branches.push(page(narrowed().where({ number: words.number })));
  return prepared(
    trx
      .select<TicketRow[]>('*')
      .from(trx.raw(`(${branches.map(() => '?').join(' union ')}) as t`, branches))
      .orderBy([...newestActivityFirst])
      .limit(limit),
  );
}

export async function searchCustomerTickets(trx: Trx, input: Input): Promise<Ticket[]> {
  const { words, status } = input.search;
  if (!words) return listPlain(trx, { ...input, status });
  const rows: TicketRow[] = await customerSearchQuery(trx, { ...input, search: { words, status } });
  return rows.map(toTicket);
}
