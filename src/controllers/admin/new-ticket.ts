import type { Request, Response } from 'express';
import { z } from 'zod';
import type { FieldLimits } from '../../config';
import { depsOf } from '../../deps';
import { agentScope } from '../../middleware/admin-viewer';
import { withPage } from '../../middleware/page-transaction';
import { paths } from '../../routes/paths';
import { openTicketForCustomer } from '../../services/agent-tickets';
import { formatReference } from '../../services/references';
import { emailField, textField } from '../../validation/fields';
import { fileErrors, mergeErrors, parseForm, type FormErrors } from '../../validation/form-errors';
import { uploadsOf } from '../../middleware/multipart-form';
import {
  AttachmentsRefusedError,
  attachToFirstMessage,
  checkIncomingAttachments,
} from '../../services/attachments';
import { setFlash } from '../../middleware/flash';

function newTicketForm(limits: FieldLimits) {
  return z.object({
    email: emailField(limits.email),
    name: textField(limits.name, { missing: "Enter the requester's name", label: 'Name' }),
    subject: textField(limits.subject, { missing: 'Enter a subject', label: 'Subject' }),
    body: textField(
      limits.body,
      { missing: 'Enter the first message', label: 'First message' },
      { multiline: true },
    ),
  });
}

function render(
  res: Response,
  form: { status?: number; values?: unknown; errors?: FormErrors } = {},
): void {
  res.status(form.status ?? 200).render('admin/new-ticket.njk', {
    section: 'inbox',
    values: form.values ?? {},
    errors: form.errors,
  });
}

export function get(_req: Request, res: Response): void {
  render(res);
}

/**
 * Opens a ticket on behalf of a requester (found or created by address), with files, mails them
 * that it is open, and shows it.
 */
export async function post(req: Request, res: Response): Promise<void> {
  const { clock, config, templates } = depsOf(req);
  const workspace = res.locals.workspace;
  const limits = config.attachments;
  const form = parseForm(newTicketForm(config.limits), req.body);
  if (!form.ok) {
    const refused = await checkIncomingAttachments(uploadsOf(res), limits);
    const files = fileErrors(refused);
    return render(res, { status: 422, values: req.body, errors: mergeErrors(form.errors, files) });
  }
  const now = clock.now();
  const mail = { templates, secret: config.sessionSecret, config, now };
  let ticket;
  try {
    ticket = await withPage(req, res, agentScope(res), async (trx) => {
      const opened = await openTicketForCustomer(trx, mail, { workspace, ...form.data, at: now });
      // The scope is now the requester's, in whose name the first message and its files are.
      const files = uploadsOf(res);
      await attachToFirstMessage(trx, {
        workspaceId: workspace.id,
        ticketId: opened.id,
        files,
        limits,
      });
      return opened;
    });
  } catch (error) {
    if (!(error instanceof AttachmentsRefusedError)) throw error;
    const errors = fileErrors(error.refused);
    return render(res, { status: 422, values: req.body, errors });
  }
  setFlash(req, res, 'created');
  res.redirect(303, paths.admin.ticket(formatReference(workspace.slug, ticket.number)));
}
