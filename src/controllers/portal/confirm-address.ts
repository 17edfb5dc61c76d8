import type { Request, Response } from 'express';
import { depsOf } from '../../deps';
import { setFlash } from '../../middleware/flash';
import { languageOf } from '../../middleware/page-language';
import { withPage } from '../../middleware/page-transaction';
import { paths } from '../../routes/paths';
import { confirmAddress, isConfirmationLinkUsable } from '../../services/address-confirmations';
import { formatReference } from '../../services/references';

function tokenOf(req: Request): string {
  const token = req.params.token;
  return typeof token === 'string' ? token : '';
}

function renderInvalid(res: Response): void {
  res.status(410).render('portal/confirmation-invalid.njk');
}

/** GET (and HEAD) only show a button: mail scanners that prefetch links must not spend them. */
export async function get(req: Request, res: Response): Promise<void> {
  const { clock } = depsOf(req);
  const workspaceId = res.locals.workspace.id;
  const token = tokenOf(req);
  const usable = await withPage(req, res, { kind: 'signin', workspaceId }, (trx) =>
    isConfirmationLinkUsable(trx, { workspaceId, token, now: clock.now() }),
  );
  if (!usable) return renderInvalid(res);
  res.render('portal/confirm-address.njk', { action: paths.portal.confirmAddress(token) });
}

/**
 * Spends the link and releases the ticket. The browser that opened the ticket goes back to it;
 * any other (the mail read on a phone, say) gets a page saying it is done, and no session.
 */
export async function post(req: Request, res: Response): Promise<void> {
  const { clock, config, templates } = depsOf(req);
  const workspace = res.locals.workspace;
  const now = clock.now();
  const mail = { templates, secret: config.sessionSecret, config, now };
  const ticket = await withPage(req, res, { kind: 'signin', workspaceId: workspace.id }, (trx) =>
    confirmAddress(trx, mail, { workspace, token: tokenOf(req), now, language: languageOf(res) }),
  );
  if (!ticket) return renderInvalid(res);
  const viewer = res.locals.viewer;
  if (viewer?.kind === 'visitor' && viewer.ticketIds.includes(ticket.id)) {
    setFlash(req, res, 'confirmed');
    return res.redirect(303, paths.portal.ticket(formatReference(workspace.slug, ticket.number)));
  }
  res.redirect(303, paths.portal.addressConfirmed);
}

/** Where another device lands after confirming: it holds no session, so it names no ticket. */
export function done(_req: Request, res: Response): void {
  res.render('portal/address-confirmed.njk');
}
