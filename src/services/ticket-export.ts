import { Readable } from 'node:stream';
import { stringify, type Stringifier } from 'csv-stringify';
import type { ListedTicket } from '../models/ticket-search';
import type { TicketStatus } from '../models/tickets';
import { formatReference } from './references';

export const exportColumns = [
  'Reference',
  'Subject',
  'Requester name',
  'Requester email',
  'Status',
  'Created',
  'Last reply',
  'CSAT rating',
  'CSAT comment',
  'Rated at',
] as const;

const statusLabels: Record<TicketStatus, string> = {
  open: 'Open',
  pending: 'Pending',
  resolved: 'Resolved',
  closed: 'Closed',
};

// A spreadsheet runs a cell starting with one of these as a formula (tab and CR too, after
// trimming); the full-width forms count as well in some apps.
const FORMULA_START = /^[=+\-@\t\r\uff1d\uff0b\uff0d\uff20]/;

/** Formula injection: a cell a spreadsheet would evaluate gets a leading `'`, which shows it as text. */
export function neutralise(cell: string): string {
  return FORMULA_START.test(cell) ? `'${cell}` : cell;
}

function time(value: Date | null): string {
  return value ? value.toISOString() : '';
}

/** One CSV record, in the order of exportColumns. Every text a person typed is neutralised. */
export function exportRow(slug: string, ticket: ListedTicket): string[] {
  return [
    formatReference(slug, ticket.number),
    neutralise(ticket.subject),
    neutralise(ticket.requesterName),
    neutralise(ticket.requesterEmail),
    statusLabels[ticket.status],
    time(ticket.createdAt),
    time(ticket.lastReplyAt),
    ticket.rating === null ? '' : String(ticket.rating),
    neutralise(ticket.ratingComment ?? ''),
    time(ticket.ratedAt),
  ];
}

/** The records of an export, one per ticket, pulled from the database as the response drains. */
export function exportRecords(slug: string, tickets: AsyncIterable<ListedTicket>): Readable {
  async function* records(): AsyncGenerator<string[]> {
    for await (const ticket of tickets) yield exportRow(slug, ticket);
  }
  return Readable.from(records());
}

/**
 * RFC 4180 text: CRLF after every record, fields with a comma, quote or line break quoted, quotes
 * doubled; a UTF-8 byte order mark first so spreadsheet apps read the accents right; the header
 * row even when no ticket matches.
 */
export function csvStringifier(): Stringifier {
  return stringify({
    bom: true,
    header: true,
    columns: [...exportColumns],
    record_delimiter: '\r\n',
    quoted_match: /[\r\n]/,
  });
}

/** e.g. acme-tickets-2026-11-25.csv (the date in UTC). */
export function exportFilename(slug: string, at: Date): string {
  return `${slug}-tickets-${at.toISOString().slice(0, 10)}.csv`;
}
