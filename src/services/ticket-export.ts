import { Readable } from 'node:stream';
import type { ExportedTicket } from '../models/ticket-search';
import type { TicketStatus } from '../models/tickets';
import { isoString } from './iso-time';
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
  return value ? isoString(value) : '';
}

/** One CSV record, in the order of exportColumns. Every text a person typed is neutralised. */
export function exportRow(slug: string, ticket: ExportedTicket): string[] {
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

// RFC 4180: a field holding a comma, a quote or a line break is quoted (§2.6), its quotes doubled
// (§2.7). CR and LF alone count too: a spreadsheet app breaks the row at either. These few lines
// replace csv-stringify, whose per-field option handling (casts, quoting rules, events) was half
// of the export's CPU even called a batch at a time; the export test's strict reader holds them.
const NEEDS_QUOTES = /[",\r\n]/;

function csvField(value: string): string {
  return NEEDS_QUOTES.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** One record: fields joined by commas, CRLF after it (the last record too). */
export function csvRecord(fields: readonly string[]): string {
  let record = csvField(fields[0] ?? '');
  for (let i = 1; i < fields.length; i++) record += `,${csvField(fields[i]!)}`;
  return `${record}\r\n`;
}

// A UTF-8 byte order mark, so spreadsheet apps read the accents right.
const BOM = '\ufeff';

/**
 * The export's text, a batch of tickets at a time: a byte order mark and the header row (even
 * when no ticket matches), then a record per ticket.
 *
 * A batch becomes one string and one write: record by record, through a stream of records and a
 * CSV stream, the export spent more on the streams than on the CSV. The header goes with the
 * first batch, so a database error before any row still finds the response unsent and gets an
 * error page.
 */
export function exportCsv(slug: string, batches: AsyncIterable<ExportedTicket[]>): Readable {
  async function* text(): AsyncGenerator<string> {
    let head = BOM + csvRecord(exportColumns);
    for await (const tickets of batches) {
      let chunk = head;
      head = '';
      for (const ticket of tickets) chunk += csvRecord(exportRow(slug, ticket));
      if (chunk) yield chunk;
    }
    if (head) yield head;
  }
  return Readable.from(text(), { objectMode: false });
}

/** e.g. acme-tickets-2026-11-25.csv (the date in UTC). */
export function exportFilename(slug: string, at: Date): string {
  return `${slug}-tickets-${at.toISOString().slice(0, 10)}.csv`;
}
