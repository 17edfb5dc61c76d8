import { DEFER } from '../db/deferred-statements';
import type { Trx } from '../db/knex';
import { queryRows, type Statement } from '../db/statements';
import { textsByShape } from './statement-texts';
import {
  ticketColumns,
  toTicket,
  type ActivityCursor,
  type Ticket,
  type TicketRow,
  type TicketStatus,
} from './tickets';

/** What the agent inbox and the CSV export filter on; every given criterion narrows the list. */
export interface TicketSearch {
  status?: TicketStatus;
  /**
   * The search box: a case-insensitive substring of the subject or of the requester's email,
   * or (when it read as one of this workspace's references) exactly that ticket number.
   */
  query?: { text: string; number?: number };
}

/** A ticket as the agent lists see it: its own columns and who asked. No message bodies. */
export interface ListedTicket extends Ticket {
  requesterName: string;
  requesterEmail: string;
}

interface ListedTicketRow extends TicketRow {
  requester_name: string;
  requester_email: string;
}

const columns = [
  ...ticketColumns.map((column) => `t.${column}`),
  'r.name as requester_name',
  'r.email as requester_email',
];

// Object.assign, not `{ ...toTicket(row), requesterName }`: Node 20's V8 builds a spread followed
// by more properties on a slow path, about 1.6 µs a row here against 0.03 µs (5% of an inbox
// page's CPU in a profile, and 0.16 s of a 100,000-row export).
function toListedTicket(row: ListedTicketRow): ListedTicket {
  return Object.assign(toTicket(row), {
    requesterName: row.requester_name,
    requesterEmail: row.requester_email,
  });
}

/**
 * Characters no stored address holds: the check constraint `requesters_email_unseparated`
 * (migration 20261201130000) refuses exactly these, and a test holds the two to the same set.
 * A search text with one of them cannot match an address, so its search has no address branch.
 */
