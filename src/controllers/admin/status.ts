import type { Request, Response } from 'express';
import { z } from 'zod';
import { depsOf } from '../../deps';
import { ticketStatuses } from '../../models/tickets';
import { agentOf } from '../../middleware/admin-viewer';
import { changeStatus } from '../../services/agent-tickets';
import { parseForm } from '../../validation/form-errors';
import { renderTicketPage, ticketPath, withAgentTicket } from './ticket';
import { setFlash } from '../../middleware/flash';

const statusForm = z.object({
  status: z.enum(ticketStatuses, { error: 'Choose a status from the list' }),
});

/** The status control: Open, Pending, Resolved or Closed, with its own submit button. */
export async function post(req: Request, res: Response): Promise<void> {
  const { clock } = depsOf(req);
  const form = parseForm(statusForm, req.body);
  if (!form.ok)
    return renderTicketPage(req, res, {
      status: 422,
      errors: form.errors,
      values: req.body as unknown,
    });
  const agent = agentOf(res);
  const ticket = await withAgentTicket(req, res, async (trx, ticket) => {
    await changeStatus(trx, { ticket, agent, status: form.data.status, at: clock.now() });
    return ticket;
  });
  setFlash(req, res, 'status');
  res.redirect(303, ticketPath(res, ticket));
}
