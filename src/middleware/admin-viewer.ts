import type { NextFunction, Request, Response } from 'express';
import { depsOf } from '../deps';
import { liveSession } from './sessions';
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
  const workspace = res.locals.workspace;
  res.locals.agent = undefined;
  const userId = req.session.userId;
  if (!(await liveSession(req, workspace.id)) || !userId) return next();
  res.locals.agent = await withScope(
    depsOf(req).db,
    { kind: 'agent', workspaceId: workspace.id },
    (trx) => users.findById(trx, workspace.id, userId),
  );
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
