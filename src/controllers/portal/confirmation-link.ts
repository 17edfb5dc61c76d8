import type { Request, Response } from 'express';
import { depsOf } from '../../deps';
import { setFlash } from '../../middleware/flash';
import { paths } from '../../routes/paths';
import { languageOf } from '../../middleware/page-language';
import { heldTicketRequester, sendConfirmationLink } from '../../services/address-confirmations';
import { mailLocale } from '../../services/mail-locale';
import { referenceOf, withViewerTicket } from './ticket';

/**
 * "Email me a new link" on a held ticket's page: the first link lasts an hour, the held ticket a
 * week. Limited like sign-in links, per address and per IP; a request inside the same minute is
 * answered as usual but sends nothing, as sign-in does. The mail is in this page's language: a
 * visitor proved no address, so it is not remembered on the requester.
 */
export async function post(req: Request, res: Response): Promise<void> {
  const deps = depsOf(req);
  const workspace = res.locals.workspace;
  await withViewerTicket(req, res, async (trx, ticket) => {
    if (ticket.heldSince === null) return;
    const requester = await heldTicketRequester(trx, ticket);
    const { email } = requester;
    const send = await deps.rateLimits.signinRequest({
      workspaceId: workspace.id,
      email,
      ip: req.ip ?? '',
    });
    if (!send) return;
    await sendConfirmationLink(
      trx,
      {
        templates: deps.templates,
        secret: deps.config.sessionSecret,
        config: deps.config,
        now: deps.clock.now(),
      },
      { workspace, ticket, email, locale: mailLocale(workspace, requester, languageOf(res)) },
    );
  });
  setFlash(req, res, 'confirmation-sent');
  res.redirect(303, paths.portal.ticket(referenceOf(req)));
}
