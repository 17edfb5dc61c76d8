import type { NextFunction, Request, Response } from 'express';
import { depsOf } from '../deps';
import { paths } from '../routes/paths';
import { attachmentHint } from '../services/attachments';

/** What every agent-app template may use. The agent app is not branded: it is our own tool. */
export function adminLocals(req: Request, res: Response, next: NextFunction): void {
  res.locals.workspaceName = res.locals.workspace.name;
  res.locals.paths = paths;
  res.locals.limits = depsOf(req).config.limits;
  res.locals.attachmentHint = attachmentHint(depsOf(req).config.attachments);
  next();
}
