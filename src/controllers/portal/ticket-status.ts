import type { Request, Response } from 'express';
import { depsOf } from '../../deps';
import type { Trx } from '../../db/knex';
import { ValidationError } from '../../errors';
import { setFlash } from '../../middleware/flash';
import type { Requester } from '../../models/requesters';
import type { Ticket } from '../../models/tickets';
import { paths } from '../../routes/paths';
import { formatReference } from '../../services/references';
import { markSolvedByCustomer, reopenByCustomer } from '../../services/ticket-resolution';
import { actingRequester } from '../../services/tickets';
import { languageOf, pageTranslator } from '../../middleware/page-language';
import { ruleError } from '../../validation/form-errors';
import { renderTicketPage, viewerOf, withViewerTicket } from './ticket';

/**
 * The customer's two status buttons: "My problem is solved" and "Reopen this ticket". Their forms
 * carry only the CSRF token. A change the ticket's status no longer allows (another tab, a forged
 * request) re-renders the page with 422 and says why; nothing changes.
 */
async function act(
  req: Request,
  res: Response,
  notice: string,
  work: (trx: Trx, ticket: Ticket, requester: Requester, at: Date) => Promise<Ticket>,
): Promise<void> {
  const at = depsOf(req).clock.now();
  try {
    const ticket = await withViewerTicket(req, res, async (trx, ticket) => {
      const viewer = viewerOf(res);
      const requester = await actingRequester(trx, { ticket, viewer, language: languageOf(res) });
      return work(trx, ticket, requester, at);
    });
    setFlash(req, res, notice);
    res.redirect(
      303,
      paths.portal.ticket(formatReference(res.locals.workspace.slug, ticket.number)),
    );
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    await renderTicketPage(req, res, {
      status: 422,
      errors: ruleError(error, pageTranslator(res)),
    });
  }
}

export function solve(req: Request, res: Response): Promise<void> {
  return act(req, res, 'solved', (trx, ticket, requester, at) =>
    markSolvedByCustomer(trx, { ticket, requester, at }),
  );
}

export function reopen(req: Request, res: Response): Promise<void> {
  const windowMs = depsOf(req).config.reopenWindowMs;
  return act(req, res, 'reopened', (trx, ticket, requester, at) =>
    reopenByCustomer(trx, { ticket, requester, at, windowMs }),
  );
}
