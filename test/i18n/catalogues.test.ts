import assert from 'node:assert/strict';
import {
  isPluralElement,
  isSelectElement,
  isTagElement,
  parse,
  TYPE,
  type MessageFormatElement,
} from '@formatjs/icu-messageformat-parser';
import { readCatalogues } from '../../src/i18n/catalogues';
import { supportedLanguages } from '../../src/i18n/languages';
import { translate } from '../../src/i18n/translate';

/** The placeholders and tags of a message, as "name:kind" strings, wherever they sit. */
function slotsOf(elements: MessageFormatElement[], into = new Set<string>()): Set<string> {
  for (const element of elements) {
    if (isTagElement(element)) {
      into.add(`<${element.value}>`);
      slotsOf(element.children, into);
    } else if (isPluralElement(element) || isSelectElement(element)) {
      into.add(`${element.value}:${isPluralElement(element) ? 'plural' : 'select'}`);
      for (const option of Object.values(element.options)) slotsOf(option.value, into);
    } else if (element.type !== TYPE.literal && element.type !== TYPE.pound && 'value' in element) {
      into.add(`${element.value}:value`);
    }
  }
  return into;
}

describe('message catalogues', () => {
  const catalogues = readCatalogues();
  const english = catalogues.get('en');

  it('has English, and every language names itself and its direction', () => {
    assert.ok(english, 'views/locales/en.json is missing');
    for (const [code, catalogue] of catalogues) {
      assert.ok(catalogue.get('language.name'), `${code} lacks language.name`);
      assert.match(catalogue.get('language.dir') ?? '', /^(ltr|rtl)$/, `${code}: language.dir`);
    }
    assert.deepEqual(
      supportedLanguages().map((language) => language.code),
      [...catalogues.keys()],
    );
  });

  for (const [code, catalogue] of readCatalogues()) {
    if (code === 'en') continue;
    it(`${code} has exactly English's keys`, () => {
      const missing = [...(english ?? [])].map(([key]) => key).filter((key) => !catalogue.has(key));
      const extra = [...catalogue.keys()].filter((key) => !english?.has(key));
      assert.deepEqual({ missing, extra }, { missing: [], extra: [] });
    });
  }

  for (const [code, catalogue] of readCatalogues()) {
    it(`${code}: every message parses and keeps English's placeholders and tags`, () => {
      const broken: string[] = [];
      for (const [key, message] of catalogue) {
        let slots: Set<string>;
        try {
          slots = slotsOf(parse(message));
        } catch (error) {
          broken.push(`${key}: ${(error as Error).message}`);
          continue;
        }
        const source = english?.get(key);
        if (code === 'en' || source === undefined) continue;
        const expected = [...slotsOf(parse(source))].sort();
        if (JSON.stringify([...slots].sort()) !== JSON.stringify(expected)) {
          broken.push(`${key}: has ${[...slots].sort().join(' ')}, English ${expected.join(' ')}`);
        }
      }
      assert.deepEqual(broken, []);
    });
  }

  it('formats in the language asked for, and English for one it does not have', () => {
    assert.equal(translate('ar', 'language.name'), 'العربية');
    assert.equal(translate('xx', 'language.name'), 'English');
    assert.throws(() => translate('en', 'no.such.key'), /no message/);
  });
});
