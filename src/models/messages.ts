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

/** The thread oldest first. Customer-facing callers pass includeInternal: false. */
export async function listThread(
  trx: Trx,
  input: { workspaceId: string; ticketId: string; includeInternal: boolean },
): Promise<Message[]> {
  const query = trx('messages')
    .select<MessageRow[]>(columns)
    .where({ workspace_id: input.workspaceId, ticket_id: input.ticketId });
  if (!input.includeInternal) query.where({ internal: false });
  const rows = await query.orderBy([
    { column: 'created_at', order: 'asc' },
    { column: 'id', order: 'asc' },
  ]);
  return rows.map(toMessage);
}
