import type { NextFunction, Request, Response } from 'express';
import { depsOf } from '../deps';
import { withScope } from '../db/scopes';
import { NotFoundError } from '../errors';
import * as workspaces from '../models/workspaces';
import type { Workspace } from '../models/workspaces';

declare module 'express-serve-static-core' {
  interface Locals {
    workspace: Workspace;
  }
}

/** The workspace slug of a host `<slug>.<base host>`, or undefined for any other host. */
export function slugOfHost(hostname: string, baseHostname: string): string | undefined {
  const suffix = `.${baseHostname.toLowerCase()}`;
  const host = hostname.toLowerCase();
  if (!host.endsWith(suffix)) return undefined;
  const slug = host.slice(0, -suffix.length);
  return /^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$/.test(slug) ? slug : undefined;
}

/** Resolves the workspace from the Host header; unknown hosts are 404 for everything below. */
export async function resolveTenant(
  req: Request,
  res: Response,
  next: NextFunction,
): Promise<void> {
  const { config, db } = depsOf(req);
  const slug = slugOfHost(req.hostname, config.baseUrl.hostname);
  const workspace = slug
    ? await withScope(db, { kind: 'system' }, (trx) => workspaces.findBySlug(trx, slug))
    : undefined;
  if (!workspace) throw new NotFoundError();
  res.locals.workspace = workspace;
  next();
}

/** The Tickets Portal module switch: off means 404 on every portal URL, nothing else. */
export function requirePortalEnabled(_req: Request, res: Response, next: NextFunction): void {
  if (!res.locals.workspace.portalEnabled) throw new NotFoundError();
  next();
}
