import type { Request, Response } from 'express';
import { depsOf } from '../../deps';
import { NotFoundError } from '../../errors';
import { isSupportedLanguage } from '../../i18n/languages';
import { languageCookie } from '../../i18n/negotiation';
import { paths } from '../../routes/paths';

const YEAR_MS = 365 * 24 * 60 * 60 * 1000;

// In the path: two slashes (another host), a backslash (read as a slash) and a dot segment,
// plain or encoded (a way out of /tickets). Anywhere: control characters (CR and LF would split
// the header). The query may hold anything else: a search for "a/b" stays as it was.
const UNSAFE_PATH = /\/\/|\\|\.\.|%2e|%5c|%2f/i;
// eslint-disable-next-line no-control-regex -- matching control characters is the point here
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * Where the switcher may send the visitor back to: a page of this portal on this site, and
 * nothing that a browser could read as another site ("//evil.example", "/tickets\\…", a
 * scheme) or that could split the header. Anything else goes to the portal's start.
 */
export function safeBack(back: unknown): string {
  const root = paths.portal.root;
  if (typeof back !== 'string') return root;
  if (back !== root && !back.startsWith(`${root}/`) && !back.startsWith(`${root}?`)) return root;
  const path = back.split('?', 1)[0] ?? '';
  return UNSAFE_PATH.test(path) || CONTROL.test(back) ? root : back;
}

/**
 * The language switcher's link (GET, no JavaScript): remembers the language in a long-lived
 * cookie of the portal's path, no session row, and goes back to the page it was chosen on.
 */
export function get(req: Request, res: Response): void {
  const code = typeof req.params.code === 'string' ? req.params.code : '';
  if (!isSupportedLanguage(code)) throw new NotFoundError();
  res.cookie(languageCookie, code, {
    path: paths.portal.root,
    httpOnly: true,
    sameSite: 'lax',
    secure: depsOf(req).config.secureCookies,
    maxAge: YEAR_MS,
  });
  res.redirect(303, safeBack(req.query.back));
}
