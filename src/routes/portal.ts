import { Router } from 'express';
import type pg from 'pg';
import type { Config } from '../config';
import * as accessibility from '../controllers/portal/accessibility';
import * as attachment from '../controllers/portal/attachment';
import * as brand from '../controllers/portal/brand';
import * as erasure from '../controllers/portal/erasure';
import * as confirmAddress from '../controllers/portal/confirm-address';
import * as confirmationLink from '../controllers/portal/confirmation-link';
import * as home from '../controllers/portal/home';
import * as language from '../controllers/portal/language';
import * as login from '../controllers/portal/login';
import * as logout from '../controllers/portal/logout';
import * as newTicket from '../controllers/portal/new-ticket';
import * as preferences from '../controllers/portal/preferences';
import * as rating from '../controllers/portal/rating';
import * as reply from '../controllers/portal/reply';
import * as signInCode from '../controllers/portal/sign-in-code';
import * as signInLink from '../controllers/portal/sign-in-link';
import * as ticket from '../controllers/portal/ticket';
import * as yourData from '../controllers/portal/your-data';
import * as ticketStatus from '../controllers/portal/ticket-status';
import { chain } from '../middleware/chain';
import { csrfProtection } from '../middleware/csrf';
import { formBody } from '../middleware/form-body';
import { guardMultipartBody, multipartForm } from '../middleware/multipart-form';
import { pageLanguage } from '../middleware/page-language';
import { portalTimeZone } from '../middleware/page-time-zone';
import { portalLocals } from '../middleware/portal-locals';
import {
  loadViewer,
  portalClaim,
  requireRequester,
  requireViewer,
} from '../middleware/portal-viewer';
import { portalSession, sessions, SessionStore } from '../middleware/sessions';
import { claimScope, enterWorkspace, requirePortalEnabled } from '../middleware/tenant';
import { paths } from './paths';

/**
 * Everything under /tickets: session → tenant (opening the page transaction with the scope the
 * session claims) → module gate → body (a file form's fields only) → CSRF → viewer → controller.
 */
export function portalRouter(config: Config, sessionPool: pg.Pool): Router {
  // Case-sensitive like the cookie's Path=/tickets: /TICKETS would otherwise run without a session.
  const router = Router({ caseSensitive: true });
  const root = paths.portal.root;
  // Branding needs no session: it is public and cached.
  const brandTenant = [enterWorkspace(sessionPool), requirePortalEnabled];
  router.get(paths.portal.brandCss(':version'), brandTenant, brand.stylesheet);
  router.get(paths.portal.logo(':version'), brandTenant, brand.logo);

  // The workspace and the session row are read by one statement (the page transaction's first);
  // the scope the session claims is set once the session is known. The module gate still
  // answers before anything is written or a cookie is set.
  const store = new SessionStore(sessionPool, portalSession);
  router.use(
    root,
    chain(
      guardMultipartBody,
      enterWorkspace(sessionPool, store),
      sessions(config, store),
      claimScope(portalClaim),
      pageLanguage,
      requirePortalEnabled,
      portalLocals,
      formBody(config.limits.requestBytes),
    ),
  );
  // The forms with files: their fields are read before the CSRF check (which reads the token from
  // them), their files only by a controller that accepted the form.
  const fileForm = multipartForm(config.attachments, config.limits.requestBytes);
  router.post(paths.portal.newTicket, fileForm);
  router.post(paths.portal.reply(':ref'), fileForm);
  router.use(root, chain(csrfProtection(config, portalSession), loadViewer, portalTimeZone));

  router.get(paths.portal.home, home.get);
  // Before /tickets/:ref, which would take "accessibility" for a reference.
  router.get(paths.portal.accessibility, accessibility.get);
  router.get(paths.portal.language(':code'), language.get);
  router.get(paths.portal.login, login.get);
  router.post(paths.portal.login, login.post);
  // Before the link's route, which would take `code` for a (malformed) token.
  router.get(paths.portal.signInCode, signInCode.get);
  router.post(paths.portal.signInCode, signInCode.post);
  router.get(paths.portal.signInLink(':token'), signInLink.get);
  router.post(paths.portal.signInLink(':token'), signInLink.post);
  router.post(paths.portal.logout, logout.post);
  router.get(paths.portal.newTicket, newTicket.get);
  router.post(paths.portal.newTicket, newTicket.post);
  // Before /tickets/:ref, which would take "your-data" for a reference. A visitor's session is
  // not a verified identity (anyone can type an address into the new-ticket form): signed-in
  // requesters only.
  router.get(paths.portal.yourData, requireRequester, yourData.get);
  router.get(paths.portal.yourDataPage, requireRequester, yourData.page);
  router.get(paths.portal.yourDataJson, requireRequester, yourData.json);
  router.get(paths.portal.erasure, requireRequester, erasure.get);
  router.post(paths.portal.erasure, requireRequester, erasure.post);
  // Before /tickets/:ref too; a visitor has no requester to keep a preference on.
  router.get(paths.portal.preferences, requireRequester, preferences.get);
  router.post(paths.portal.preferences, requireRequester, preferences.post);
  router.get(paths.portal.ticket(':ref'), requireViewer, ticket.get);
  router.post(paths.portal.reply(':ref'), requireViewer, reply.post);
  router.get(paths.portal.attachment(':ref', ':id'), requireViewer, attachment.get);
  router.post(paths.portal.rating(':ref'), requireViewer, rating.post);
  router.post(paths.portal.confirmationLink(':ref'), requireViewer, confirmationLink.post);
  router.get(paths.portal.addressConfirmed, confirmAddress.done);
  router.get(paths.portal.confirmAddress(':token'), confirmAddress.get);
  router.post(paths.portal.confirmAddress(':token'), confirmAddress.post);
  router.post(paths.portal.solve(':ref'), requireViewer, ticketStatus.solve);
  router.post(paths.portal.reopen(':ref'), requireViewer, ticketStatus.reopen);
  return router;
}
