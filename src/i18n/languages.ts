/** A language the portal speaks: its code and its name in itself ("Español"), as the switcher shows it. */
export interface Language {
  code: string;
  name: string;
  dir: 'ltr' | 'rtl';
}

// Placeholder until the catalogues land: the list will be read from the catalogue files, so
// adding a language is adding a file. Keep this signature.
const placeholder: readonly Language[] = [
  { code: 'en', name: 'English', dir: 'ltr' },
  { code: 'es', name: 'Español', dir: 'ltr' },
  { code: 'de', name: 'Deutsch', dir: 'ltr' },
  { code: 'ar', name: 'العربية', dir: 'rtl' },
];

export function supportedLanguages(): readonly Language[] {
  return placeholder;
}

export function isSupportedLanguage(code: string): boolean {
  return supportedLanguages().some((language) => language.code === code);
}
