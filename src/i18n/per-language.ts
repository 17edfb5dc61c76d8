import { translatorFor, type Translate } from './translate';

type Input = string | number | boolean | object;

/**
 * `build` made once per language and input, then reused. For what a request would otherwise build
 * afresh from the page's translator: a form's zod schema (building the list page's search schema
 * on every request was a tenth of that page's CPU) or a sentence every page shows. The inputs are
 * the configuration's limits, fixed while the process runs, so the cache holds a handful of
 * entries per language.
 */
export function perLanguage<A extends Input[], R>(
  build: (t: Translate, ...inputs: A) => R,
): (language: string, ...inputs: A) => R {
  const made = new Map<string, R>();
  return (language, ...inputs) => {
    const key = `${language}\u0000${inputs.map((input) => (typeof input === 'object' ? JSON.stringify(input) : String(input))).join('\u0000')}`;
    let result = made.get(key);
    if (result === undefined) {
      result = build(translatorFor(language), ...inputs);
      made.set(key, result);
    }
    return result;
  };
}
