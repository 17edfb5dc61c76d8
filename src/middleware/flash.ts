import type { Request, Response } from 'express';
import { depsOf } from '../deps';

/*
 * A one-time notice for the page a POST redirects to ("Your reply was sent"). It travels in a
 * short-lived signed cookie of the app's own path rather than in the session, so showing it
 * writes nothing to the database.
 */

const FLASH_MAX_AGE_MS = 5 * 60_000;

export function setFlash(req: Request, res: Response, notice: string): void {
  const { flashCookie, path } = res.locals.sessionOptions;
  res.cookie(flashCookie, notice, {
    path,
    httpOnly: true,
    sameSite: 'lax',
    secure: depsOf(req).config.secureCookies,
    signed: true,
    maxAge: FLASH_MAX_AGE_MS,
  });
}

/** The notice set by the previous response, if any; it is cleared so it shows once. */
export function takeFlash(req: Request, res: Response): string | undefined {
  const { flashCookie, path } = res.locals.sessionOptions;
  const notice = (req.signedCookies as Record<string, unknown>)[flashCookie];
  if (notice === undefined) return undefined;
  res.clearCookie(flashCookie, { path });
  return typeof notice === 'string' ? notice : undefined;
}
