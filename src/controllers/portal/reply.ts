import type { Request, Response } from 'express';
import { z } from 'zod';
import { depsOf } from '../../deps';
import { ValidationError } from '../../errors';
import { paths } from '../../routes/paths';
import { formatReference } from '../../services/references';
import { replyAsRequester, ticketRequester } from '../../services/tickets';
import { textField } from '../../validation/fields';
import { fieldError, parseForm } from '../../validation/form-errors';
import { renderTicketPage, withViewerTicket } from './ticket';
import { setFlash } from '../../middleware/flash';

function replyForm(max: number) {
  return z.object({
    body: textField(max, { missing: 'Enter your reply', label: 'Reply' }, { multiline: true }),
  });
}

export async function post(req: Request, res: Response): Promise<void> {
  const deps = depsOf(req);
  const form = parseForm(replyForm(deps.config.limits.body), req.body);
  if (!form.ok) {
    return renderTicketPage(req, res, {
      status: 422,
      errors: form.errors,
      values: req.body as Record<string, unknown>,
    });
  }
  try {
    const ticket = await withViewerTicket(req, res, async (trx, ticket) => {
      // The ticket's requester: the signed-in one, or the one a visitor writes for.
      const requester = await ticketRequester(trx, ticket);
      await replyAsRequester(trx, {
        ticket,
        requester,
        body: form.data.body,
        at: deps.clock.now(),
        reopenWindowMs: deps.config.reopenWindowMs,
      });
      return ticket;
    });
    setFlash(req, res, 'replied');
    res.redirect(
      303,
      paths.portal.ticket(formatReference(res.locals.workspace.slug, ticket.number)),
    );
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    await renderTicketPage(req, res, {
      status: 422,
      errors: fieldError(error.field, error.message),
      values: req.body as Record<string, unknown>,
    });
  }
}
