import assert from 'node:assert/strict';
import { perLanguage } from '../../src/i18n/per-language';
import { parseTicketListFilters } from '../../src/validation/ticket-list-filters';

describe('made once per language', () => {
  it('builds once for each language and input, and in that language', () => {
    let builds = 0;
    const hint = perLanguage((t, limits: { maxFiles: number }) => {
      builds += 1;
      return t('forms.status.choose') + String(limits.maxFiles);
    });
    // The configuration's limits: one object for the life of the process.
    const limits = { maxFiles: 5 };
    const english = hint('en', limits);
    assert.equal(hint('en', limits), english);
    assert.equal(builds, 1, 'the same language and input: built once');
    const spanish = hint('es', limits);
    assert.notEqual(spanish, english);
    assert.notEqual(hint('en', { maxFiles: 6 }), english);
    assert.equal(builds, 3);
  });

  it('a cached form schema still answers in each page’s own language', () => {
    const errorIn = (language: string) => {
      const parsed = parseTicketListFilters({ status: 'nonsense' }, language);
      assert.equal(parsed.ok, false);
      return parsed.ok ? '' : parsed.errors.fields.status;
    };
    const english = errorIn('en');
    const german = errorIn('de');
    assert.ok(english && german && english !== german, `${english} / ${german}`);
    assert.equal(errorIn('en'), english);
    assert.equal(errorIn('de'), german);
  });
});
