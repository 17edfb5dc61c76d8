import type { Trx } from '../db/knex';
import { queryRows, type Statement } from '../db/statements';
import { rowByKey, textsByShape } from './statement-texts';

export const ticketStatuses = ['open', 'pending', 'resolved', 'closed'] as const;
export type TicketStatus = (typeof ticketStatuses)[number];

export interface Ticket {
  id: string;
  workspaceId: string;
  number: number;
  requesterId: string;
  subject: string;
  status: TicketStatus;
  createdAt: Date;
  lastActivityAt: Date;
  lastReplyAt: Date | null;
  rating: number | null;
  ratingComment: string | null;
  ratedAt: Date | null;
  /** Set while an anonymous ticket waits for its address to be confirmed; null once released. */
  heldSince: Date | null;
  /** When it last became Resolved; null while it is not Resolved. */
  resolvedAt: Date | null;
}

export interface TicketRow {
  id: string;
  workspace_id: string;
  number: number;
  requester_id: string;
  subject: string;
  status: TicketStatus;
  created_at: Date;
  last_activity_at: Date;
  last_reply_at: Date | null;
  rating: number | null;
  rating_comment: string | null;
  rated_at: Date | null;
  held_since: Date | null;
  resolved_at: Date | null;
}

export const ticketColumns = [
  'id',
  'workspace_id',
  'number',
  'requester_id',
  'subject',
  'status',
  'created_at',
  'last_activity_at',
  'last_reply_at',
  'rating',
  'rating_comment',
  'rated_at',
  'held_since',
  'resolved_at',
];

export function toTicket(row: TicketRow): Ticket {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    number: row.number,
    requesterId: row.requester_id,
    subject: row.subject,
    status: row.status,
    createdAt: row.created_at,
    lastActivityAt: row.last_activity_at,
    lastReplyAt: row.last_reply_at,
    rating: row.rating,
    ratingComment: row.rating_comment,
    ratedAt: row.rated_at,
    heldSince: row.held_since,
    resolvedAt: row.resolved_at,
  };
}

/** Position in "newest activity first" order, for keyset pagination. */
export interface ActivityCursor {
  at: Date;
  id: string;
}

/** Which tickets a list may show: the caller's filter, repeated in SQL behind row-level security. */
export type TicketFilter =
  { requesterId: string } | { ticketIds: readonly string[] } | Record<string, never>;

/**
 * A plain list (no search words): the filter's tickets, of one status if given, newest activity
 * first, `limit` from the keyset position `after` on. The same rows as `listableTickets` ordered
 * and limited, written as SQL once per shape and sent past knex's query runner
 * (db/statements.ts): the portal's list is its busiest page. Tests plan this very statement to
 * prove it stays on its index.
 */
export function plainListStatement(input: {
  workspaceId: string;
  filter: TicketFilter;
  status?: TicketStatus;
  after?: ActivityCursor;
  limit: number;
}): Statement {
  const values: unknown[] = [input.workspaceId];
  const by =
    'requesterId' in input.filter ? 'requester' : 'ticketIds' in input.filter ? 'ids' : 'all';
  if ('requesterId' in input.filter) values.push(input.filter.requesterId);
  if ('ticketIds' in input.filter) values.push([...input.filter.ticketIds]);
  if (input.status) values.push(input.status);
  if (input.after) values.push(input.after.at, input.after.id);
  values.push(input.limit);
  return {
    text: plainListSql({
      by,
      status: input.status !== undefined,
      after: input.after !== undefined,
    }),
    values,
  };
}

const plainListSql = textsByShape<{
  by: 'requester' | 'ids' | 'all';
  status: boolean;
  after: boolean;
}>(({ by, status, after }) => {
  let n = 1;
  const conditions = [`workspace_id = $${n}`];
  // A held ticket is the opening visitor's alone (row-level security says so too).
  if (by === 'requester') conditions.push(`requester_id = $${++n}`, 'held_since is null');
  if (by === 'ids') conditions.push(`id = any($${++n}::uuid[])`);
  if (status) conditions.push(`status = $${++n}`);
  if (after) conditions.push(`(last_activity_at, id) < ($${++n}, $${++n})`);
  return `select ${ticketColumns.join(', ')} from tickets
           where ${conditions.join(' and ')}
           order by last_activity_at desc, id desc
           limit $${n + 1}`;
});

