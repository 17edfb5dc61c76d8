import type { Request, Response } from 'express';
import { depsOf } from '../../deps';
import { languageOf } from '../../middleware/page-language';
import { withPage } from '../../middleware/page-transaction';
import { paths } from '../../routes/paths';
import { isSignInLinkUsable, redeemSignInLink } from '../../services/magic-links';
import { startRequesterSession } from '../../middleware/sessions';

function tokenOf(req: Request): string {
  const token = req.params.token;
  return typeof token === 'string' ? token : '';
}

function renderInvalid(res: Response): void {
  res.status(410).render('portal/link-invalid.njk');
}

/**
 * GET (and HEAD) only show a button: mail scanners that prefetch links must not spend them.
 */
export async function get(req: Request, res: Response): Promise<void> {
  const { clock } = depsOf(req);
  const workspaceId = res.locals.workspace.id;
  const token = tokenOf(req);
  const usable = await withPage(req, res, { kind: 'signin', workspaceId }, (trx) =>
    isSignInLinkUsable(trx, { workspaceId, token, now: clock.now() }),
  );
  if (!usable) return renderInvalid(res);
  res.render('portal/confirm-sign-in.njk', { action: paths.portal.signInLink(token) });
}

/** Spends the link, then starts a brand-new session (new id) for the requester. */
export async function post(req: Request, res: Response): Promise<void> {
  const { clock } = depsOf(req);
  const workspaceId = res.locals.workspace.id;
  const now = clock.now();
  const requester = await withPage(req, res, { kind: 'signin', workspaceId }, (trx) =>
    redeemSignInLink(trx, {
      workspaceId,
      token: tokenOf(req),
      now,
      ip: req.ip,
      language: languageOf(res),
    }),
  );
  if (!requester) return renderInvalid(res);
  await startRequesterSession(req, { workspaceId, requester, now });
  res.redirect(303, paths.portal.home);
}
