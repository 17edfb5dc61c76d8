import { IntlMessageFormat, type PrimitiveType } from 'intl-messageformat';
import {
  isLiteralElement,
  isPluralElement,
  isSelectElement,
  isTagElement,
  type MessageFormatElement,
} from '@formatjs/icu-messageformat-parser';
import { catalogueOf, defaultLanguageCode, isSupportedLanguage } from './languages';

export type MessageValues = Record<string, PrimitiveType>;

/** Formats one catalogue message in one language; the page's `t(key, values)`. */
export type Translate = (key: string, values?: MessageValues) => string;

// Compiled on first use and kept: parsing ICU is the expensive part, formatting is cheap, and the
// set of keys × languages is fixed by the catalogues, so this cannot grow without bound. Most
// messages are plain text (no placeholder, plural or tag): those are kept as their text, since
// formatting one still builds arrays for every call, and a page holds dozens of them.
type Compiled = string | IntlMessageFormat;
const compiled = new Map<string, Map<string, Compiled>>();

function compile(language: string, key: string): Compiled {
  let ofLanguage = compiled.get(language);
  if (!ofLanguage) {
    ofLanguage = new Map();
    compiled.set(language, ofLanguage);
  }
  let format = ofLanguage.get(key);
  if (format === undefined) {
    // A key the language lacks falls back to English (the catalogue test keeps that from
    // happening); a key English lacks is a programming error.
    const message = catalogueOf(language)?.get(key) ?? catalogueOf(defaultLanguageCode)?.get(key);
    if (message === undefined) throw new Error(`no message "${key}" in the catalogues`);
    const parsed = new IntlMessageFormat(message, language);
    const ast = parsed.getAst();
    const [only] = ast;
    format =
      ast.length === 0
        ? ''
        : ast.length === 1 && only && isLiteralElement(only)
          ? only.value
          : parsed;
    ofLanguage.set(key, format);
  }
  return format;
}

function formatted(format: Compiled, values: Record<string, unknown> | undefined): unknown {
  return typeof format === 'string' ? format : format.format(values);
}

export function translate(language: string, key: string, values?: MessageValues): string {
  const code = isSupportedLanguage(language) ? language : defaultLanguageCode;
  return String(formatted(compile(code, key), values));
}

export function translatorFor(language: string): Translate {
  return (key, values) => translate(language, key, values);
}

const htmlEscapes: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

// Without the global flag: a test keeps no lastIndex. Most text has nothing to escape, and a
// test is far cheaper than a replace with a callback.
const needsEscaping = /[&<>"']/;

export function escapeHtml(text: string): string {
  return needsEscaping.test(text)
    ? text.replace(/[&<>"']/g, (c) => htmlEscapes[c] as string)
    : text;
}

// Elements a message may wrap words in as they are; any other tag must be given an address in
// the values and becomes a link to it.
const plainTags = new Set(['strong', 'em', 'code', 'b']);

/**
 * A message with markup in it, for a sentence with a link or emphasis inside
 * ("Read our <link>accessibility statement</link>"): every value is escaped, `<strong>` and
 * friends stay what they are, and a tag named in `values` becomes `<a href="value">`. The
 * result is HTML: mark it safe where it is put in a page.
 */
export function translateHtml(language: string, key: string, values: MessageValues = {}): string {
  const code = isSupportedLanguage(language) ? language : defaultLanguageCode;
  const escaped: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(values)) {
    escaped[name] = typeof value === 'string' ? escapeHtml(value) : value;
  }
  const tag = (name: string) => (chunks: unknown[]) => {
    const inner = chunks.join('');
    if (plainTags.has(name)) return `<${name}>${inner}</${name}>`;
    const href = values[name];
    if (typeof href !== 'string') throw new Error(`message "${key}": no address for <${name}>`);
    return `<a href="${escapeHtml(href)}">${inner}</a>`;
  };
  const format = compile(code, key);
  // Plain text has no tags and no values to escape; the catalogue's own text is trusted markup.
  if (typeof format === 'string') return format;
  for (const name of tagsOf(format)) escaped[name] = tag(name);
  const parts = format.format(escaped as never);
  return Array.isArray(parts) ? parts.join('') : String(parts);
}

// The tag names in a compiled message, wherever they sit (inside a plural's branch too).
function tagsOf(format: IntlMessageFormat): Set<string> {
  const names = new Set<string>();
  const walk = (elements: MessageFormatElement[]): void => {
    for (const element of elements) {
      if (isTagElement(element)) {
        names.add(element.value);
        walk(element.children);
      } else if (isPluralElement(element) || isSelectElement(element)) {
        for (const option of Object.values(element.options)) walk(option.value);
      }
    }
  };
  walk(format.getAst());
  return names;
}
