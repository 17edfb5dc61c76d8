import type { Request, Response } from 'express';
import { isSupportedLanguage, supportedLanguages } from '../../i18n/languages';
import { zoneFromChoice, zoneGroupsIn } from '../../i18n/time-zones';
import { agentAudit, agentScope } from '../../middleware/admin-viewer';
import { setFlash, takeFlash } from '../../middleware/flash';
import { withPage } from '../../middleware/page-transaction';
import { paths } from '../../routes/paths';
import { changeRegionalSettings } from '../../services/workspace-settings';
import { fieldError, mergeErrors, type FormErrors } from '../../validation/form-errors';

/*
 * Settings → Language and time zone: the portal's language for visitors whose browser asks for
 * none the portal speaks, and the zone every time is shown in (both apps and mail) unless a
 * customer chose their own.
 */

const LANGUAGE_ERROR = 'Choose the portal’s default language from the list';
const ZONE_ERROR = 'Choose a time zone from the list';

interface RegionalValues {
  defaultLanguage: string;
  timeZone: string;
}

function render(
  req: Request,
  res: Response,
  status: number,
  values: RegionalValues,
  errors?: FormErrors,
): void {
  res.status(status).render('admin/regional.njk', {
    section: 'settings',
    settingsPage: 'regional',
    ...values,
    languages: supportedLanguages(),
    // The agent app is English.
    zoneGroups: zoneGroupsIn('en'),
    flash: errors ? undefined : takeFlash(req, res),
    errors,
  });
}

export function get(req: Request, res: Response): void {
  const { defaultLanguage, timeZone } = res.locals.workspace;
  render(req, res, 200, { defaultLanguage, timeZone });
}

function textOf(body: Record<string, unknown>, field: string): string | undefined {
  const value = body[field];
  return typeof value === 'string' ? value : undefined;
}

export async function post(req: Request, res: Response): Promise<void> {
  const workspace = res.locals.workspace;
  const body = (req.body ?? {}) as Record<string, unknown>;
  const language = textOf(body, 'defaultLanguage');
  const chosenZone = textOf(body, 'timeZone');
  const zone = chosenZone === undefined ? undefined : zoneFromChoice(chosenZone);
  const languageOk = language !== undefined && isSupportedLanguage(language);
  if (!languageOk || !zone) {
    const errors = mergeErrors(
      languageOk ? undefined : fieldError('defaultLanguage', LANGUAGE_ERROR),
      zone ? undefined : fieldError('timeZone', ZONE_ERROR),
    );
    // Keep the valid half of what was sent; the refused half shows as it is saved.
    return render(
      req,
      res,
      422,
      {
        defaultLanguage: languageOk ? language : workspace.defaultLanguage,
        timeZone: zone ?? workspace.timeZone,
      },
      errors,
    );
  }
  await withPage(req, res, agentScope(res), (trx) =>
    changeRegionalSettings(trx, agentAudit(req, res), workspace, {
      defaultLanguage: language,
      timeZone: zone,
    }),
  );
  setFlash(req, res, 'regional-saved');
  res.redirect(303, paths.admin.regional);
}
