import type { Request, Response } from 'express';
import { withPage } from '../../middleware/page-transaction';
import type { Trx } from '../../db/knex';
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
import { threadView, ticketView } from './ticket-view';
import { decodeCursor } from '../../services/cursors';
import { depsOf } from '../../deps';
import { takeFlash } from '../../middleware/flash';
import {
  canMarkSolved,
  canReopen,
  needsFollowUp,
  reopenDeadline,
  windowDays,
} from '../../services/ticket-resolution';

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
  work: (trx: Trx, ticket: Ticket) => Promise<T>,
): Promise<T> {
  const workspace: Workspace = res.locals.workspace;
  const viewer = viewerOf(res);
  return withPage(req, res, portalScope(workspace.id, viewer), async (trx) => {
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
  const before = decodeCursor(req.query.before);
  const { config, clock } = depsOf(req);
  const limit = config.threadPageSize;
  const { ticket, thread } = await withViewerTicket(req, res, async (trx, ticket) => ({
    ticket,
    thread: await publicThread(trx, ticket, { before, limit }),
  }));
  const view = ticketView(workspace.slug, ticket);
  const now = clock.now();
  res.status(form.status ?? 200).render('portal/ticket.njk', {
    ticket: view,
    ...threadView(view, before, thread),
    canRate: canBeRated(ticket),
    canSolve: canMarkSolved(ticket),
    reopenUntil: canReopen(ticket, now, config.reopenWindowMs)
      ? reopenDeadline(ticket, config.reopenWindowMs)
      : undefined,
    followUp: needsFollowUp(ticket, now, config.reopenWindowMs),
    reopenWindowDays: windowDays(config.reopenWindowMs),
    replyAction: paths.portal.reply(view.reference),
    ratingAction: paths.portal.rating(view.reference),
    confirmationLinkAction: paths.portal.confirmationLink(view.reference),
    solveAction: paths.portal.solve(view.reference),
    reopenAction: paths.portal.reopen(view.reference),
    followUpHref: paths.portal.followUp(view.reference),
    flash: form.errors || before ? undefined : takeFlash(req, res),
    // Shown for a form's POST (a reply with errors): the switcher goes back to the ticket.
    languageBack: req.method === 'GET' || req.method === 'HEAD' ? req.originalUrl : view.href,
    values: form.values ?? {},
    errors: form.errors,
  });
}

export async function get(req: Request, res: Response): Promise<void> {
  await renderTicketPage(req, res);
}
