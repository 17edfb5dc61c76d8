import type { Request, Response } from 'express';
import { withPage } from '../../middleware/page-transaction';
import { NotFoundError } from '../../errors';
import * as workspaces from '../../models/workspaces';
import { brandStylesheet, brandVersion } from '../../services/branding';

// Both URLs carry a version that changes with the content, so they may be cached for a year.
const IMMUTABLE = 'public, max-age=31536000, immutable';

export function stylesheet(req: Request, res: Response): void {
  const workspace = res.locals.workspace;
  if (req.params.version !== brandVersion(workspace.primaryColor, workspace.logoVersion)) {
    throw new NotFoundError();
  }
  res
    .set('Cache-Control', IMMUTABLE)
    .type('text/css')
    .send(brandStylesheet(workspace.primaryColor));
}

/** The resized copy of the logo (see services/logos.ts), so any logo keeps the page light. */
export async function logo(req: Request, res: Response): Promise<void> {
  const workspace = res.locals.workspace;
  const found = await withPage(req, res, { kind: 'system' }, (trx) =>
    workspaces.findServedLogo(trx, workspace.id),
  );
  if (!found || req.params.version !== String(found.version)) throw new NotFoundError();
  res
    .set('Cache-Control', IMMUTABLE)
    .set('X-Content-Type-Options', 'nosniff')
    .type(found.type)
    .send(found.content);
}
