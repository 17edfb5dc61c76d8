import type { Request, Response } from 'express';
import { depsOf } from '../deps';
import { paths } from '../routes/paths';

/*
 * The key that lets a sign-in code work in the browser that asked for the mail, and nowhere
 * else. It travels in a cookie of its own rather than in a session: asking for a mail must not
 * start a session row for someone not yet signed in, and the key is needed only by the sign-in
 * pages, so the cookie goes to them alone, for as long as the code works.
 */

const COOKIE = 'portal_signin_code';

export function setSignInCodeKey(req: Request, res: Response, key: string): void {
  const { config } = depsOf(req);
  res.cookie(COOKIE, key, {
    path: paths.portal.login,
    httpOnly: true,
    // Only our own pages post the code: no other site's link or form needs to carry the key.
    sameSite: 'strict',
    secure: config.secureCookies,
    signed: true,
    maxAge: config.signInCode.ttlMs,
  });
}

/** The key this browser holds, if any (a cookie with a wrong signature counts as none). */
export function signInCodeKeyOf(req: Request): string | undefined {
  const key = (req.signedCookies as Record<string, unknown>)[COOKIE];
  return typeof key === 'string' ? key : undefined;
}

/** Once signed in, the key has no further use. */
export function clearSignInCodeKey(res: Response): void {
  res.clearCookie(COOKIE, { path: paths.portal.login });
}
