import { translatorFor, type Translate } from './translate';

/**
 * `build` made once per language and input, then reused. For what a request would otherwise build
 * afresh from the page's translator: a form's zod schema (building the list page's search schema
 * on every request was a tenth of that page's CPU) or a sentence every page shows. The input is
 * a limit from the configuration, or the configuration's limits object itself, fixed while the
 * process runs: it is the key as it is (an object by identity, held weakly), so a request
 * serialises nothing to find its entry.
 */
export function perLanguage<I, R>(
  build: (t: Translate, input: I) => R,
  // A build that takes only the translator is called with the language alone.
): (language: string, ...input: unknown extends I ? [] : [input: I]) => R {
  const byLanguage = new Map<string, { objects: WeakMap<object, R>; values: Map<unknown, R> }>();
  return (language, ...rest) => {
    const input = rest[0] as I;
    let made = byLanguage.get(language);
    if (!made) {
      made = { objects: new WeakMap(), values: new Map() };
      byLanguage.set(language, made);
    }
    const byObject = typeof input === 'object' && input !== null;
    let result = byObject ? made.objects.get(input) : made.values.get(input);
    if (result === undefined) {
      result = build(translatorFor(language), input);
      if (byObject) made.objects.set(input, result);
      else made.values.set(input, result);
    }
    return result;
  };
}
