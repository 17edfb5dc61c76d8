import type { NextFunction, Request, Response } from 'express';
import type { Scope } from '../db/scopes';
import { depsOf } from '../deps';
import { clientIp, userActor, type AuditContext } from '../services/audit-trail';
import { claimedWorkspaceId, liveSession } from './sessions';
import { ForbiddenError } from '../errors';
import * as users from '../models/users';
import type { User } from '../models/users';
import { paths } from '../routes/paths';
import { pageTransaction } from './page-transaction';
import type { ScopeClaim } from './tenant';

declare module 'express-serve-static-core' {
  interface Locals {
    agent: User | undefined;
  }
}

/** The scope an agent-app session claims: its workspace's, as this user. */
export const agentClaim: ScopeClaim = (req) => {
  const workspaceId = claimedWorkspaceId(req);
  const userId = req.session.userId;
  return workspaceId && userId ? { kind: 'agent', workspaceId, userId } : undefined;
};

/**
 * The signed-in agent of this workspace, from the agent app's own session. A requester's portal
 * session never reaches here: it lives under another cookie, path and table.
 */
export async function loadAgent(req: Request, res: Response, next: NextFunction): Promise<void> {
  const workspace = res.locals.workspace;
  res.locals.agent = undefined;
  const userId = req.session.userId;
  if (!(await liveSession(req, workspace.id)) || !userId) return next();
  // Read in the page transaction, whose agent scope the tenant middleware set from this session.
  res.locals.agent = await users.findById(pageTransaction(res), workspace.id, userId);
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

/** The signed-in agent's scope, the one the page transaction already holds; behind requireAgent. */
export function agentScope(res: Response): Scope {
  return { kind: 'agent', workspaceId: res.locals.workspace.id, userId: agentOf(res).id };
}

/** The signed-in agent as the audit trail records them: from this request's address, now. */
export function agentAudit(req: Request, res: Response): AuditContext {
  return {
    workspaceId: res.locals.workspace.id,
    actor: userActor(agentOf(res)),
    ip: clientIp(req.ip),
    at: depsOf(req).clock.now(),
  };
}

/** The signed-in agent; only for handlers behind requireAgent. */
export function agentOf(res: Response): User {
  const agent = res.locals.agent;
  if (!agent) throw new Error('admin route without requireAgent');
  return agent;
}
