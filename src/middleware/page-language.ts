import type { NextFunction, Request, Response } from 'express';
import { defaultLanguageCode, supportedLanguages } from '../i18n/languages';
import { negotiateLanguage } from '../i18n/negotiation';
import { translatorFor, type Translate } from '../i18n/translate';

/**
 * The portal page's language, for its templates (`lang`, `dir`, the switcher's `languages`) and
 * for anything the request queues in the customer's name. Reads only the request and the
 * workspace already loaded: choosing a language writes nothing.
 */
export function pageLanguage(req: Request, res: Response, next: NextFunction): void {
  const lang = negotiateLanguage(req, res.locals.workspace.defaultLanguage);
  const languages = supportedLanguages();
  res.locals.lang = lang;
  res.locals.dir = languages.find((language) => language.code === lang)?.dir ?? 'ltr';
  res.locals.languages = languages;
  // Where the switcher brings the visitor back: this page, its query too (a list's filters and
  // page). A page shown for a form's POST names its own GET page instead (renderTicketPage).
  res.locals.languageBack = req.originalUrl;
  res.setHeader('Content-Language', lang);
  res.vary('Accept-Language');
  next();
}

/**
 * The page's language, for what a request does in the customer's name: the mail it queues, the
 * language remembered on the requester.
 */
export function languageOf(res: Response): string {
  return res.locals.lang ?? defaultLanguageCode;
}

/** The page's `t`, for messages a controller puts on it (form errors); English off the portal. */
export function pageTranslator(res: Response): Translate {
  return translatorFor(languageOf(res));
}

declare module 'express-serve-static-core' {
  interface Locals {
    /** The page's language code (portal pages; see pageLanguage). */
    lang?: string;
    /** The page the language switcher returns to (see pageLanguage). */
    languageBack?: string;
  }
}
