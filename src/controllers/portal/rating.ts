import type { Request, Response } from 'express';
import { perLanguage } from '../../i18n/per-language';
import { z } from 'zod';
import { depsOf } from '../../deps';
import { ValidationError } from '../../errors';
import { paths } from '../../routes/paths';
import { formatReference } from '../../services/references';
import { rateTicket, rememberViewerLanguage } from '../../services/tickets';
import type { Translate } from '../../i18n/translate';
import { languageOf, pageTranslator } from '../../middleware/page-language';
import { fieldMessages, optionalTextField } from '../../validation/fields';
import { parseForm, ruleError } from '../../validation/form-errors';
import { renderTicketPage, viewerOf, withViewerTicket } from './ticket';
import { setFlash } from '../../middleware/flash';

const ratingForm = perLanguage((t: Translate, max: number) => {
  const chooseRating = t('forms.rating.choose');
  return z.object({
    rating: z
      .string({ error: chooseRating })
      .regex(/^[1-5]$/, chooseRating)
      .transform(Number),
    comment: optionalTextField(max, fieldMessages(t, 'comment', max), { multiline: true }),
  });
});

export async function post(req: Request, res: Response): Promise<void> {
  const deps = depsOf(req);
  const values = req.body as Record<string, unknown>;
  const t = pageTranslator(res);
  const form = parseForm(ratingForm(languageOf(res), deps.config.limits.comment), req.body);
  if (!form.ok) return renderTicketPage(req, res, { status: 422, errors: form.errors, values });
  try {
    const ticket = await withViewerTicket(req, res, async (trx, ticket) => {
      const rated = await rateTicket(trx, {
        ticket,
        rating: form.data.rating,
        comment: form.data.comment,
        at: deps.clock.now(),
      });
      await rememberViewerLanguage(trx, {
        workspaceId: ticket.workspaceId,
        viewer: viewerOf(res),
        language: languageOf(res),
      });
      return rated;
    });
    setFlash(req, res, 'rated');
    res.redirect(
      303,
      `${paths.portal.ticket(formatReference(res.locals.workspace.slug, ticket.number))}`,
    );
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    await renderTicketPage(req, res, {
      status: 422,
      errors: ruleError(error, t),
      values,
    });
  }
}
