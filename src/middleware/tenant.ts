import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { healthOf } from '../db/availability';
import { depsOf } from '../deps';
import type { Scope } from '../db/scopes';
import { NotFoundError } from '../errors';
import * as workspaces from '../models/workspaces';
import type { Workspace } from '../models/workspaces';
import { beginPage, setPageScope } from './page-transaction';

declare module 'express-serve-static-core' {
  interface Locals {
    workspace: Workspace;
  }
}

/** A scope bound to one workspace: what a session may claim for its page transaction. */
export type WorkspaceScope = Exclude<Scope, { kind: 'system' | 'signin' }>;

/** What the request's session says it may see, before the workspace is known to match. */
export type ScopeClaim = (req: Request) => WorkspaceScope | undefined;

/** For requests that carry no session (the brand stylesheet and logo). */
export const noClaim: ScopeClaim = () => undefined;

/**
 * The workspace slug of a host `<slug>.<base host>`, or undefined for any other host. Express
 * types `req.hostname` as a string, but it is undefined when the Host header is empty.
 */
export function slugOfHost(hostname: string | undefined, baseHostname: string): string | undefined {
  if (!hostname) return undefined;
  const suffix = `.${baseHostname.toLowerCase()}`;
  const host = hostname.toLowerCase();
  if (!host.endsWith(suffix)) return undefined;
  const slug = host.slice(0, -suffix.length);
  return /^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$/.test(slug) ? slug : undefined;
}

/**
 * Resolves the workspace from the Host header (unknown hosts are 404 for everything below). For
 * a signed-in session it is read by the statement that opens the page transaction and sets the
 * scope the session claims, which holds only if the claim names this workspace. The row is read afresh on every request, so a
 * portal switch or a branding change is seen at once by every instance.
 */
export function resolveTenant(claim: ScopeClaim): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const slug = slugOfHost(req.hostname, depsOf(req).config.baseUrl.hostname);
    if (!slug) throw new NotFoundError();
    const scope = claim(req);
    let workspace: Workspace | undefined;
    if (scope) {
      workspace = await workspaces.enterBySlug(await beginPage(req, res), slug, scope);
      if (workspace?.id === scope.workspaceId) setPageScope(res, scope);
    } else {
      // Nobody signed in: no scope to set, so no transaction to hold. The workspace row (no
      // tenant data, no row-level security) is one statement; any work the request does later
      // gets a scoped transaction of its own.
      workspace = await workspaces.findBySlug(depsOf(req).db, slug);
    }
    // The database answered: if it had been unreachable, that outage is over.
    const { db, logger } = depsOf(req);
    healthOf(db, logger).up();
    if (!workspace) throw new NotFoundError();
    res.locals.workspace = workspace;
    next();
  };
}

/** The Tickets Portal module switch: off means 404 on every portal URL, nothing else. */
export function requirePortalEnabled(_req: Request, res: Response, next: NextFunction): void {
  if (!res.locals.workspace.portalEnabled) throw new NotFoundError();
  next();
}
