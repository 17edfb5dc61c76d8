import { defaultLanguageCode, isSupportedLanguage, supportedLanguages } from '../i18n/languages';
import { defaultTimeZone, readerTimeZone } from '../i18n/time-zones';
import type { Requester } from '../models/requesters';
import type { Workspace } from '../models/workspaces';

/** The language a mail is written in and the zone its times are shown in: its reader's. */
export interface MailLocale {
  lang: string;
  timeZone: string;
}

/** For an answer to mail that names no workspace: nobody's preferences are known. */
export const noWorkspaceLocale: MailLocale = {
  lang: defaultLanguageCode,
  timeZone: defaultTimeZone,
};

/**
 * A customer's mail: in the language of the page that caused it when there is one (they are
 * reading it now), else the one they last used the portal in, else the workspace's; times in
 * the zone they chose, else the workspace's. A code no catalogue has any more (a language
 * removed since) is passed over, as is a zone the runtime no longer knows.
 */
export function mailLocale(
  workspace: Pick<Workspace, 'defaultLanguage' | 'timeZone'>,
  requester?: Pick<Requester, 'language' | 'timeZone'>,
  pageLanguage?: string,
): MailLocale {
  const lang =
    [pageLanguage, requester?.language, workspace.defaultLanguage].find(
      (code): code is string => typeof code === 'string' && isSupportedLanguage(code),
    ) ?? defaultLanguageCode;
  return { lang, timeZone: readerTimeZone(requester?.timeZone, workspace.timeZone) };
}

/** The text direction a mail's HTML declares for its language. */
export function directionOf(lang: string): 'ltr' | 'rtl' {
  return supportedLanguages().find((language) => language.code === lang)?.dir ?? 'ltr';
}
