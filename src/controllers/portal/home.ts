import type { Request, Response } from 'express';
import { depsOf } from '../../deps';
import { languageOf } from '../../middleware/page-language';
import { withPage } from '../../middleware/page-transaction';
import { paths } from '../../routes/paths';
import { decodeCursor, encodeCursor } from '../../services/cursors';
import { formatReference } from '../../services/references';
import { listViewerTickets, portalScope } from '../../services/tickets';
import {
  customerSearchFor,
  isFiltered,
  parseTicketListFilters,
  ticketListQuery,
  ticketSearchMaxLength,
} from '../../validation/ticket-list-filters';
import { ticketView } from './ticket-view';

function withQuery(path: string, query: string): string {
  return query ? `${path}?${query}` : path;
}

/**
 * /tickets: a signed-in requester's tickets, newest activity first, 25 a page (keyset), narrowed
 * by the search form above them (`?q=&status=`, kept in every page link). Anyone else gets the
 * landing page: sign-in form, "open a new ticket", and a visitor's own tickets, searchable too.
 */
export async function get(req: Request, res: Response): Promise<void> {
  const { config } = depsOf(req);
  const workspace = res.locals.workspace;
  const viewer = res.locals.viewer;
  const parsed = parseTicketListFilters(req.query, languageOf(res));
  const { filters } = parsed;
  const errors = parsed.ok ? undefined : parsed.errors;
  const search = {
    filters,
    isFiltered: isFiltered(filters),
    maxLength: ticketSearchMaxLength,
    referenceExample: formatReference(workspace.slug, 1001),
  };
  if (viewer?.kind !== 'requester') {
    const sessionTickets =
      viewer && !errors
        ? await withPage(req, res, portalScope(workspace.id, viewer), (trx) =>
            listViewerTickets(trx, {
              workspaceId: workspace.id,
              viewer,
              search: customerSearchFor(workspace.slug, filters),
              limit: config.pageSize,
            }),
          )
        : [];
    res.status(errors ? 422 : 200).render('portal/landing.njk', {
      values: {},
      // A visitor without tickets has nothing to search, so nothing to be told about it either.
      errors: viewer ? errors : undefined,
      search,
      hasSessionTickets: viewer !== undefined,
      sessionTickets: sessionTickets.map((t) => ticketView(workspace.slug, t)),
    });
    return;
  }
  const after = decodeCursor(req.query.after);
  const common = {
    search,
    isFirstPage: after === undefined,
    firstHref: withQuery(paths.portal.home, ticketListQuery(filters)),
  };
  if (errors) {
    res.status(422).render('portal/ticket-list.njk', { ...common, errors, tickets: [] });
    return;
  }
  const rows = await withPage(req, res, portalScope(workspace.id, viewer), (trx) =>
    listViewerTickets(trx, {
      workspaceId: workspace.id,
      viewer,
      search: customerSearchFor(workspace.slug, filters),
      after,
      limit: config.pageSize + 1,
    }),
  );
  const page = rows.slice(0, config.pageSize);
  const last = page[page.length - 1];
  const nextHref =
    rows.length > config.pageSize && last
      ? withQuery(
          paths.portal.home,
          ticketListQuery(filters, {
            after: encodeCursor({ at: last.lastActivityAt, id: last.id }),
          }),
        )
      : undefined;
  res.render('portal/ticket-list.njk', {
    ...common,
    tickets: page.map((t) => ticketView(workspace.slug, t)),
    nextHref,
  });
}
