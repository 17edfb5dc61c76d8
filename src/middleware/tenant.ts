import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { healthOf } from '../db/availability';
import { depsOf } from '../deps';
import type { StandalonePool } from '../db/knex';
import { applyScope, type Scope } from '../db/scopes';
import { NotFoundError } from '../errors';
import * as workspaces from '../models/workspaces';
import type { Workspace } from '../models/workspaces';
import { beginPage, setPageScope } from './page-transaction';
import type { SessionStore } from './sessions';

declare module 'express-serve-static-core' {
  interface Locals {
    workspace: Workspace;
  }
}

/** A scope bound to one workspace: what a session may claim for its page transaction. */
export type WorkspaceScope = Exclude<Scope, { kind: 'system' | 'signin' }>;

/** What the request's session says it may see, before the workspace is known to match. */
export type ScopeClaim = (req: Request) => WorkspaceScope | undefined;

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
 * Resolves the workspace from the Host header (unknown hosts are 404 for everything below),
 * before the session middleware. When the request carries a session cookie of this app, the
 * statement that opens the page transaction reads the workspace and that session's row together
 * (one round trip), and the session store takes the row from there instead of reading it again.
 * The scope the session claims is set after the session middleware, by claimScope. The workspace
 * row is read afresh on every request, so a portal switch or a branding change is seen at once
 * by every instance.
 */
export function enterWorkspace(pool: StandalonePool, store?: SessionStore): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const { config, db, logger } = depsOf(req);
    const slug = slugOfHost(req.hostname, config.baseUrl.hostname);
    if (!slug) throw new NotFoundError();
    const signed = store && (req.signedCookies as Record<string, unknown>)[store.options.name];
    let workspace: Workspace | undefined;
    if (store && typeof signed === 'string' && signed) {
      const found = await workspaces.findWithSession(await beginPage(req, res), slug, {
        table: store.options.table,
        sid: signed,
        // The store's own read judges a row's expiry by the real clock; so does this one.
        now: Date.now(),
      });
      if (found) store.prefetch(signed, found.session);
      workspace = found?.workspace;
    } else {
      // No session: no scope to set, so no transaction to hold. The workspace row (no tenant
      // data, no row-level security) is one statement, on the pool of statements that stand
      // alone; any work the request does later gets a scoped transaction of its own.
      workspace = await workspaces.findBySlugAlone(pool, slug);
    }
    // The database answered: if it had been unreachable, that outage is over.
    healthOf(db, logger).up();
    if (!workspace) throw new NotFoundError();
    res.locals.workspace = workspace;
    next();
  };
}

/**
 * After the session middleware: the scope the live session claims becomes the page
 * transaction's, if it names this very workspace (a claim for another workspace sets nothing, so
 * the transaction sees no tenant rows). Setting it costs no round trip of its own: it travels
 * with the page's next statement (db/deferred-statements.ts).
 */
export function claimScope(claim: ScopeClaim): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const scope = claim(req);
    const page = res.locals.pageTransaction;
    if (scope && page?.open && scope.workspaceId === res.locals.workspace.id) {
      await applyScope(page.trx, scope);
      setPageScope(res, scope);
    }
    next();
  };
}

/** The Tickets Portal module switch: off means 404 on every portal URL, nothing else. */
export function requirePortalEnabled(_req: Request, res: Response, next: NextFunction): void {
  if (!res.locals.workspace.portalEnabled) throw new NotFoundError();
  next();
}
