import type { Request, Response } from 'express';
import { depsOf } from '../../deps';
import { withScope } from '../../db/scopes';
import type { Ticket } from '../../models/tickets';
import type { Workspace } from '../../models/workspaces';
import { paths } from '../../routes/paths';
import {
  canBeRated,
  findViewerTicket,
  portalScope,
  publicThread,
  type PortalViewer,
} from '../../services/tickets';
import type { FormErrors } from '../../validation/form-errors';
import { takeFlash } from '../../middleware/sessions';
import { messageView, ticketView } from './ticket-view';

export function referenceOf(req: Request): string {
  const ref = req.params.ref;
  return typeof ref === 'string' ? ref : '';
}

export function viewerOf(res: Response): PortalViewer {
  const viewer = res.locals.viewer;
  // requireViewer runs before every ticket route; reaching here without one is a wiring bug.
  if (!viewer) throw new Error('ticket route without requireViewer');
  return viewer;
}

/** Loads the viewer's ticket by the URL's reference (404 for anything else) and runs work on it. */
export function withViewerTicket<T>(
  req: Request,
  res: Response,
  work: (trx: Parameters<Parameters<typeof withScope>[2]>[0], ticket: Ticket) => Promise<T>,
): Promise<T> {
  const { db } = depsOf(req);
  const workspace: Workspace = res.locals.workspace;
  const viewer = viewerOf(res);
  return withScope(db, portalScope(workspace.id, viewer), async (trx) => {
    const ticket = await findViewerTicket(trx, { workspace, viewer, reference: referenceOf(req) });
    return work(trx, ticket);
  });
}

/** Renders the ticket page; the reply and rating forms re-render it with their errors (422). */
export async function renderTicketPage(
  req: Request,
  res: Response,
  form: { status?: number; errors?: FormErrors; values?: Record<string, unknown> } = {},
): Promise<void> {
  const workspace = res.locals.workspace;
  const { ticket, thread } = await withViewerTicket(req, res, async (trx, ticket) => ({
    ticket,
    thread: await publicThread(trx, ticket),
  }));
  const view = ticketView(workspace.slug, ticket);
  res.status(form.status ?? 200).render('portal/ticket.njk', {
    ticket: view,
    thread: thread.map(messageView),
    canRate: canBeRated(ticket),
    replyAction: paths.portal.reply(view.reference),
    ratingAction: paths.portal.rating(view.reference),
    flash: form.errors ? undefined : takeFlash(req),
    values: form.values ?? {},
    errors: form.errors,
  });
}

export async function get(req: Request, res: Response): Promise<void> {
  await renderTicketPage(req, res);
}
