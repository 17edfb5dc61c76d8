import type { NextFunction, Request, Response } from 'express';
import { readerTimeZone } from '../i18n/time-zones';

declare module 'express-serve-static-core' {
  interface Locals {
    /** The IANA zone the page's times are shown in (the humanTime filter reads it). */
    timeZone?: string;
  }
}

/**
 * A portal page's zone: the signed-in requester's choice, else the workspace's. The choice is
 * copied into the session row at sign-in and when they change it, so no page looks the
 * requester up for it (#8). Anonymous visitors see the workspace's zone.
 */
export function portalTimeZone(req: Request, res: Response, next: NextFunction): void {
  const chosen =
    res.locals.viewer?.kind === 'requester' ? req.session.requesterTimeZone : undefined;
  res.locals.timeZone = readerTimeZone(chosen, res.locals.workspace.timeZone);
  next();
}

/** An agent-app page's zone: the workspace's, the same for everyone on the team. */
export function workspaceTimeZone(_req: Request, res: Response, next: NextFunction): void {
  res.locals.timeZone = readerTimeZone(undefined, res.locals.workspace.timeZone);
  next();
}
