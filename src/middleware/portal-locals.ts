import type { NextFunction, Request, Response } from 'express';
import type { AttachmentLimits } from '../config';
import { depsOf } from '../deps';
import { paths } from '../routes/paths';
import { attachmentHint } from '../services/attachments';
import { brandVersion } from '../services/branding';
import { perLanguage } from '../i18n/per-language';
import { languageOf } from './page-language';

// The same sentence on every page of a language: formatted once, not per request.
const hintIn = perLanguage((t, limits: AttachmentLimits) => attachmentHint(limits, t));

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
  res.locals.attachmentHint = hintIn(languageOf(res), depsOf(req).config.attachments);
  next();
}
