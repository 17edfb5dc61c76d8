import type { Request, Response } from 'express';
import { depsOf } from '../../deps';
import { setFlash } from '../../middleware/flash';
import { withPage } from '../../middleware/page-transaction';
import * as requesters from '../../models/requesters';
import { paths } from '../../routes/paths';
import { clientIp } from '../../services/audit-trail';
import { ERASED, requestErasure } from '../../services/erasure';
import { portalScope } from '../../services/tickets';
import { requesterOf } from './your-data';

function scopeOf(res: Response) {
  return portalScope(res.locals.workspace.id, { kind: 'requester', ...requesterOf(res) });
}

/** "Are you sure?": what erasure does, once more, and the button that asks for it. */
export async function get(req: Request, res: Response): Promise<void> {
  const workspaceId = res.locals.workspace.id;
  const { requesterId } = requesterOf(res);
  const record = await withPage(req, res, scopeOf(res), (trx) =>
    requesters.findRecord(trx, workspaceId, requesterId),
  );
  // Already asked: the "Your data" page says so; there is nothing more to confirm.
  if (!record || record.erasureRequestedAt) return res.redirect(303, paths.portal.yourData);
  res.render('portal/erasure-confirm.njk', { placeholder: ERASED });
}

export async function post(req: Request, res: Response): Promise<void> {
  const workspaceId = res.locals.workspace.id;
  const viewer = requesterOf(res);
  await withPage(req, res, scopeOf(res), (trx) =>
    requestErasure(
      trx,
      { workspaceId, ip: clientIp(req.ip), at: depsOf(req).clock.now() },
      { id: viewer.requesterId, email: viewer.email },
    ),
  );
  setFlash(req, res, 'erasure-requested');
  res.redirect(303, paths.portal.yourData);
}
