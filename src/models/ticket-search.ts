import type { Trx } from '../db/knex';
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

function toListedTicket(row: ListedTicketRow): ListedTicket {
  return {
    ...toTicket(row),
    requesterName: row.requester_name,
    requesterEmail: row.requester_email,
  };
}

/** The search text is data, not a pattern: `%`, `_` and the escape character itself match literally. */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** Newest activity first; the id breaks ties so keyset pages neither skip nor repeat a ticket. */
function searchQuery(trx: Trx, workspaceId: string, search: TicketSearch, after?: ActivityCursor) {
  const query = trx({ t: 'tickets' })
    .join({ r: 'requesters' }, (on) => {
      on.on('r.workspace_id', '=', 't.workspace_id').andOn('r.id', '=', 't.requester_id');
    })
    .select(columns)
    .where('t.workspace_id', workspaceId);
  if (search.status) query.where('t.status', search.status);
  const text = search.query;
  if (text) {
    const pattern = `%${escapeLike(text.text)}%`;
    query.where((match) => {
      match
        .whereRaw(`t.subject ilike ? escape '\\'`, [pattern])
        .orWhereRaw(`r.email ilike ? escape '\\'`, [pattern]);
      if (text.number !== undefined) match.orWhere('t.number', text.number);
    });
  }
  if (after) query.whereRaw('(t.last_activity_at, t.id) < (?, ?)', [after.at, after.id]);
  return query.orderBy([
    { column: 't.last_activity_at', order: 'desc' },
    { column: 't.id', order: 'desc' },
  ]);
}

/** One inbox page (keyset): ask for one more than a page to learn whether an older page exists. */
export async function listPage(
  trx: Trx,
  input: { workspaceId: string; search: TicketSearch; after?: ActivityCursor; limit: number },
): Promise<ListedTicket[]> {
  const rows = await searchQuery(trx, input.workspaceId, input.search, input.after).limit(
    input.limit,
  );
  return (rows as ListedTicketRow[]).map(toListedTicket);
}

const EXPORT_CURSOR = 'ticket_export';

/**
 * Every matching ticket, read through a server-side cursor in batches, so memory stays flat
 * however many tickets the workspace has. (knex's `.stream()` would need the pg-query-stream
 * package; a cursor needs nothing more than the transaction.) The cursor lives and dies with the
 * transaction: call this inside `withScope` and finish (or abandon) the iteration before it ends.
 */
export async function openExportCursor(
  trx: Trx,
  input: { workspaceId: string; search: TicketSearch; batchSize?: number },
): Promise<AsyncGenerator<ListedTicket>> {
  const batchSize = Math.max(1, Math.floor(input.batchSize ?? 1000));
  const { sql, bindings } = searchQuery(trx, input.workspaceId, input.search).toSQL();
  await trx.raw(`declare ${EXPORT_CURSOR} no scroll cursor for ${sql}`, bindings);
  return readCursor(trx, batchSize);
}

async function* readCursor(trx: Trx, batchSize: number): AsyncGenerator<ListedTicket> {
  for (;;) {
    // FETCH takes no bind parameters; batchSize is an integer computed above, never user input.
    const result = await trx.raw<{ rows: ListedTicketRow[] }>(
      `fetch forward ${batchSize} from ${EXPORT_CURSOR}`,
    );
    for (const row of result.rows) yield toListedTicket(row);
    if (result.rows.length < batchSize) return;
  }
}
