import csurf from 'csurf';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { workspaceOrigin } from '../config';
import { depsOf } from '../deps';
import { ForbiddenError } from '../errors';

/*
 * The only file that knows csurf (archived upstream): swapping to csrf-sync changes this file alone.
 */

declare module 'express-serve-static-core' {
  interface Locals {
    csrfToken: string;
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Fetch Metadata and Origin: browsers tell us when a request comes from another site.
 * A state-changing request marked cross-site, or from a foreign Origin, is refused outright.
 */
function refuseCrossSite(req: Request, res: Response, next: NextFunction): void {
  if (SAFE_METHODS.has(req.method)) return next();
  if (req.get('sec-fetch-site') === 'cross-site') throw new ForbiddenError('cross-site request');
  const origin = req.get('origin');
  const site = req.get('sec-fetch-site');
  // Under our Referrer-Policy: no-referrer, browsers send `Origin: null` even on a same-origin
  // form post. Fetch Metadata (which no page can forge) then says where it came from; browsers
  // too old to send it (Safari before 16.4) are judged by the CSRF token and SameSite cookie.
  const opaqueButOurs = origin === 'null' && (site === 'same-origin' || site === undefined);
  if (origin !== undefined && !opaqueButOurs) {
    const expected = workspaceOrigin(depsOf(req).config, res.locals.workspace.slug);
    if (origin !== expected) throw new ForbiddenError('foreign origin');
  }
  next();
}

// The token is read from the form field or a header only, never from the query string.
function tokenOf(req: Request): string {
  const body = req.body as Record<string, unknown> | undefined;
  const field = body?._csrf;
  if (typeof field === 'string') return field;
  return req.get('x-csrf-token') ?? '';
}

const synchronizerToken = csurf({ cookie: false, value: tokenOf });

function exposeToken(req: Request, res: Response, next: NextFunction): void {
  res.locals.csrfToken = req.csrfToken();
  next();
}

/** Session-mode CSRF protection; put after the session and body parser. */
export const csrfProtection: RequestHandler[] = [refuseCrossSite, synchronizerToken, exposeToken];

/** Whether an error is csurf's rejection of a missing or wrong token. */
export function isCsrfError(error: unknown): boolean {
  return (error as { code?: string } | null)?.code === 'EBADCSRFTOKEN';
}
