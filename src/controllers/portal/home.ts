import type { Request, Response } from 'express';
import { depsOf } from '../../deps';
import { withScope } from '../../db/scopes';
import { HttpError } from '../../errors';
import type { ActivityCursor } from '../../models/tickets';
import { paths } from '../../routes/paths';
import { listViewerTickets, portalScope } from '../../services/tickets';
import { ticketView } from './ticket-view';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function encodeCursor(cursor: ActivityCursor): string {
  return Buffer.from(`${cursor.at.toISOString()}|${cursor.id}`).toString('base64url');
}

/** Keyset cursor from `?after=`; anything unreadable is a 400, not a silent first page. */
function decodeCursor(value: unknown): ActivityCursor | undefined {
  if (value === undefined) return undefined;
  const [at, id] = typeof value === 'string' ? Buffer.from(value, 'base64url').toString().split('|') : [];
  const date = at ? new Date(at) : undefined;
  if (!date || Number.isNaN(date.getTime()) || !id || !UUID.test(id)) {
    throw new HttpError(400, 'bad cursor');
  }
  return { at: date, id };
}

/**
 * /tickets: a signed-in requester's tickets, newest activity first, 25 a page (keyset). Anyone
 * else gets the landing page: sign-in form, "open a new ticket", and a visitor's own tickets.
 */
export async function get(req: Request, res: Response): Promise<void> {
  const { db, config } = depsOf(req);
  const workspace = res.locals.workspace;
  const viewer = res.locals.viewer;
  if (viewer?.kind !== 'requester') {
    const sessionTickets = viewer
      ? await withScope(db, portalScope(workspace.id, viewer), (trx) =>
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
  const rows = await withScope(db, portalScope(workspace.id, viewer), (trx) =>
    listViewerTickets(trx, { workspaceId: workspace.id, viewer, after, limit: config.pageSize + 1 }),
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
