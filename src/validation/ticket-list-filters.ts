import { z } from 'zod';
import type { CustomerTicketSearch } from '../models/customer-ticket-search';
import { ticketStatuses, type TicketStatus } from '../models/tickets';
import { parseReference } from '../services/references';
import { perLanguage } from '../i18n/per-language';
import type { Translate } from '../i18n/translate';
import { fieldMessages, optionalTextField, shownAgain } from './fields';
import { fromZodError, type FormErrors } from './form-errors';

/** Long enough for any sentence worth searching for; the box's maxlength says the same. */
export const ticketSearchMaxLength = 200;

const filtersSchema = perLanguage((t: Translate) =>
  z.object({
    q: optionalTextField(ticketSearchMaxLength, fieldMessages(t, 'search', ticketSearchMaxLength)),
    status: z.enum(['', ...ticketStatuses], { error: t('forms.status.choose') }).optional(),
  }),
);

/** The portal list's search and filter as the form shows them again: `q` trimmed, '' for none. */
export interface TicketListFilters {
  q: string;
  status: TicketStatus | undefined;
}

export type TicketListFiltersResult =
  | { ok: true; filters: TicketListFilters }
  | { ok: false; filters: TicketListFilters; errors: FormErrors };

/**
 * The customer list's `?q=&status=`. Everything wrong with them, an edited URL's unknown status
 * as well as a search that is too long or holds control characters, gets the form again with
 * a message: customers edit and share these URLs, and a bare 400 page would tell them nothing.
 */
export function parseTicketListFilters(
  query: Record<string, unknown>,
  language: string,
): TicketListFiltersResult {
  const result = filtersSchema(language).safeParse({ q: query.q, status: query.status });
  if (result.success) {
    return {
      ok: true,
      filters: { q: result.data.q ?? '', status: result.data.status || undefined },
    };
  }
  return {
    ok: false,
    filters: {
      q: shownAgain(query.q),
      status: ticketStatuses.find((s) => s === query.status),
    },
    errors: fromZodError(result.error, ['q', 'status']),
  };
}

export function isFiltered(filters: TicketListFilters): boolean {
  return filters.q !== '' || filters.status !== undefined;
}

/**
 * What the model searches for: the words, plus the ticket number when the box holds one of this
 * workspace's references (ACME-1001) or just its number (1001, #1001).
 */
export function customerSearchFor(slug: string, filters: TicketListFilters): CustomerTicketSearch {
  if (!filters.q) return { status: filters.status };
  const bare = /^#?([1-9]\d{0,8})$/.exec(filters.q);
  const number = bare ? Number(bare[1]) : parseReference(slug, filters.q);
  return { status: filters.status, words: { text: filters.q, number } };
}

/** The filters as a query string (without `?`), so links to other pages keep them. */
export function ticketListQuery(
  filters: TicketListFilters,
  extra: Record<string, string> = {},
): string {
  const params = new URLSearchParams();
  if (filters.q) params.set('q', filters.q);
  if (filters.status) params.set('status', filters.status);
  for (const [key, value] of Object.entries(extra)) params.set(key, value);
  return params.toString();
}
