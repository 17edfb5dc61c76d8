import type { Request, Response } from 'express';
import { depsOf } from '../../deps';

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;

/**
 * The accessibility statement: open to everyone while the portal is on, signed in or not. It
 * needs only the workspace the tenant middleware already read, so it queries nothing itself.
 */
export function get(req: Request, res: Response): void {
  const { config } = depsOf(req);
  res.render('portal/accessibility.njk', {
    contactEmail: res.locals.workspace.contactEmail,
    linkMinutes: Math.round(config.magicLinkTtlMs / MINUTE_MS),
    idleDays: Math.round(config.sessions.idleMs / DAY_MS),
  });
}
