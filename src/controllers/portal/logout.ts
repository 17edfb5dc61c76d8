import type { Request, Response } from 'express';
import { paths } from '../../routes/paths';
import { destroySession, portalSession } from '../../middleware/sessions';

export async function post(req: Request, res: Response): Promise<void> {
  await destroySession(req);
  res.clearCookie(portalSession.name, { path: portalSession.path });
  res.redirect(303, paths.portal.home);
}
