import type { Request, Response } from 'express';
import { perLanguage } from '../../i18n/per-language';
import { z } from 'zod';
import { depsOf } from '../../deps';
import type { Translate } from '../../i18n/translate';
import { languageOf } from '../../middleware/page-language';
import { withPage } from '../../middleware/page-transaction';
import { paths } from '../../routes/paths';
import { setSignInCodeKey } from '../../middleware/sign-in-code-cookie';
import { sendSignInLink } from '../../services/magic-links';
import { emailField } from '../../validation/fields';
import { parseForm } from '../../validation/form-errors';

const loginForm = perLanguage((t: Translate, max: number) =>
  z.object({ email: emailField(max, t) }),
);

export function get(_req: Request, res: Response): void {
  res.render('portal/login.njk', { values: {} });
}

/**
 * Answers the same "check your email" page whether or not the address is known; the mail is
 * queued, so timing says nothing either. Hourly limits answer 429 (the same for any address).
 * A mail sent gives this browser the key its code needs; a request dropped inside the minute
 * keeps the key it has, so the code of the mail already sent still works here.
 */
export async function post(req: Request, res: Response): Promise<void> {
  const deps = depsOf(req);
  const form = parseForm(loginForm(languageOf(res), deps.config.limits.email), req.body);
  if (!form.ok) {
    res
      .status(422)
      .render('portal/login.njk', { values: req.body as unknown, errors: form.errors });
    return;
  }
  const { email } = form.data;
  const workspace = res.locals.workspace;
  const send = await deps.rateLimits.signinRequest({
    workspaceId: workspace.id,
    email,
    ip: req.ip ?? '',
  });
  if (send) {
    const browserKey = await withPage(
      req,
      res,
      { kind: 'signin', workspaceId: workspace.id },
      (trx) =>
        sendSignInLink(
          trx,
          {
            templates: deps.templates,
            secret: deps.config.sessionSecret,
            config: deps.config,
            now: deps.clock.now(),
          },
          { workspace, email, ip: req.ip, language: languageOf(res) },
        ),
    );
    setSignInCodeKey(req, res, browserKey);
  }
  res.render('portal/check-email.njk', {
    email,
    codeMinutes: deps.config.signInCode.ttlMs / 60_000,
    // The code's page again, for this browser (the login form would ask for another mail).
    languageBack: paths.portal.signInCode,
  });
}
