import type { Trx } from '../db/knex';

/** A file on a message, as threads, downloads and exports describe it. */
export interface Attachment {
  id: string;
  messageId: string;
  name: string;
  contentType: string;
  size: number;
  storageKey: string;
  createdAt: Date;
}

interface AttachmentRow {
  id: string;
  message_id: string;
  name: string;
  content_type: string;
  size: number;
  storage_key: string;
  created_at: Date;
}

const columns = ['id', 'message_id', 'name', 'content_type', 'size', 'storage_key', 'created_at'];
const qualified = columns.map((column) => `a.${column}`);

function toAttachment(row: AttachmentRow): Attachment {
  return {
    id: row.id,
    messageId: row.message_id,
    name: row.name,
    contentType: row.content_type,
    size: row.size,
    storageKey: row.storage_key,
    createdAt: row.created_at,
  };
}

/** An attachment as a query builds it with json_build_object (see ticket-thread.ts). */
export interface AttachmentJson {
  id: string;
  messageId: string;
  name: string;
  contentType: string;
  size: number;
  storageKey: string;
  createdAt: string;
}

export function fromJson(json: AttachmentJson): Attachment {
  // Spelled out: `{ ...json, createdAt }` takes V8's slow path, once per file of every thread page.
  return {
    id: json.id,
    messageId: json.messageId,
    name: json.name,
    contentType: json.contentType,
    size: json.size,
    storageKey: json.storageKey,
    createdAt: new Date(json.createdAt),
  };
}

export async function insert(
  trx: Trx,
  input: {
    workspaceId: string;
    messageId: string;
    position: number;
    name: string;
    contentType: string;
    size: number;
    storageKey: string;
    /** Unset: the database's clock. */
    at?: Date;
  },
): Promise<Attachment> {
  const [row] = await trx('attachments')
    .insert({
      workspace_id: input.workspaceId,
      message_id: input.messageId,
      position: input.position,
      name: input.name,
      content_type: input.contentType,
      size: input.size,
      storage_key: input.storageKey,
      ...(input.at ? { created_at: input.at } : {}),
    })
    .returning<AttachmentRow[]>(columns);
  return toAttachment(row as AttachmentRow);
}

/** The position the message's next file takes (files keep the order they were sent in). */
export async function nextPosition(
  trx: Trx,
  workspaceId: string,
  messageId: string,
): Promise<number> {
  const row = await trx('attachments')
    .where({ workspace_id: workspaceId, message_id: messageId })
    .max<{ max: number | null }>('position as max')
    .first();
  return row?.max === null || row?.max === undefined ? 0 : row.max + 1;
}

/** The files of the given messages that this scope may see, each message's in order. */
export async function listOfMessages(
  trx: Trx,
  workspaceId: string,
  messageIds: readonly string[],
): Promise<Attachment[]> {
  if (messageIds.length === 0) return [];
  const rows = await trx('attachments')
    .select<AttachmentRow[]>(columns)
    .where({ workspace_id: workspaceId })
    .whereRaw('message_id = any (?::uuid[])', [[...messageIds]])
    .orderBy([
      { column: 'message_id', order: 'asc' },
      { column: 'position', order: 'asc' },
    ]);
  return rows.map(toAttachment);
}

/**
 * One file of one ticket, if this scope may see it. Row-level security decides who sees it; the
 * ticket in the URL must also be the file's, so a link cannot be re-pointed at another ticket.
 */
export async function findOnTicket(
  trx: Trx,
  input: { workspaceId: string; ticketId: string; id: string },
): Promise<Attachment | undefined> {
  const row = await trx('attachments as a')
    .join('messages as m', function () {
      this.on('m.workspace_id', 'a.workspace_id').andOn('m.id', 'a.message_id');
    })
    .select<AttachmentRow[]>(qualified)
    .where({ 'a.workspace_id': input.workspaceId, 'a.id': input.id, 'm.ticket_id': input.ticketId })
    .first();
  return row ? toAttachment(row) : undefined;
}

/** Every file on the given tickets this scope may see, oldest first: for a data export. */
export async function listOfTickets(
  trx: Trx,
  workspaceId: string,
  ticketIds: readonly string[],
): Promise<(Attachment & { ticketId: string })[]> {
  if (ticketIds.length === 0) return [];
  const rows = await trx('attachments as a')
    .join('messages as m', function () {
      this.on('m.workspace_id', 'a.workspace_id').andOn('m.id', 'a.message_id');
    })
    .select<(AttachmentRow & { ticket_id: string })[]>([...qualified, 'm.ticket_id'])
    .where({ 'a.workspace_id': workspaceId })
    .whereRaw('m.ticket_id = any (?::uuid[])', [[...ticketIds]])
    .orderBy([
      { column: 'm.ticket_id', order: 'asc' },
      { column: 'm.created_at', order: 'asc' },
      { column: 'a.position', order: 'asc' },
    ]);
  // Not `{ ...toAttachment(row), ticketId }`: a slow path in V8, a row at a time (see ticket-search.ts).
  return rows.map((row) => Object.assign(toAttachment(row), { ticketId: row.ticket_id }));
}

/** Erasure: every file on a requester's tickets (their chunks go with them). */
export async function deleteOfRequester(
  trx: Trx,
  input: { workspaceId: string; requesterId: string },
): Promise<number> {
  return trx('attachments')
    .where({ workspace_id: input.workspaceId })
    .whereIn(
      'message_id',
      trx('messages')
        .select('id')
        .where({ workspace_id: input.workspaceId })
        .whereIn(
          'ticket_id',
          trx('tickets')
            .select('id')
            .where({ workspace_id: input.workspaceId, requester_id: input.requesterId }),
        ),
    )
    .delete();
}

export async function insertChunk(
  trx: Trx,
  input: { workspaceId: string; storageKey: string; seq: number; data: Buffer },
): Promise<void> {
  await trx('attachment_chunks').insert({
    workspace_id: input.workspaceId,
    storage_key: input.storageKey,
    seq: input.seq,
    data: input.data,
  });
}

/** One chunk of a stored file, or undefined past its end (or when this scope may not read it). */
export async function readChunk(
  trx: Trx,
  input: { workspaceId: string; storageKey: string; seq: number },
): Promise<Buffer | undefined> {
  const row = await trx('attachment_chunks')
    .select<{ data: Buffer }[]>('data')
    .where({ workspace_id: input.workspaceId, storage_key: input.storageKey, seq: input.seq })
    .first();
  return row?.data;
}
