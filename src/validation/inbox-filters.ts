import { z } from 'zod';
import { HttpError } from '../errors';
import type { TicketSearch } from '../models/ticket-search';
import { ticketStatuses, type TicketStatus } from '../models/tickets';
import { parseReference } from '../services/references';
import { fromZodError, type FormErrors } from './form-errors';
import { optionalTextField, shownAgain } from './fields';

export const searchMaxLength = 200;

const filtersSchema = z.object({
  q: optionalTextField(searchMaxLength, 'Search'),
  status: z.enum(['', ...ticketStatuses]).optional(),
});

/** The inbox filters as the form shows them again: `q` trimmed ('' for none). */
export interface InboxFilters {
  q: string;
  status: TicketStatus | undefined;
}

export type InboxFiltersResult =
  { ok: true; filters: InboxFilters } | { ok: false; filters: InboxFilters; errors: FormErrors };

/**
 * The inbox's and the export's `?q=&status=`. A status outside the list only comes from an
 * edited URL: 400. A search the box itself can produce (too long, control characters) gets the
 * form again with a message.
 */
export function parseInboxFilters(query: Record<string, unknown>): InboxFiltersResult {
  const result = filtersSchema.safeParse({ q: query.q, status: query.status });
  if (result.success) {
    return {
      ok: true,
      filters: { q: result.data.q ?? '', status: result.data.status || undefined },
    };
  }
  const errors = fromZodError(result.error, ['q', 'status']);
  if (errors.fields.status) throw new HttpError(400, 'bad status filter');
  const status = ticketStatuses.find((s) => s === query.status);
  return {
    ok: false,
    filters: { q: shownAgain(query.q), status },
    errors,
  };
}

/** What the model searches for: the box's text, plus the ticket number when it reads as one of our references. */
export function ticketSearchFor(slug: string, filters: InboxFilters): TicketSearch {
  const number = filters.q ? parseReference(slug, filters.q) : undefined;
  return {
    status: filters.status,
    query: filters.q ? { text: filters.q, number } : undefined,
  };
}

/** The filters as a query string (without `?`), so links to other pages and the export keep them. */
export function filtersQuery(filters: InboxFilters, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams();
  if (filters.q) params.set('q', filters.q);
  if (filters.status) params.set('status', filters.status);
  for (const [key, value] of Object.entries(extra)) params.set(key, value);
  return params.toString();
}