/** A plain list's tickets (see plainListStatement). */
export async function listPlain(
  trx: Trx,
  input: Parameters<typeof plainListStatement>[0],
): Promise<Ticket[]> {
  const { text, values } = plainListStatement(input);
  const rows = await queryRows<TicketRow>(trx, text, values, { prepared: true });
  return rows.map(toTicket);
}

/** The order of every ticket list; the id breaks ties so keyset pages neither skip nor repeat. */
export const newestActivityFirst = [
  { column: 'last_activity_at', order: 'desc' },
  { column: 'id', order: 'desc' },
] as const;

/**
 * The tickets a list may show from the keyset position `after` on, unordered and unlimited: the
 * list and the portal's search narrow and order it, so both show exactly the same tickets.
 */
export function listableTickets(
  trx: Trx,
  input: { workspaceId: string; filter: TicketFilter; after?: ActivityCursor },
) {
  const query = trx('tickets')
    .select<TicketRow[]>(ticketColumns)
    .where({ workspace_id: input.workspaceId });
  // A held ticket is the opening visitor's alone (row-level security says so too).
  if ('requesterId' in input.filter) {
    query.where({ requester_id: input.filter.requesterId }).whereNull('held_since');
  }
  if ('ticketIds' in input.filter) query.whereIn('id', [...input.filter.ticketIds]);
  if (input.after) {
    query.whereRaw('(last_activity_at, id) < (?, ?)', [input.after.at, input.after.id]);
  }
  return query;
}

const ticketByNumber = rowByKey<TicketRow>('tickets', ticketColumns, 'number');

export async function findByNumber(
  trx: Trx,
  workspaceId: string,
  number: number,
): Promise<Ticket | undefined> {
  const row = await ticketByNumber(trx, workspaceId, number);
  return row ? toTicket(row) : undefined;
}

/**
 * A ticket by id, its row locked until the transaction ends: replies that arrive at once (by
 * mail) then take their turns, each seeing the status the one before left.
 */
export async function lockById(
  trx: Trx,
  workspaceId: string,
  id: string,
): Promise<Ticket | undefined> {
  const row = await trx('tickets')
    .select<TicketRow[]>(ticketColumns)
    .where({ workspace_id: workspaceId, id })
    .forUpdate()
    .first<TicketRow | undefined>();
  return row ? toTicket(row) : undefined;
}

export async function insert(
  trx: Trx,
  input: {
    workspaceId: string;
    number: number;
    requesterId: string;
    subject: string;
    at: Date;
    /** Chosen by the caller when the scope must name the ticket before it exists (a held one). */
    id?: string;
    held?: boolean;
  },
): Promise<Ticket> {
  const [row] = await trx('tickets')
    .insert({
      id: input.id,
      held_since: input.held ? input.at : null,
      workspace_id: input.workspaceId,
      number: input.number,
      requester_id: input.requesterId,
      subject: input.subject,
      status: 'open',
      created_at: input.at,
      updated_at: input.at,
      last_activity_at: input.at,
      last_reply_at: input.at,
    })
    .returning<TicketRow[]>(ticketColumns);
  return toTicket(row as TicketRow);
}

/**
 * The resolved_at column for an update that sets `status` at `at`: kept while the ticket stays
 * Resolved (setting Resolved again does not move the reopening window), set on becoming Resolved,
 * cleared on leaving it. No status: unchanged.
 */
function resolvedAtFor(trx: Trx, status: TicketStatus | undefined, at: Date) {
  if (status === undefined) return undefined;
  if (status !== 'resolved') return null;
  return trx.raw(
    `case when status = 'resolved' and resolved_at is not null then resolved_at else ? end`,
    [at],
  );
}

/** Records a new public message (and optionally a status change) on the ticket. */
export async function recordReply(
  trx: Trx,
  input: { workspaceId: string; id: string; at: Date; status?: TicketStatus; isPublic: boolean },
): Promise<void> {
  await trx('tickets')
    .where({ workspace_id: input.workspaceId, id: input.id })
    .update({
      status: input.status,
      resolved_at: resolvedAtFor(trx, input.status, input.at),
      updated_at: input.at,
      // A bare internal note leaves the customer-visible order alone: the portal list must not
      // hint at it. A status change is visible, so it counts as activity.
      last_activity_at: input.isPublic || input.status ? input.at : undefined,
      last_reply_at: input.isPublic ? input.at : undefined,
    });
}

