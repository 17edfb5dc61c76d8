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

export interface MessageRow {
  id: string;
  ticket_id: string;
  author_kind: 'requester' | 'agent';
  author_name: string;
  body: string;
  internal: boolean;
  created_at: Date;
}

export const messageColumns = [
  'id',
  'ticket_id',
  'author_kind',
  'author_name',
  'body',
  'internal',
  'created_at',
];

export function toMessage(row: MessageRow): Message {
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
    .returning<MessageRow[]>(messageColumns);
  return toMessage(row as MessageRow);
}

/** The public messages of the given tickets, each thread oldest first: for a data export. */
export async function listPublicOfTickets(
  trx: Trx,
  workspaceId: string,
  ticketIds: readonly string[],
): Promise<Message[]> {
  if (ticketIds.length === 0) return [];
  const rows = await trx('messages')
    .select<MessageRow[]>(messageColumns)
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

/** Whether the message is on the ticket and this scope sees it. */
export async function isOnTicket(
  trx: Trx,
  input: { workspaceId: string; ticketId: string; messageId: string },
): Promise<boolean> {
  const row = await trx('messages')
    .select<{ id: string }[]>('id')
    .where({ workspace_id: input.workspaceId, ticket_id: input.ticketId, id: input.messageId })
    .first();
  return row !== undefined;
}

/** A ticket's opening message (the one its first files belong to). */
export async function firstOfTicket(
  trx: Trx,
  workspaceId: string,
  ticketId: string,
): Promise<Message | undefined> {
  const row = await trx('messages')
    .select<MessageRow[]>(messageColumns)
    .where({ workspace_id: workspaceId, ticket_id: ticketId })
    .orderBy([
      { column: 'created_at', order: 'asc' },
      { column: 'id', order: 'asc' },
    ])
    .first();
  return row ? toMessage(row) : undefined;
}
