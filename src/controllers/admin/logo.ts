import type { Request, Response } from 'express';
import { withPage } from '../../middleware/page-transaction';
import { NotFoundError } from '../../errors';
import * as workspaces from '../../models/workspaces';
import { paths } from '../../routes/paths';
import { checkLogo } from '../../services/logos';
import { fieldError } from '../../validation/form-errors';
import { renderBranding } from './branding';
import { setFlash } from '../../middleware/flash';

/** The current logo for the branding page; the portal serves it too, but only while it is on. */
export async function get(req: Request, res: Response): Promise<void> {
  const workspaceId = res.locals.workspace.id;
  const logo = await withPage(req, res, { kind: 'agent', workspaceId }, (trx) =>
    workspaces.findLogo(trx, workspaceId),
  );
  if (!logo) throw new NotFoundError();
  res.set('Cache-Control', 'private, no-cache').type(logo.type).send(logo.content);
}

/** The upload was parsed (into memory, capped) by logoUpload; here its content decides. */
export async function post(req: Request, res: Response): Promise<void> {
  const check = checkLogo(req.file);
  if (!check.ok)
    return renderBranding(req, res, 422, { errors: fieldError('logo', check.message) });
  const workspaceId = res.locals.workspace.id;
  await withPage(req, res, { kind: 'agent', workspaceId }, (trx) =>
    workspaces.setLogo(trx, workspaceId, { content: check.content, type: check.type }),
  );
  setFlash(req, res, 'logo-saved');
  res.redirect(303, paths.admin.branding);
}

export async function remove(req: Request, res: Response): Promise<void> {
  const workspace = res.locals.workspace;
  if (workspace.logoType) {
    await withPage(req, res, { kind: 'agent', workspaceId: workspace.id }, (trx) =>
      workspaces.setLogo(trx, workspace.id, null),
    );
  }
  setFlash(req, res, 'logo-removed');
  res.redirect(303, paths.admin.branding);
}
