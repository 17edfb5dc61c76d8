import type { Request, Response } from 'express';
import { z } from 'zod';
import { depsOf } from '../../deps';
import { ValidationError } from '../../errors';
import { agentOf } from '../../middleware/admin-viewer';
import { ticketStatuses } from '../../models/tickets';
import { addInternalNote, replyAsAgent } from '../../services/agent-tickets';
import { textField } from '../../validation/fields';
import { fieldError, fileErrors, mergeErrors, parseForm } from '../../validation/form-errors';
import { uploadsOf } from '../../middleware/multipart-form';
import {
  AttachmentsRefusedError,
  checkIncomingAttachments,
  saveIncomingAttachments,
} from '../../services/attachments';
import { renderTicketPage, ticketPath, withAgentTicket } from './ticket';
import { setFlash } from '../../middleware/flash';

function replyForm(max: number) {
  return z.object({
    visibility: z.enum(['public', 'internal'], {
      error: 'Choose a public reply or an internal note',
    }),
    body: textField(max, { missing: 'Enter a message', label: 'Message' }, { multiline: true }),
    // Blank: the default (Pending after a public reply, unchanged after a note).
    replyStatus: z
      .enum(['', ...ticketStatuses], { error: 'Choose a status from the list' })
      .optional()
      .transform((v) => (v ? v : undefined)),
  });
}

/**
 * A public reply (mailed to the requester) or an internal note, by the radio in the same form,
 * with its files (refused ones roll the message back and show the page again, naming them).
 */
export async function post(req: Request, res: Response): Promise<void> {
  const { clock, config, templates } = depsOf(req);
  const values = req.body as unknown;
  const limits = config.attachments;
  const form = parseForm(replyForm(config.limits.body), req.body);
  if (!form.ok) {
    await withAgentTicket(req, res, () => Promise.resolve());
    const refused = await checkIncomingAttachments(uploadsOf(res), limits);
    const files = fileErrors(refused);
    const errors = mergeErrors(form.errors, files);
    return renderTicketPage(req, res, { status: 422, errors, values });
  }
  const agent = agentOf(res);
  const workspace = res.locals.workspace;
  const { visibility, body, replyStatus: status } = form.data;
  const at = clock.now();
  try {
    const ticket = await withAgentTicket(req, res, async (trx, ticket) => {
      const attach = (message: { id: string }) =>
        saveIncomingAttachments(trx, {
          workspaceId: workspace.id,
          messageId: message.id,
          files: uploadsOf(res),
          limits,
        });
      if (visibility === 'public') {
        await replyAsAgent(
          trx,
          { templates, secret: config.sessionSecret, config },
          { workspace, ticket, agent, body, status, at, attach },
        );
      } else {
        await attach(await addInternalNote(trx, { ticket, agent, body, status, at }));
      }
      return ticket;
    });
    setFlash(req, res, visibility === 'public' ? 'replied' : 'noted');
    res.redirect(303, ticketPath(res, ticket));
  } catch (error) {
    const errors =
      error instanceof ValidationError
        ? fieldError(error.field, error.message)
        : error instanceof AttachmentsRefusedError
          ? fileErrors(error.refused)
          : undefined;
    if (!errors) throw error;
    await renderTicketPage(req, res, { status: 422, errors, values });
  }
}
