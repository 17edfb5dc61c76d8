import type { NextFunction, Request, Response } from 'express';
import { claimedWorkspaceId, liveSession, regenerateSession } from './sessions';
import type { Workspace } from '../models/workspaces';
import type { ScopeClaim } from './tenant';
import { paths } from '../routes/paths';
import type { PortalViewer } from '../services/tickets';

declare module 'express-serve-static-core' {
  interface Locals {
    viewer: PortalViewer | undefined;
  }
}

/** The scope a portal session claims: its requester's, or a visitor's tickets. */
export const portalClaim: ScopeClaim = (req) => {
  const workspaceId = claimedWorkspaceId(req);
  if (!workspaceId) return undefined;
  const { requesterId, visitorTicketIds } = req.session;
  if (requesterId) return { kind: 'requester', workspaceId, requesterId };
  if (visitorTicketIds?.length)
    return { kind: 'visitor', workspaceId, ticketIds: visitorTicketIds };
  return undefined;
};

/**
 * Who this portal session belongs to. Sessions end after a spell without use and at the latest
 * some days after sign-in (both in config), judged by the injected clock.
 */
export async function loadViewer(req: Request, res: Response, next: NextFunction): Promise<void> {
  const workspace = res.locals.workspace;
  const session = req.session;
  res.locals.viewer = undefined;
  if (signedInBeforeSwitchOff(req, workspace)) await regenerateSession(req);
  if (!(await liveSession(req, workspace.id))) return next();

  // Who signed in is kept in the session row itself, so a page need not look the requester up:
  // the page transaction's scope already limits every read to their rows.
  if (session.requesterId && session.requesterEmail) {
    res.locals.viewer = {
      kind: 'requester',
      requesterId: session.requesterId,
      email: session.requesterEmail,
    };
  } else if (session.visitorTicketIds?.length) {
    res.locals.viewer = { kind: 'visitor', ticketIds: session.visitorTicketIds };
  }
  next();
}

/** Switching the portal off ended every session begun before (see services/workspaces.ts). */
function signedInBeforeSwitchOff(req: Request, workspace: Workspace): boolean {
  const { signedInAt, workspaceId } = req.session;
  const after = workspace.portalSessionsAfter;
  return (
    workspaceId === workspace.id &&
    after !== null &&
    signedInAt !== undefined &&
    signedInAt <= after.getTime()
  );
}

/** Pages that need a viewer send everyone else to the sign-in page. */
export function requireViewer(_req: Request, res: Response, next: NextFunction): void {
  if (!res.locals.viewer) return res.redirect(303, paths.portal.login);
  next();
}

/** Only a signed-in requester (not an anonymous visitor). */
export function requireRequester(_req: Request, res: Response, next: NextFunction): void {
  if (res.locals.viewer?.kind !== 'requester') return res.redirect(303, paths.portal.login);
  next();
}
