import type { Request, Response } from 'express';
import { depsOf } from '../../deps';
import { withPage } from '../../middleware/page-transaction';
import { paths } from '../../routes/paths';
import { decodeCursor, encodeCursor } from '../../services/cursors';
import { listViewerTickets, portalScope } from '../../services/tickets';
import { ticketView } from './ticket-view';

/**
 * /tickets: a signed-in requester's tickets, newest activity first, 25 a page (keyset). Anyone
 * else gets the landing page: sign-in form, "open a new ticket", and a visitor's own tickets.
 */
export async function get(req: Request, res: Response): Promise<void> {
  const { config } = depsOf(req);
  const workspace = res.locals.workspace;
  const viewer = res.locals.viewer;
  if (viewer?.kind !== 'requester') {
    const sessionTickets = viewer
      ? await withPage(req, res, portalScope(workspace.id, viewer), (trx) =>
          listViewerTickets(trx, { workspaceId: workspace.id, viewer, limit: config.pageSize }),
        )
      : [];
    res.render('portal/landing.njk', {
      values: {},
      sessionTickets: sessionTickets.map((t) => ticketView(workspace.slug, t)),
    });
    return;
  }
  const after = decodeCursor(req.query.after);
  const rows = await withPage(req, res, portalScope(workspace.id, viewer), (trx) =>
    listViewerTickets(trx, {
      workspaceId: workspace.id,
      viewer,
      after,
      limit: config.pageSize + 1,
    }),
  );
  const page = rows.slice(0, config.pageSize);
  const last = page[page.length - 1];
  const nextHref =
    rows.length > config.pageSize && last
      ? `${paths.portal.home}?after=${encodeCursor({ at: last.lastActivityAt, id: last.id })}`
      : undefined;
  res.render('portal/ticket-list.njk', {
    tickets: page.map((t) => ticketView(workspace.slug, t)),
    isFirstPage: after === undefined,
    pageNumberText: after === undefined ? '' : 'older tickets',
    nextHref,
  });
}
