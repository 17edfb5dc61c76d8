import { readCatalogues, type Catalogue } from './catalogues';

/** A language the portal speaks: its code and its name in itself ("Español"), as the switcher shows it. */
export interface Language {
  code: string;
  name: string;
  dir: 'ltr' | 'rtl';
}

export const defaultLanguageCode = 'en';

// Read once: the catalogues ship with the code, so a change to them is a deploy.
const catalogues = readCatalogues();

const languages: readonly Language[] = [...catalogues].map(([code, catalogue]) => ({
  code,
  name: catalogue.get('language.name') ?? code,
  dir: catalogue.get('language.dir') === 'rtl' ? 'rtl' : 'ltr',
}));

export function supportedLanguages(): readonly Language[] {
  return languages;
}

export function isSupportedLanguage(code: string): boolean {
  return catalogues.has(code);
}

export function catalogueOf(code: string): Catalogue | undefined {
  return catalogues.get(code);
}
