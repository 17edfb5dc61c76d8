import type { Request, Response } from 'express';
import { agentAudit, agentScope } from '../../middleware/admin-viewer';
import { setFlash, takeFlash } from '../../middleware/flash';
import { withPage } from '../../middleware/page-transaction';
import { NotFoundError } from '../../errors';
import { paths } from '../../routes/paths';
import { eraseRequester, ERASED, listErasureRequests } from '../../services/erasure';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Settings → Erasure requests: customers who asked to be erased, the longest waiting first. */
export async function get(req: Request, res: Response): Promise<void> {
  const workspaceId = res.locals.workspace.id;
  const requests = await withPage(req, res, agentScope(res), (trx) =>
    listErasureRequests(trx, workspaceId),
  );
  res.render('admin/erasure-requests.njk', {
    section: 'settings',
    settingsPage: 'erasure',
    requests: requests.map((r) => ({ ...r, action: paths.admin.erase(r.id) })),
    placeholder: ERASED,
    flash: takeFlash(req, res),
  });
}

/** Carries one request out. Not a pending request of this workspace (or not an id): 404. */
export async function post(req: Request, res: Response): Promise<void> {
  const id = req.params.requesterId;
  if (typeof id !== 'string' || !UUID.test(id)) throw new NotFoundError();
  await withPage(req, res, agentScope(res), (trx) => eraseRequester(trx, agentAudit(req, res), id));
  setFlash(req, res, 'erased');
  res.redirect(303, paths.admin.erasureRequests);
}
