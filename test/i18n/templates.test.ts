import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createTemplates, viewsDirectory } from '../../src/services/templates';

/**
 * The templates a customer's pages are made of. The agent app's own pages (views/admin) and
 * the mails (views/emails) are not here: the first stay English, the second have their own test.
 */
const customerTemplates = [
  ...['portal', 'portal/partials', 'components', 'errors'].flatMap((folder) =>
    readdirSync(path.join(viewsDirectory, folder))
      .filter((name) => name.endsWith('.njk'))
      .map((name) => `${folder}/${name}`),
  ),
  'layouts/base.njk',
  'layouts/portal.njk',
  'layouts/error.njk',
];

// Words that are the same in every language: the software's name (the error pages' title when
// no workspace is known, and the bare layout's header).
const allowed = ['Tickets Portal'];

/** What a reader would see of the template's own words: tags, Nunjucks and comments taken out. */
function literalText(source: string): string {
  let text = source
    .replace(/\{#[\s\S]*?#\}/g, ' ')
    .replace(/\{%[\s\S]*?%\}/g, ' ')
    .replace(/\{\{[\s\S]*?\}\}/g, ' ')
    .replace(/<[^>]*>/g, ' ')
    // Attributes a macro writes outside a tag of its own (aria-describedby="…-hint").
    .replace(/[\w-]+="[^"]*"/g, ' ')
    .replace(/&[a-z]+;|&#\d+;/g, ' ');
  for (const word of allowed) text = text.split(word).join(' ');
  return text;
}

/** Attributes a reader meets (labels for assistive technology, tooltips) that hold literal words. */
function literalAttributes(source: string): string[] {
  const withoutCode = source.replace(/\{\{[\s\S]*?\}\}/g, '');
  return [...withoutCode.matchAll(/\b(aria-label|alt|title|placeholder)="([^"]*)"/g)]
    .map((match) => match[2]!)
    .filter((value) => /\p{L}/u.test(value));
}

/** Sentences hidden in Nunjucks code: a string literal of two words or more ("Very poor"). */
function sentencesInCode(source: string): string[] {
  const code = [...source.matchAll(/\{%[\s\S]*?%\}|\{\{[\s\S]*?\}\}/g)].map((m) => m[0]);
  return code
    .flatMap((block) => [...block.matchAll(/'([^']*)'|"([^"]*)"/g)])
    .map((match) => match[1] ?? match[2] ?? '')
    .filter((literal) => /\p{L}\s+\p{L}/u.test(literal) && !allowed.includes(literal));
}

describe('customer-facing templates hold keys, not English', () => {
  it('finds the templates', () => {
    assert.ok(customerTemplates.includes('portal/ticket.njk'));
    assert.ok(customerTemplates.includes('errors/404.njk'));
    assert.ok(customerTemplates.length > 30, String(customerTemplates.length));
  });

  for (const template of customerTemplates) {
    it(`${template} has no words outside t() and tHtml()`, () => {
      const source = readFileSync(path.join(viewsDirectory, template), 'utf8');
      const words = literalText(source)
        .split(/\s+/)
        .filter((word) => /\p{L}/u.test(word));
      assert.deepEqual(words, [], 'words in the markup');
      assert.deepEqual(literalAttributes(source), [], 'words in attributes');
      assert.deepEqual(sentencesInCode(source), [], 'sentences in Nunjucks code');
    });
  }

  it('catches a literal sentence, attribute or string (the check itself)', () => {
    assert.match(literalText('<p>{{ t("a") }} Hello there</p>'), /Hello there/);
    assert.deepEqual(literalAttributes('<ul aria-label="Attached files">'), ['Attached files']);
    assert.deepEqual(sentencesInCode("{% set w = ['', 'Very poor'] %}"), ['Very poor']);
    assert.equal(literalText('{# a comment #}{% if x %}{{ y }}{% endif %}').trim(), '');
  });
});

describe('a status tag', () => {
  const env = createTemplates();
  const tag = (lang: string, status: string, audience = '') =>
    env.renderString(`{{ statusTag(status${audience ? `, '${audience}'` : ''}) }}`, {
      lang,
      status,
    });

  it('says the status in the page’s language and to its audience, however pages alternate', () => {
    // Made once per language, audience and status, and kept: the kept ones must not mix.
    for (let round = 0; round < 2; round += 1) {
      assert.equal(
        tag('en', 'pending'),
        '<strong class="tag tag-pending">Waiting for you</strong>',
      );
      assert.equal(
        tag('en', 'pending', 'agent'),
        '<strong class="tag tag-pending">Pending</strong>',
      );
      assert.equal(tag('de', 'pending'), '<strong class="tag tag-pending">Wartet auf Sie</strong>');
      assert.equal(tag('de', 'open'), '<strong class="tag tag-open">Offen</strong>');
    }
  });

  it('escapes a status it has no word for', () => {
    assert.equal(
      tag('en', '<b>"x"&\'y\''),
      '<strong class="tag tag-&lt;b&gt;&quot;x&quot;&amp;&#39;y&#39;">&lt;b&gt;&quot;x&quot;&amp;&#39;y&#39;</strong>',
    );
  });
});
