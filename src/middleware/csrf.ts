import csurf from 'csurf';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { workspaceOrigin, type Config } from '../config';
import { depsOf } from '../deps';
import { ForbiddenError } from '../errors';
import type { SessionOptions } from './sessions';

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

function exposeToken(req: Request, res: Response, next: NextFunction): void {
  res.locals.csrfToken = req.csrfToken();
  next();
}

/**
 * The cookie holding an app's CSRF secret. Over https it is a `__Host-` cookie: Secure, Path=/ and
 * no Domain, so no sibling host (another workspace, say) can plant one; plain-http development
 * and tests, where browsers refuse that prefix, use the bare name.
 */
export function csrfCookieName(config: Pick<Config, 'secureCookies'>, app: SessionOptions): string {
  return config.secureCookies ? `__Host-${app.csrfCookie}` : app.csrfCookie;
}

/**
 * CSRF protection whose secret lives in a signed cookie rather than in the session, so a page
 * with a form writes no session row for an anonymous visitor (a crawler or a bot alike). The
 * token in each form is derived from that secret and checked against it on every POST; the
 * cookie is signed with the session secret, so a cookie planted by anyone else fails as well.
 * Put after cookie-parser and the body parser.
 */
export function csrfProtection(config: Config, app: SessionOptions): RequestHandler[] {
  const synchronizerToken = csurf({
    value: tokenOf,
    cookie: {
      key: csrfCookieName(config, app),
      path: '/',
      httpOnly: true,
      sameSite: 'lax',
      secure: config.secureCookies,
      signed: true,
    },
  });
  return [refuseCrossSite, synchronizerToken, exposeToken];
}

/** Whether an error is csurf's rejection of a missing or wrong token. */
export function isCsrfError(error: unknown): boolean {
  return (error as { code?: string } | null)?.code === 'EBADCSRFTOKEN';
}
