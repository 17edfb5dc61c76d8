import type { Request } from 'express';
import { isSupportedLanguage, supportedLanguages } from './languages';

/** The cookie the portal's language switcher sets: a language code, nothing secret. */
export const languageCookie = 'portal_lang';

/**
 * The language of a page: the one the visitor chose with the switcher (its cookie), else the best
 * their browser asks for (Express's negotiator: quality values honoured, "es-MX" takes "es"), else
 * the workspace's default. The default is offered first, so a browser that takes anything ("*")
 * or ranks two of ours equally gets the workspace's own language.
 */
export function negotiateLanguage(req: Request, workspaceDefault: string): string {
  const chosen: unknown = (req.cookies as Record<string, unknown> | undefined)?.[languageCookie];
  if (typeof chosen === 'string' && isSupportedLanguage(chosen)) return chosen;
  const fallback = isSupportedLanguage(workspaceDefault) ? workspaceDefault : 'en';
  if (!req.headers['accept-language']) return fallback;
  const offered = [
    fallback,
    ...supportedLanguages()
      .map((language) => language.code)
      .filter((code) => code !== fallback),
  ];
  const best = req.acceptsLanguages(offered);
  return typeof best === 'string' ? best : fallback;
}
