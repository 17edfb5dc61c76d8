import type { Request, Response } from 'express';
import { perLanguage } from '../../i18n/per-language';
import { z } from 'zod';
import { depsOf } from '../../deps';
import type { Translate } from '../../i18n/translate';
import { languageOf, pageTranslator } from '../../middleware/page-language';
import { withPage } from '../../middleware/page-transaction';
import { startRequesterSession } from '../../middleware/sessions';
import { clearSignInCodeKey, signInCodeKeyOf } from '../../middleware/sign-in-code-cookie';
import { paths } from '../../routes/paths';
import { redeemSignInCode } from '../../services/magic-links';
import { isBrowserKey, normaliseCode } from '../../services/sign-in-codes';
import { fieldError, parseForm, type FormErrors } from '../../validation/form-errors';

const codeForm = perLanguage((t: Translate) => {
  const missing = t('forms.code.missing');
  return z.object({
    code: z
      .string({ error: missing })
      .trim()
      .min(1, missing)
      .max(20, t('forms.code.tooLong'))
      .refine((typed) => normaliseCode(typed) !== undefined, t('forms.code.format')),
  });
});

function render(req: Request, res: Response, status: number, errors?: FormErrors): void {
  res.status(status).render('portal/check-email.njk', {
    values: status === 200 ? {} : (req.body as unknown),
    errors,
    codeMinutes: depsOf(req).config.signInCode.ttlMs / 60_000,
  });
}

/**
 * The "check your email" page again, for a browser waiting for its mail (after a reload, say);
 * any other is sent to ask for one. It reads a cookie only: nothing is written.
 */
export function get(req: Request, res: Response): void {
  if (!isBrowserKey(signInCodeKeyOf(req))) return res.redirect(303, paths.portal.login);
  render(req, res, 200);
}

/**
 * One try of the code. It counts only in the browser that asked for the mail: any other has no
 * key (or another request's), so even the right code finds nothing to sign in to there.
 */
export async function post(req: Request, res: Response): Promise<void> {
  const { clock, config } = depsOf(req);
  const t = pageTranslator(res);
  const unusable = fieldError('code', t('forms.code.unusable'));
  const form = parseForm(codeForm(languageOf(res)), req.body);
  if (!form.ok) return render(req, res, 422, form.errors);
  const browserKey = signInCodeKeyOf(req);
  if (!isBrowserKey(browserKey)) return render(req, res, 422, unusable);
  const workspaceId = res.locals.workspace.id;
  const now = clock.now();
  const result = await withPage(req, res, { kind: 'signin', workspaceId }, (trx) =>
    redeemSignInCode(trx, {
      workspaceId,
      browserKey,
      code: form.data.code,
      now,
      ip: req.ip,
      maxAttempts: config.signInCode.maxAttempts,
      language: languageOf(res),
    }),
  );
  switch (result.outcome) {
    case 'unusable':
      return render(req, res, 422, unusable);
    case 'wrong':
      return render(
        req,
        res,
        422,
        result.triesLeft > 0
          ? fieldError('code', t('forms.code.wrong', { triesLeft: result.triesLeft }))
          : unusable,
      );
    case 'signed-in':
      await startRequesterSession(req, { workspaceId, requester: result.requester, now });
      clearSignInCodeKey(res);
      res.redirect(303, paths.portal.home);
  }
}
