import type { Request, Response } from 'express';
import { depsOf } from '../../deps';
import { agentScope } from '../../middleware/admin-viewer';
import { withPage } from '../../middleware/page-transaction';
import * as ticketSearch from '../../models/ticket-search';
import type { ListedTicket } from '../../models/ticket-search';
import { paths } from '../../routes/paths';
import { decodeCursor, encodeCursor } from '../../services/cursors';
import { formatReference } from '../../services/references';
import {
  filtersQuery,
  parseInboxFilters,
  searchMaxLength,
  ticketSearchFor,
} from '../../validation/inbox-filters';

const EXCERPT_LENGTH = 80;

/** The full comment is on the ticket page; the inbox shows its start. */
function excerpt(text: string | null): string | null {
  if (!text) return null;
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > EXCERPT_LENGTH ? `${flat.slice(0, EXCERPT_LENGTH - 1).trimEnd()}…` : flat;
}

function inboxRow(slug: string, ticket: ListedTicket) {
  const reference = formatReference(slug, ticket.number);
  return {
    reference,
    href: paths.admin.ticket(reference),
    subject: ticket.subject,
    requesterName: ticket.requesterName,
    requesterEmail: ticket.requesterEmail,
    status: ticket.status,
    lastReplyAt: ticket.lastReplyAt,
    rating: ticket.rating,
    commentExcerpt: excerpt(ticket.ratingComment),
  };
}

function withQuery(path: string, query: string): string {
  return query ? `${path}?${query}` : path;
}

/** /admin and /admin/tickets: the workspace's tickets, newest activity first, 25 a page (keyset). */
export async function get(req: Request, res: Response): Promise<void> {
  const { config } = depsOf(req);
  const workspace = res.locals.workspace;
  const parsed = parseInboxFilters(req.query);
  const after = decodeCursor(req.query.after);
  const { filters } = parsed;
  const common = {
    section: 'inbox',
    filters,
    searchMaxLength,
    referenceExample: formatReference(workspace.slug, 1001),
    isFirstPage: after === undefined,
    firstHref: withQuery(paths.admin.inbox, filtersQuery(filters)),
    exportHref: withQuery(paths.admin.export, filtersQuery(filters)),
  };
  if (!parsed.ok) {
    res.status(422).render('admin/inbox.njk', { ...common, errors: parsed.errors, tickets: [] });
    return;
  }
  const rows = await withPage(req, res, agentScope(res), (trx) =>
    ticketSearch.listPage(trx, {
      workspaceId: workspace.id,
      search: ticketSearchFor(workspace.slug, filters),
      after,
      limit: config.pageSize + 1,
    }),
  );
  const page = rows.slice(0, config.pageSize);
  const last = page[page.length - 1];
  const nextHref =
    rows.length > config.pageSize && last
      ? withQuery(
          paths.admin.inbox,
          filtersQuery(filters, {
            after: encodeCursor({ at: last.lastActivityAt, id: last.id }),
          }),
        )
      : undefined;
  res.render('admin/inbox.njk', {
    ...common,
    tickets: page.map((t) => inboxRow(workspace.slug, t)),
    nextHref,
  });
}
