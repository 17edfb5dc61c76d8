import type { Request, Response } from 'express';
import { perLanguage } from '../../i18n/per-language';
import { z } from 'zod';
import { depsOf } from '../../deps';
import { ValidationError } from '../../errors';
import { paths } from '../../routes/paths';
import { formatReference } from '../../services/references';
import { actingRequester, replyAsRequester } from '../../services/tickets';
import type { Translate } from '../../i18n/translate';
import { pageTranslator } from '../../middleware/page-language';
import { fieldMessages, textField } from '../../validation/fields';
import { fileErrors, mergeErrors, parseForm, ruleError } from '../../validation/form-errors';
import { uploadsOf } from '../../middleware/multipart-form';
import {
  AttachmentsRefusedError,
  checkIncomingAttachments,
  saveIncomingAttachments,
} from '../../services/attachments';
import { renderTicketPage, viewerOf, withViewerTicket } from './ticket';
import { languageOf } from '../../middleware/page-language';
import { setFlash } from '../../middleware/flash';

const replyForm = perLanguage((t: Translate, max: number) =>
  z.object({
    body: textField(max, fieldMessages(t, 'body', max), { multiline: true }),
  }),
);

/**
 * A reply, with its files. The ticket is found (404 for one the viewer cannot see) before any
 * file byte is read; refused files roll the reply back and show the page again, naming them.
 */
export async function post(req: Request, res: Response): Promise<void> {
  const deps = depsOf(req);
  const limits = deps.config.attachments;
  const values = req.body as Record<string, unknown>;
  const t = pageTranslator(res);
  const form = parseForm(replyForm(languageOf(res), deps.config.limits.body), req.body);
  if (!form.ok) {
    // Only for a ticket the viewer may see: anyone else's files stay unread.
    await withViewerTicket(req, res, () => Promise.resolve());
    const refused = await checkIncomingAttachments(uploadsOf(res), limits);
    const files = fileErrors(refused, t);
    return renderTicketPage(req, res, {
      status: 422,
      errors: mergeErrors(form.errors, files),
      values,
    });
  }
  try {
    const ticket = await withViewerTicket(req, res, async (trx, ticket) => {
      // The ticket's requester: the signed-in one, or the one a visitor writes for.
      const requester = await actingRequester(trx, {
        ticket,
        viewer: viewerOf(res),
        language: languageOf(res),
      });
      const message = await replyAsRequester(trx, {
        ticket,
        requester,
        body: form.data.body,
        at: deps.clock.now(),
        reopenWindowMs: deps.config.reopenWindowMs,
      });
      const files = uploadsOf(res);
      await saveIncomingAttachments(trx, {
        workspaceId: ticket.workspaceId,
        messageId: message.id,
        files,
        limits,
      });
      return ticket;
    });
    setFlash(req, res, 'replied');
    res.redirect(
      303,
      paths.portal.ticket(formatReference(res.locals.workspace.slug, ticket.number)),
    );
  } catch (error) {
    const errors =
      error instanceof ValidationError
        ? ruleError(error, t)
        : error instanceof AttachmentsRefusedError
          ? fileErrors(error.refused, t)
          : undefined;
    if (!errors) throw error;
    await renderTicketPage(req, res, { status: 422, errors, values });
  }
}