export async function setStatus(
  trx: Trx,
  input: { workspaceId: string; id: string; status: TicketStatus; at: Date },
): Promise<void> {
  await trx('tickets')
    .where({ workspace_id: input.workspaceId, id: input.id })
    .update({
      status: input.status,
      resolved_at: resolvedAtFor(trx, input.status, input.at),
      updated_at: input.at,
      last_activity_at: input.at,
    });
}

/**
 * Moves the ticket to `to` only if it is still in one of the `from` statuses (and, given
 * `resolvedAfter`, was resolved after that time), in one UPDATE: of two requests racing, one
 * wins and the other finds no row. Answers the changed ticket, or undefined when the rule no
 * longer holds.
 */
export async function transition(
  trx: Trx,
  input: {
    workspaceId: string;
    id: string;
    from: readonly TicketStatus[];
    to: TicketStatus;
    resolvedAfter?: Date;
    at: Date;
  },
): Promise<Ticket | undefined> {
  const query = trx('tickets')
    .where({ workspace_id: input.workspaceId, id: input.id })
    .whereIn('status', [...input.from]);
  // As the service's rule: a resolution time missing (raw SQL) counts from the last activity.
  if (input.resolvedAfter) {
    query.whereRaw('coalesce(resolved_at, last_activity_at) > ?', [input.resolvedAfter]);
  }
  const [row] = await query
    .update({
      status: input.to,
      resolved_at: resolvedAtFor(trx, input.to, input.at),
      updated_at: input.at,
      last_activity_at: input.at,
    })
    .returning<TicketRow[]>(ticketColumns);
  return row ? toTicket(row) : undefined;
}

export async function setRating(
  trx: Trx,
  input: { workspaceId: string; id: string; rating: number; comment: string | null; at: Date },
): Promise<Ticket | undefined> {
  const [row] = await trx('tickets')
    .where({ workspace_id: input.workspaceId, id: input.id })
    .update({
      rating: input.rating,
      rating_comment: input.comment,
      rated_at: input.at,
      updated_at: input.at,
    })
    .returning<TicketRow[]>(ticketColumns);
  return row ? toTicket(row) : undefined;
}

/** Every ticket of a requester, oldest first: for the export of their data. */
export async function listAllOfRequester(
  trx: Trx,
  workspaceId: string,
  requesterId: string,
): Promise<Ticket[]> {
  const rows = await trx('tickets')
    .select<TicketRow[]>(ticketColumns)
    .where({ workspace_id: workspaceId, requester_id: requesterId })
    .orderBy('number', 'asc');
  return rows.map(toTicket);
}

/**
 * Erasure: the subject and the rating's comment are the requester's words, replaced by the
 * placeholder; number, status, dates and stars stay for statistics. Answers how many tickets.
 */
export async function eraseTextsOfRequester(
  trx: Trx,
  input: { workspaceId: string; requesterId: string; placeholder: string },
): Promise<number> {
  return trx('tickets')
    .where({ workspace_id: input.workspaceId, requester_id: input.requesterId })
    .update({
      subject: input.placeholder,
      rating_comment: trx.raw('case when rating_comment is null then null else ? end', [
        input.placeholder,
      ]),
    });
}

/**
 * Releases a held ticket: it enters the inbox as the newest activity (agents see it when it
 * became theirs to answer), while created_at keeps when the customer wrote it. Undefined when
 * the ticket is gone or was already released.
 */
export async function release(
  trx: Trx,
  input: { workspaceId: string; id: string; at: Date },
): Promise<Ticket | undefined> {
  const [row] = await trx('tickets')
    .where({ workspace_id: input.workspaceId, id: input.id })
    .whereNotNull('held_since')
    .update({ held_since: null, updated_at: input.at, last_activity_at: input.at })
    .returning<TicketRow[]>(ticketColumns);
  return row ? toTicket(row) : undefined;
}

/** Held tickets nobody confirmed since `before`, with their messages and links (cascade). */
export async function deleteHeldBefore(trx: Trx, before: Date): Promise<number> {
  return trx('tickets').whereNotNull('held_since').where('held_since', '<=', before).delete();
}
