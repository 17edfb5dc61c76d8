import type { NextFunction, Request, Response } from 'express';
import { depsOf } from '../deps';
import { regenerateSession, sessionExpired } from './sessions';
import { withScope } from '../db/scopes';
import { ForbiddenError } from '../errors';
import * as users from '../models/users';
import type { User } from '../models/users';
import { paths } from '../routes/paths';

declare module 'express-serve-static-core' {
  interface Locals {
    agent: User | undefined;
  }
}

/**
 * The signed-in agent of this workspace, from the agent app's own session. A requester's portal
 * session never reaches here: it lives under another cookie, path and table.
 */
export async function loadAgent(req: Request, res: Response, next: NextFunction): Promise<void> {
  const { clock, config, db } = depsOf(req);
  const workspace = res.locals.workspace;
  const session = req.session;
  res.locals.agent = undefined;
  if (session.workspaceId !== workspace.id || !session.userId || session.signedInAt === undefined) {
    return next();
  }
  const now = clock.now().getTime();
  if (
    sessionExpired(
      { signedInAt: session.signedInAt, lastSeenAt: session.lastSeenAt },
      now,
      config.sessions,
    )
  ) {
    await regenerateSession(req);
    return next();
  }
  const userId = session.userId;
  res.locals.agent = await withScope(db, { kind: 'agent', workspaceId: workspace.id }, (trx) =>
    users.findById(trx, workspace.id, userId),
  );
  session.lastSeenAt = now;
  next();
}

export function requireAgent(_req: Request, res: Response, next: NextFunction): void {
  if (!res.locals.agent) return res.redirect(303, paths.admin.login);
  next();
}

/** Settings and user management: admins only; other agents get 403. */
export function requireAdmin(_req: Request, res: Response, next: NextFunction): void {
  if (!res.locals.agent) return res.redirect(303, paths.admin.login);
  if (res.locals.agent.role !== 'admin') throw new ForbiddenError('admins only');
  next();
}

/** The signed-in agent; only for handlers behind requireAgent. */
export function agentOf(res: Response): User {
  const agent = res.locals.agent;
  if (!agent) throw new Error('admin route without requireAgent');
  return agent;
}