export const NEVER_IN_AN_ADDRESS = /[ \t\n\r\f\v<>(),;:"]/;

/** The search text is data, not a pattern: `%`, `_` and the escape character itself match literally. */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

const newestFirst = [
  { column: 't.last_activity_at', order: 'desc' },
  { column: 't.id', order: 'desc' },
] as const;

// A page's tickets find their requesters one by one, by primary key. As a join, the inbox's one
// generic plan (see listPage) is made for an average workspace: where most are small, it read
// all of a workspace's requesters once to match them against 26 tickets, which for a large
// workspace meant every one of its requesters on every page. A lateral subquery with a LIMIT
// cannot be turned into a join, so each listed ticket costs one index lookup whatever the
// statistics say. Only the export, which wants every ticket, joins: one pass over each table.
const requesterOfEach = `cross join lateral (
  select name, email from requesters
   where requesters.workspace_id = t.workspace_id and requesters.id = t.requester_id
   limit 1) as r`;

/**
 * The workspace's tickets with their requesters, narrowed by status and the keyset cursor. A
 * page (`paged`) looks up each ticket's requester; a whole list joins them.
 */
function baseQuery(
  trx: Trx,
  workspaceId: string,
  search: TicketSearch,
  after: ActivityCursor | undefined,
  paged: boolean,
  select: readonly string[] = columns,
) {
  const tickets = trx({ t: 'tickets' });
  const query = (
    paged
      ? tickets.joinRaw(requesterOfEach)
      : tickets.join({ r: 'requesters' }, (on) => {
          on.on('r.workspace_id', '=', 't.workspace_id').andOn('r.id', '=', 't.requester_id');
        })
  )
    .select(select)
    .where('t.workspace_id', workspaceId)
    // Held tickets (address not yet confirmed) are not the agents' (row-level security agrees).
    .whereNull('t.held_since');
  if (search.status) query.where('t.status', search.status);
  if (after) query.whereRaw('(t.last_activity_at, t.id) < (?, ?)', [after.at, after.id]);
  return query;
}

/**
 * The text of a page's statement without words (the inbox, a status of it) or of one ticket by
 * number (the agent's ticket page): $1 the workspace, then the status, the keyset position or
 * the number as asked, then the page's size. The same query as `baseQuery` pages, written out
 * (see textsByShape): these run on every agent page.
 */
const pagedText = textsByShape<{ status: boolean; after: boolean; number: boolean }>((by) => {
  let n = 1;
  const conditions = ['t.workspace_id = $1', 't.held_since is null'];
  if (by.status) conditions.push(`t.status = $${++n}`);
  if (by.after) conditions.push(`(t.last_activity_at, t.id) < ($${++n}, $${++n})`);
  if (by.number) conditions.push(`t.number = $${++n}`);
  return `select ${columns.join(', ')} from tickets as t ${requesterOfEach}
           where ${conditions.join(' and ')}
           ${by.number ? '' : 'order by t.last_activity_at desc, t.id desc'}
           limit $${n + 1}`;
});

function pagedStatement(
  workspaceId: string,
  by: { status?: TicketStatus; after?: ActivityCursor; number?: number },
  limit: number,
): Statement {
  const text = pagedText({
    status: by.status !== undefined,
    after: by.after !== undefined,
    number: by.number !== undefined,
  });
  const values: unknown[] = [workspaceId];
  if (by.status) values.push(by.status);
  if (by.after) values.push(by.after.at, by.after.id);
  if (by.number !== undefined) values.push(by.number);
  values.push(limit);
  return { text, values };
}

/**
 * One of the workspace's tickets by number, with who asked: the agent's ticket page shows both,
 * from one statement instead of two. Held tickets are not the agents' (as in every list).
 */
export async function findByNumber(
  trx: Trx,
  workspaceId: string,
  number: number,
): Promise<ListedTicket | undefined> {
  const { text, values } = pagedStatement(workspaceId, { number }, 1);
  const [row] = await queryRows<ListedTicketRow>(trx, text, values, { prepared: true });
  return row ? toListedTicket(row) : undefined;
}

/**
 * Newest activity first; the id breaks ties so keyset pages neither skip nor repeat a ticket.
 *
 * A search is a union of one query per way a ticket can match (subject, requester's address,
 * reference), each ordered and limited by itself: PostgreSQL cannot answer an OR that spans two
 * joined tables from their indexes, but it plans each branch on its own, from a trigram index
 * when the words are rare and along the activity index when they are common. For a page, the
 * subject and address branches are functions of the schema's, which plan only what depends on
 * the words, so the page's own statement has one plan for every search:
 * `app_tickets_by_subject` plans the subject's match over tickets alone; when few requesters
 * match the words, `app_tickets_by_address` reads a page of each one's newest tickets from
 * their own activity index, where a join read and sorted all of them. The export, which wants
 * every match, keeps the joins. (Exported, unrun, for tests that plan it.)
 */
export function searchQuery(
  trx: Trx,
  input: { workspaceId: string; search: TicketSearch; after?: ActivityCursor; limit?: number },
  select: readonly string[] = columns,
) {
  const { workspaceId, search, after, limit } = input;
  const text = search.query;
  if (!text) {
    const query = baseQuery(trx, workspaceId, search, after, limit !== undefined, select).orderBy([
      ...newestFirst,
    ]);
    return limit === undefined ? query : query.limit(limit);
  }
  const pattern = `%${escapeLike(text.text)}%`;
  const branch = (match: (q: ReturnType<typeof baseQuery>) => ReturnType<typeof baseQuery>) => {
    const query = match(baseQuery(trx, workspaceId, search, after, limit !== undefined, select));
    return limit === undefined ? query : query.orderBy([...newestFirst]).limit(limit);
  };
  // A page's branches whose plans depend on the words are functions of the schema (migrations
  // 20261201130000 and 20261201140000 say how and why); they run under the caller's scope.
  const page = (fn: 'app_tickets_by_subject' | 'app_tickets_by_address') =>
    trx.raw(`${fn}(?::uuid, ?::text, ?::text, ?::timestamptz, ?::uuid, ?::integer) as t`, [
      workspaceId,
      pattern,
      search.status ?? null,
      after?.at ?? null,
      after?.id ?? null,
      limit ?? null,
    ]);
  const branches = [
    limit === undefined
      ? branch((q) => q.whereRaw(`t.subject ilike ? escape '\\'`, [pattern]))
      : trx
          .select(columns)
          .from(page('app_tickets_by_subject'))
          .join({ r: 'requesters' }, (on) => {
            on.on('r.workspace_id', '=', 't.workspace_id').andOn('r.id', '=', 't.requester_id');
          }),
  ];
  // A phrase ("long thread") is no part of any address: no address branch to run.
  if (!NEVER_IN_AN_ADDRESS.test(text.text)) {
    branches.push(
      limit === undefined
        ? branch((q) => q.whereRaw(`r.email ilike ? escape '\\'`, [pattern]))
        : trx
            .select([...ticketColumns, 'requester_name', 'requester_email'])
            .from(page('app_tickets_by_address')),
    );
  }
  if (text.number !== undefined) branches.push(branch((q) => q.where('t.number', text.number)));
  const query = trx
    .select('*')
    .from(trx.raw(`(${branches.map(() => '?').join(' union ')}) as t`, branches))
    .orderBy([
      { column: 't.last_activity_at', order: 'desc' },
      { column: 't.id', order: 'desc' },
    ]);
  return limit === undefined ? query : query.limit(limit);
}

/** One inbox page (keyset): ask for one more than a page to learn whether an older page exists. */
export async function listPage(
  trx: Trx,
  input: { workspaceId: string; search: TicketSearch; after?: ActivityCursor; limit: number },
): Promise<ListedTicket[]> {
  // The best plan of a page's statement is the same for every workspace, status and page: down
  // the activity index without words (the status's own, `tickets_status_activity`, for one
  // status), each ticket's requester looked up by key, and with words, joining the requesters to
  // the page that the schema's functions find (they plan what depends on the words). Yet
  // PostgreSQL never settled on one: judged by its estimate for an average workspace, the
  // generic plan looked dearer than planning afresh, so every inbox page paid about a
  // millisecond of planning. Here it plans once per connection (for the rest of this
  // transaction; sent ahead of the list, no round trip of its own).
  await queryRows(trx, `${DEFER}select set_config('plan_cache_mode', 'force_generic_plan', true)`);
  const { text, values } = pageStatement(trx, input);
  const rows = await queryRows<ListedTicketRow>(trx, text, values, { prepared: true });
  return rows.map(toListedTicket);
}

/** The statement of one inbox page (see listPage), unrun: tests plan it and find it prepared. */
export function pageStatement(
  trx: Trx,
  input: { workspaceId: string; search: TicketSearch; after?: ActivityCursor; limit: number },
): Statement {
  if (!input.search.query) {
    return pagedStatement(
      input.workspaceId,
      { status: input.search.status, after: input.after },
      input.limit,
    );
  }
  const { sql, bindings } = searchQuery(trx, input).toSQL().toNative();
  return { text: sql, values: bindings };
}

const EXPORT_CURSOR = 'ticket_export';

/** What the CSV export writes of a ticket. */
export type ExportedTicket = Pick<
  ListedTicket,
  | 'number'
  | 'subject'
  | 'requesterName'
  | 'requesterEmail'
  | 'status'
  | 'createdAt'
  | 'lastReplyAt'
  | 'rating'
  | 'ratingComment'
  | 'ratedAt'
>;

type ExportedTicketRow = Pick<
  ListedTicketRow,
  | 'number'
  | 'subject'
  | 'requester_name'
  | 'requester_email'
  | 'status'
  | 'created_at'
  | 'last_reply_at'
  | 'rating'
  | 'rating_comment'
  | 'rated_at'
>;

// Only what the file holds, and the order's keys: a search's union orders by them, and the id
// keeps it from merging two tickets whose other columns agree. The four columns the file never
// shows (two ids, two timestamps) were work for PostgreSQL to write out and the app to parse.
const exportedColumns = [
  't.id',
  't.number',
  't.subject',
  't.status',
  't.created_at',
  't.last_activity_at',
  't.last_reply_at',
  't.rating',
  't.rating_comment',
  't.rated_at',
  'r.name as requester_name',
  'r.email as requester_email',
];

function toExportedTicket(row: ExportedTicketRow): ExportedTicket {
  return {
    number: row.number,
    subject: row.subject,
    requesterName: row.requester_name,
    requesterEmail: row.requester_email,
    status: row.status,
    createdAt: row.created_at,
    lastReplyAt: row.last_reply_at,
    rating: row.rating,
    ratingComment: row.rating_comment,
    ratedAt: row.rated_at,
  };
}

// The export's sort of a workspace's tickets (100,000 rows: about 20 MB) spilled to disk under
// PostgreSQL's default of 4 MB. Local to the export's transaction: no page ever sorts this much.
const EXPORT_WORK_MEM = '64MB';

/**
 * Every matching ticket, read through a server-side cursor in batches, so memory stays flat
 * however many tickets the workspace has. (knex's `.stream()` would need the pg-query-stream
 * package; a cursor needs nothing more than the transaction.) The cursor lives and dies with the
 * transaction: call this inside `withScope` and finish (or abandon) the iteration before it ends.
 *
 * A cursor is planned for its first tenth (`cursor_tuple_fraction`): for the export that was a
 * walk of the activity index, fetching every ticket's row and requester one by one, 3 s of
 * PostgreSQL for 100,000 tickets. The export reads them all, so it is planned for all of them:
 * one pass over the tickets and one sort in memory, about half of that.
 */
export async function openExportCursor(
  trx: Trx,
  input: { workspaceId: string; search: TicketSearch; batchSize?: number },
): Promise<AsyncGenerator<ExportedTicket[]>> {
  const batchSize = Math.max(1, Math.floor(input.batchSize ?? 1000));
  const { sql, bindings } = searchQuery(trx, input, exportedColumns).toSQL();
  await trx.raw(
    `${DEFER}select set_config('cursor_tuple_fraction', '1', true), set_config('work_mem', '${EXPORT_WORK_MEM}', true)`,
  );
  await trx.raw(`declare ${EXPORT_CURSOR} no scroll cursor for ${sql}`, bindings);
  return readCursor(trx, batchSize);
}

async function* readCursor(trx: Trx, batchSize: number): AsyncGenerator<ExportedTicket[]> {
  // FETCH takes no bind parameters; batchSize is an integer computed above, never user input.
  // `.then` sends it now: a knex builder runs only when something waits on it.
  const fetch = () =>
    trx
      .raw<{ rows: ExportedTicketRow[] }>(`fetch forward ${batchSize} from ${EXPORT_CURSOR}`)
      .then((result) => result.rows);
  let next: Promise<ExportedTicketRow[]> | undefined = fetch();
  try {
    while (next) {
      const rows: ExportedTicketRow[] = await next;
      next = rows.length === batchSize ? fetch() : undefined;
      // A last fetch after a full batch may find nothing: no empty batch is handed out.
      if (rows.length > 0) yield rows.map(toExportedTicket);
    }
  } finally {
    // Abandoned half-way (the client left): the batch asked for ahead is answered before the
    // caller ends the transaction, and its failure, if any, is no one's to report.
    if (next) await next.catch(() => undefined);
  }
}
