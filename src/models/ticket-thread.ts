import { PREPARED } from '../db/deferred-statements';
import type { Trx } from '../db/knex';
import { builtRows } from '../db/statements';
import { fromJson, type Attachment, type AttachmentJson } from './attachments';
import { toMessage, type Message, type MessageRow } from './messages';
import { toTicketEvent, type TicketEvent, type TicketEventRow } from './ticket-events';

/** One line of a thread: a message, or a status change between messages. */
export type ThreadEntry =
  | { kind: 'message'; message: Message; files: Attachment[] }
  | { kind: 'event'; event: TicketEvent };

/** Position in a thread (oldest first), for keyset pages of it: messages and events alike. */
export interface ThreadCursor {
  at: Date;
  id: string;
}

/** One page of a thread: its entries oldest first, and where the earlier ones end if any. */
export interface ThreadPage {
  entries: ThreadEntry[];
  earlier: ThreadCursor | undefined;
}

type EntryRow =
  | (MessageRow & { kind: 'message'; files: AttachmentJson[] })
  | (TicketEventRow & { kind: 'event' });

function toEntry(row: EntryRow): ThreadEntry {
  return row.kind === 'message'
    ? { kind: 'message', message: toMessage(row), files: row.files.map(fromJson) }
    : { kind: 'event', event: toTicketEvent(row) };
}

function entryTime(entry: ThreadEntry): ThreadCursor {
  return entry.kind === 'message'
    ? { at: entry.message.createdAt, id: entry.message.id }
    : { at: entry.event.createdAt, id: entry.event.id };
}

/**
 * The newest `limit` entries before `before` (or the newest of all), shown oldest first. Messages
 * and events share one keyset, (created_at, id), so a page boundary never drops or repeats an
 * event. Each half is read newest first along its own index and cut at the page size before the
 * two are merged. Customer-facing callers pass includeInternal: false.
 */
export async function listThreadPage(trx: Trx, input: ThreadPageInput): Promise<ThreadPage> {
  const rows = await builtRows<EntryRow>(trx, threadPageQuery(trx, input));
  const page = rows.slice(0, input.limit).reverse().map(toEntry);
  const oldest = page[0];
  return {
    entries: page,
    earlier: rows.length > input.limit && oldest ? entryTime(oldest) : undefined,
  };
}

interface ThreadPageInput {
  workspaceId: string;
  ticketId: string;
  includeInternal: boolean;
  before?: ThreadCursor;
  limit: number;
}

const attachmentJson = `json_build_object('id', a.id, 'messageId', a.message_id, 'name', a.name,
  'contentType', a.content_type, 'size', a.size, 'storageKey', a.storage_key,
  'createdAt', a.created_at)`;

/** The query behind listThreadPage (one row more than the page), unrun: tests plan it. */
export function threadPageQuery(trx: Trx, input: ThreadPageInput) {
  const take = input.limit + 1;
  /** One table's newest entries for this page, along its (workspace, ticket, time, id) index. */
  const newest = (
    table: 'messages' | 'ticket_events',
    columns: (string | ReturnType<Trx['raw']>)[],
  ) => {
    const query = trx(table)
      .select(columns)
      .where({ workspace_id: input.workspaceId, ticket_id: input.ticketId });
    if (table === 'messages' && !input.includeInternal) query.where({ internal: false });
    if (input.before) {
      query.whereRaw('(created_at, id) < (?, ?)', [input.before.at, input.before.id]);
    }
    return query
      .orderBy([
        { column: 'created_at', order: 'desc' },
        { column: 'id', order: 'desc' },
      ])
      .limit(take);
  };
  const messages = newest('messages', [
    trx.raw(`'message' as kind`),
    'id',
    'ticket_id',
    'author_kind',
    'author_name',
    'body',
    'internal',
    trx.raw('null::text as actor_kind, null::text as actor_name'),
    trx.raw('null::text as from_status, null::text as to_status'),
    'created_at',
    // Each message's files in the same statement (a page is one round trip more without them),
    // under the attachments' own row-level security. Only where the message has ever had one
    // (migration 20261201170000): a probe per message, nearly always finding nothing, was about
    // 200 µs of PostgreSQL's CPU a page.
    trx.raw(`case when messages.has_files
               then (select coalesce(json_agg(${attachmentJson} order by a.position), '[]'::json)
                       from attachments a
                      where a.workspace_id = messages.workspace_id and a.message_id = messages.id)
               else '[]'::json end
             as files`),
  ]);
  const events = newest('ticket_events', [
    trx.raw(`'event' as kind`),
    'id',
    'ticket_id',
    trx.raw('null::text as author_kind, null::text as author_name, null::text as body'),
    trx.raw('false as internal'),
    'actor_kind',
    'actor_name',
    'from_status',
    'to_status',
    'created_at',
    trx.raw('null::json as files'),
  ]);
  return trx
    .select<EntryRow[]>('*')
    .from(trx.unionAll([messages, events], true).as('entries'))
    .orderBy([
      { column: 'created_at', order: 'desc' },
      { column: 'id', order: 'desc' },
    ])
    .limit(take)
    .options({ name: PREPARED });
}
