import type { NextFunction, Request, Response } from 'express';
import { depsOf } from '../deps';
import { paths } from '../routes/paths';
import { attachmentHint } from '../services/attachments';
import { brandVersion } from '../services/branding';
import { pageTranslator } from './page-language';

/** What every portal template may use: the workspace's face, the paths and the input limits. */
export function portalLocals(req: Request, res: Response, next: NextFunction): void {
  const workspace = res.locals.workspace;
  const version = brandVersion(workspace.primaryColor, workspace.logoVersion);
  res.locals.brand = {
    name: workspace.name,
    stylesheet: paths.portal.brandCss(version),
    logo: workspace.logoType ? paths.portal.logo(workspace.logoVersion) : null,
  };
  res.locals.paths = paths;
  res.locals.limits = depsOf(req).config.limits;
  res.locals.attachmentHint = attachmentHint(depsOf(req).config.attachments, pageTranslator(res));
  next();
}
