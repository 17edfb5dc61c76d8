import type { Request, Response } from 'express';
import { readerTimeZone, zoneFromChoice, zoneGroupsIn } from '../../i18n/time-zones';
import { setFlash, takeFlash } from '../../middleware/flash';
import { languageOf, pageTranslator } from '../../middleware/page-language';
import { withPage } from '../../middleware/page-transaction';
import { saveSession } from '../../middleware/sessions';
import * as requesters from '../../models/requesters';
import { paths } from '../../routes/paths';
import { portalScope } from '../../services/tickets';
import { fieldError, type FormErrors } from '../../validation/form-errors';
import { requesterOf } from './your-data';

/*
 * /tickets/preferences: a signed-in customer's own time zone. Saving is a POST (with the CSRF
 * token) like every other change: a GET writes nothing. The choice lives on the requester, for
 * their next sign-in and their mail, and in this session's row, which is where pages read it.
 */

function render(req: Request, res: Response, status: number, errors?: FormErrors): void {
  const workspace = res.locals.workspace;
  res.status(status).render('portal/preferences.njk', {
    // '' is "use the workspace's": the form's first choice.
    timeZone: req.session.requesterTimeZone ?? '',
    workspaceZone: readerTimeZone(undefined, workspace.timeZone),
    zoneGroups: zoneGroupsIn(languageOf(res)),
    flash: errors ? undefined : takeFlash(req, res),
    errors,
  });
}

export function get(req: Request, res: Response): void {
  render(req, res, 200);
}

export async function post(req: Request, res: Response): Promise<void> {
  const submitted = (req.body as Record<string, unknown> | undefined)?.timeZone;
  const zone = typeof submitted === 'string' ? zoneFromChoice(submitted) : undefined;
  if (submitted !== '' && zone === undefined) {
    const message = pageTranslator(res)('preferences.timeZone.error');
    return render(req, res, 422, fieldError('timeZone', message));
  }
  const workspaceId = res.locals.workspace.id;
  const viewer = requesterOf(res);
  await withPage(req, res, portalScope(workspaceId, { kind: 'requester', ...viewer }), (trx) =>
    requesters.setTimeZone(trx, workspaceId, viewer.requesterId, zone ?? null, languageOf(res)),
  );
  if (zone) req.session.requesterTimeZone = zone;
  else delete req.session.requesterTimeZone;
  await saveSession(req);
  setFlash(req, res, 'preferences-saved');
  res.redirect(303, paths.portal.preferences);
}
