import { Router } from 'express';
import type pg from 'pg';
import type { Config } from '../config';
import * as attachment from '../controllers/admin/attachment';
import * as audit from '../controllers/admin/audit';
import * as branding from '../controllers/admin/branding';
import * as contact from '../controllers/admin/contact';
import * as erasureRequests from '../controllers/admin/erasure-requests';
import * as ticketExport from '../controllers/admin/export';
import * as inbox from '../controllers/admin/inbox';
import * as login from '../controllers/admin/login';
import * as logo from '../controllers/admin/logo';
import * as modules from '../controllers/admin/modules';
import * as newTicket from '../controllers/admin/new-ticket';
import * as regional from '../controllers/admin/regional';
import * as reply from '../controllers/admin/reply';
import * as status from '../controllers/admin/status';
import * as ticket from '../controllers/admin/ticket';
import * as users from '../controllers/admin/users';
import { adminLocals } from '../middleware/admin-locals';
import { workspaceTimeZone } from '../middleware/page-time-zone';
import { agentClaim, loadAgent, requireAdmin, requireAgent } from '../middleware/admin-viewer';
import { chain } from '../middleware/chain';
import { csrfProtection } from '../middleware/csrf';
import { formBody } from '../middleware/form-body';
import { logoUpload } from '../middleware/logo-upload';
import { guardMultipartBody, multipartForm } from '../middleware/multipart-form';
import { adminSession, sessions, SessionStore } from '../middleware/sessions';
import { claimScope, enterWorkspace } from '../middleware/tenant';
import { paths } from './paths';

/**
 * Everything under /admin: tenant (the workspace and the agent app's own session row, cookie
 * admin_sid, Path=/admin, table admin_sessions, in the page transaction's first statement) →
 * session → the agent scope the session claims → body → agent → CSRF → controller. No module gate: agents work with
 * the portal on or off.
 */
export function adminRouter(config: Config, sessionPool: pg.Pool): Router {
  // Case-sensitive like the cookie path: /ADMIN would otherwise run without its session.
  const router = Router({ caseSensitive: true });
  const root = paths.admin.root;
  const store = new SessionStore(sessionPool, adminSession);
  router.use(
    root,
    chain(
      guardMultipartBody,
      enterWorkspace(sessionPool, store),
      sessions(config, store),
      claimScope(agentClaim),
      adminLocals,
      workspaceTimeZone,
      formBody(config.limits.requestBytes),
      loadAgent,
    ),
  );
  // The logo form is multipart: parsed before CSRF (which reads the token from the body), but
  // only for a signed-in admin, so nobody else can make the server buffer an upload.
  router.post(paths.admin.logo, requireAdmin, logoUpload);
  // The forms with files, likewise for agents only: fields now, files once the form is accepted.
  const fileForm = multipartForm(config.attachments, config.limits.requestBytes);
  router.post(paths.admin.newTicket, requireAgent, fileForm);
  router.post(paths.admin.reply(':ref'), requireAgent, fileForm);
  router.use(root, chain(csrfProtection(config, adminSession)));

  router.get(paths.admin.login, login.get);
  router.post(paths.admin.login, login.post);
  router.post(paths.admin.logout, requireAgent, login.logout);
  router.get(paths.admin.root, requireAgent, inbox.get);
  router.get(paths.admin.inbox, requireAgent, inbox.get);
  // Before any /tickets/:ref route, or export.csv would read as a reference.
  router.get(paths.admin.export, requireAgent, ticketExport.get);
  router.get(paths.admin.newTicket, requireAgent, newTicket.get);
  router.post(paths.admin.newTicket, requireAgent, newTicket.post);
  router.get(paths.admin.ticket(':ref'), requireAgent, ticket.get);
  router.post(paths.admin.reply(':ref'), requireAgent, reply.post);
  router.get(paths.admin.attachment(':ref', ':id'), requireAgent, attachment.get);
  router.post(paths.admin.status(':ref'), requireAgent, status.post);
  router.get(paths.admin.modules, requireAdmin, modules.get);
  router.post(paths.admin.modules, requireAdmin, modules.post);
  router.get(paths.admin.branding, requireAdmin, branding.get);
  router.post(paths.admin.branding, requireAdmin, branding.post);
  router.post(paths.admin.contact, requireAdmin, contact.post);
  router.get(paths.admin.brandPreview(':version'), requireAdmin, branding.previewStylesheet);
  router.get(paths.admin.logo, requireAdmin, logo.get);
  router.post(paths.admin.logo, requireAdmin, logo.post);
  router.post(paths.admin.logoRemove, requireAdmin, logo.remove);
  router.get(paths.admin.regional, requireAdmin, regional.get);
  router.post(paths.admin.regional, requireAdmin, regional.post);
  router.get(paths.admin.audit, requireAdmin, audit.get);
  router.get(paths.admin.erasureRequests, requireAdmin, erasureRequests.get);
  router.post(paths.admin.erase(':requesterId'), requireAdmin, erasureRequests.post);
  router.get(paths.admin.users, requireAdmin, users.get);
  router.post(paths.admin.users, requireAdmin, users.post);
  return router;
}
