import type { Trx } from '../db/knex';
import { queryRows, type Statement } from '../db/statements';
import { textsByShape } from './statement-texts';
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
  const { text, values } = threadPageStatement(input);
  const rows = await queryRows<EntryRow>(trx, text, values, { prepared: true });
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

/**
 * The text of a thread page: $1 workspace, $2 ticket, $3 rows to read (the page and one more),
 * and from an earlier page on, $4 and $5 the keyset position.
 */
const threadPageText = textsByShape<{ includeInternal: boolean; paged: boolean }>(
  ({ includeInternal, paged }) => {
    const before = paged ? ' and (created_at, id) < ($4, $5)' : '';
    /** One table's newest entries for this page, along its (workspace, ticket, time, id) index. */
    const newest = (columns: string, table: string, where: string) =>
      `(select ${columns} from ${table}
       where workspace_id = $1 and ticket_id = $2${where}${before}
       order by created_at desc, id desc limit $3)`;
    // Each message's files in the same statement (a page is one round trip more without them),
    // under the attachments' own row-level security. Only where the message has ever had one
    // (migration 20261201170000): a probe per message, nearly always finding nothing, was about
    // 200 µs of PostgreSQL's CPU a page.
    const messages = newest(
      `'message' as kind, id, ticket_id, author_kind, author_name, body, internal,
     null::text as actor_kind, null::text as actor_name, null::text as from_status,
     null::text as to_status, created_at,
     case when messages.has_files
          then (select coalesce(json_agg(${attachmentJson} order by a.position), '[]'::json)
                  from attachments a
                 where a.workspace_id = messages.workspace_id and a.message_id = messages.id)
          else '[]'::json end as files`,
      'messages',
      includeInternal ? '' : ' and not internal',
    );
    const events = newest(
      `'event' as kind, id, ticket_id, null::text as author_kind, null::text as author_name,
     null::text as body, false as internal, actor_kind, actor_name, from_status, to_status,
     created_at, null::json as files`,
      'ticket_events',
      '',
    );
    return `select * from (${messages} union all ${events}) as entries
           order by created_at desc, id desc limit $3`;
  },
);

/** The statement behind listThreadPage (one row more than the page), unrun: tests plan it. */
export function threadPageStatement(input: ThreadPageInput): Statement {
  const paged = input.before !== undefined;
  const text = threadPageText({ includeInternal: input.includeInternal, paged });
  const values: unknown[] = [input.workspaceId, input.ticketId, input.limit + 1];
  if (input.before) values.push(input.before.at, input.before.id);
  return { text, values };
}
