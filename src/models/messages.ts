import type { Trx } from '../db/knex';

export interface Message {
  id: string;
  ticketId: string;
  authorKind: 'requester' | 'agent';
  authorName: string;
  body: string;
  internal: boolean;
  createdAt: Date;
}

interface MessageRow {
  id: string;
  ticket_id: string;
  author_kind: 'requester' | 'agent';
  author_name: string;
  body: string;
  internal: boolean;
  created_at: Date;
}

const columns = ['id', 'ticket_id', 'author_kind', 'author_name', 'body', 'internal', 'created_at'];

function toMessage(row: MessageRow): Message {
  return {
    id: row.id,
    ticketId: row.ticket_id,
    authorKind: row.author_kind,
    authorName: row.author_name,
    body: row.body,
    internal: row.internal,
    createdAt: row.created_at,
  };
}

export type MessageAuthor =
  | { kind: 'requester'; requesterId: string; name: string }
  | { kind: 'agent'; userId: string; name: string };

export async function insert(
  trx: Trx,
  input: {
    workspaceId: string;
    ticketId: string;
    author: MessageAuthor;
    body: string;
    internal: boolean;
    at: Date;
  },
): Promise<Message> {
  const [row] = await trx('messages')
    .insert({
      workspace_id: input.workspaceId,
      ticket_id: input.ticketId,
      author_kind: input.author.kind,
      requester_id: input.author.kind === 'requester' ? input.author.requesterId : null,
      user_id: input.author.kind === 'agent' ? input.author.userId : null,
      author_name: input.author.name,
      body: input.body,
      internal: input.internal,
      created_at: input.at,
    })
    .returning<MessageRow[]>(columns);
  return toMessage(row as MessageRow);
}

/** Position in a thread (oldest first), for keyset pages of it. */
export interface ThreadCursor {
  at: Date;
  id: string;
}

/** One page of a thread: its messages oldest first, and where the earlier ones end if any. */
export interface ThreadPage {
  messages: Message[];
  earlier: ThreadCursor | undefined;
}

/**
 * The newest `limit` messages before `before` (or the newest of all), shown oldest first.
 * Customer-facing callers pass includeInternal: false.
 */
export async function listThreadPage(
  trx: Trx,
  input: {
    workspaceId: string;
    ticketId: string;
    includeInternal: boolean;
    before?: ThreadCursor;
    limit: number;
  },
): Promise<ThreadPage> {
  const query = trx('messages')
    .select<MessageRow[]>(columns)
    .where({ workspace_id: input.workspaceId, ticket_id: input.ticketId });
  if (!input.includeInternal) query.where({ internal: false });
  if (input.before) {
    query.whereRaw('(created_at, id) < (?, ?)', [input.before.at, input.before.id]);
  }
  const rows = await query
    .orderBy([
      { column: 'created_at', order: 'desc' },
      { column: 'id', order: 'desc' },
    ])
    .limit(input.limit + 1);
  const page = rows.slice(0, input.limit).reverse().map(toMessage);
  const oldest = page[0];
  return {
    messages: page,
    earlier:
      rows.length > input.limit && oldest ? { at: oldest.createdAt, id: oldest.id } : undefined,
  };
}

/** The public messages of the given tickets, each thread oldest first: for a data export. */
export async function listPublicOfTickets(
  trx: Trx,
  workspaceId: string,
  ticketIds: readonly string[],
): Promise<Message[]> {
  if (ticketIds.length === 0) return [];
  const rows = await trx('messages')
    .select<MessageRow[]>(columns)
    .where({ workspace_id: workspaceId, internal: false })
    .whereRaw('ticket_id = any (?::uuid[])', [[...ticketIds]])
    .orderBy([
      { column: 'ticket_id', order: 'asc' },
      { column: 'created_at', order: 'asc' },
      { column: 'id', order: 'asc' },
    ]);
  return rows.map(toMessage);
}

/**
 * Erasure: every message text of a requester's tickets (public replies and internal notes alike
 * quote and describe them) and the requester's name on their own messages become the
 * placeholder. Agents' names stay: they are not the requester's data.
 */
export async function eraseThreadsOfRequester(
  trx: Trx,
  input: { workspaceId: string; requesterId: string; placeholder: string },
): Promise<void> {
  await trx('messages')
    .where({ workspace_id: input.workspaceId })
    .whereIn(
      'ticket_id',
      trx('tickets')
        .select('id')
        .where({ workspace_id: input.workspaceId, requester_id: input.requesterId }),
    )
    .update({
      body: input.placeholder,
      author_name: trx.raw('case when author_kind = ? then ? else author_name end', [
        'requester',
        input.placeholder,
      ]),
    });
}
