import type { Request, Response } from 'express';
import { agentAudit, agentScope } from '../../middleware/admin-viewer';
import { withPage } from '../../middleware/page-transaction';
import { NotFoundError } from '../../errors';
import * as workspaces from '../../models/workspaces';
import { paths } from '../../routes/paths';
import { prepareLogo } from '../../services/logos';
import { removeLogo, setLogo } from '../../services/workspace-settings';
import { fieldError } from '../../validation/form-errors';
import { renderBranding } from './branding';
import { setFlash } from '../../middleware/flash';

/**
 * The current logo for the branding page, as customers see it: the resized copy (see
 * services/logos.ts). The portal serves it too, but only while it is on.
 */
export async function get(req: Request, res: Response): Promise<void> {
  const workspaceId = res.locals.workspace.id;
  const logo = await withPage(req, res, agentScope(res), (trx) =>
    workspaces.findServedLogo(trx, workspaceId),
  );
  if (!logo) throw new NotFoundError();
  res.set('Cache-Control', 'private, no-cache').type(logo.type).send(logo.content);
}

/**
 * The upload was parsed (into memory, capped) by logoUpload; here its content decides, and the
 * resized copy the portal serves is made before anything is stored.
 */
export async function post(req: Request, res: Response): Promise<void> {
  const check = await prepareLogo(req.file);
  if (!check.ok)
    return renderBranding(req, res, 422, { errors: fieldError('logo', check.message) });
  await withPage(req, res, agentScope(res), (trx) =>
    setLogo(trx, agentAudit(req, res), res.locals.workspace, {
      content: check.content,
      type: check.type,
      resized: check.resized,
    }),
  );
  setFlash(req, res, 'logo-saved');
  res.redirect(303, paths.admin.branding);
}

export async function remove(req: Request, res: Response): Promise<void> {
  const workspace = res.locals.workspace;
  if (workspace.logoType) {
    await withPage(req, res, agentScope(res), (trx) =>
      removeLogo(trx, agentAudit(req, res), workspace),
    );
  }
  setFlash(req, res, 'logo-removed');
  res.redirect(303, paths.admin.branding);
}
