import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { readCatalogues } from '../../src/i18n/catalogues';
import { supportedLanguages } from '../../src/i18n/languages';
import { createTemplates, viewsDirectory } from '../../src/services/templates';
import { $ } from '../helpers/client';

const emailsDirectory = path.join(viewsDirectory, 'emails');
const mailTemplates = [
  ...readdirSync(emailsDirectory).map((name) => path.join(emailsDirectory, name)),
  path.join(viewsDirectory, 'layouts', 'email.njk'),
];

/**
 * Words a mail template may hold outside t()/tHtml(): none so far. An entry needs a reason (a
 * brand name, a unit every language writes alike), and the template the exception is in.
 */
const allowed: ReadonlyMap<string, readonly string[]> = new Map();

/**
 * What a template says in its own words: Nunjucks, tags, style sheets and character references
 * taken away.
 */
function literalText(source: string): string {
  return source
    .replace(/\{#[\s\S]*?#\}/g, ' ')
    .replace(/\{\{[\s\S]*?\}\}/g, ' ')
    .replace(/\{%[\s\S]*?%\}/g, ' ')
    .replace(/<!--[\s\S]*?-->/g, ' ')
    .replace(/<style[^>]*>[\s\S]*?<\/style>/g, ' ')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&[#a-zA-Z0-9]+;/g, ' ');
}

/** Every branch of every mail, as the services fill them in. */
function sampleMails(): { template: string; data: Record<string, unknown> }[] {
  const brand = {
    name: 'Acme Inc',
    colour: '#1d70b8',
    textColour: '#ffffff',
    linkColour: '#1d70b8',
    logo: { src: 'cid:logo', width: 32, height: 32 },
  };
  const ticket = { workspaceName: 'Acme Inc', reference: 'ACME-1001', ticketSubject: 'Printer' };
  const mails: { template: string; data: Record<string, unknown> }[] = [
    {
      template: 'sign-in',
      data: { workspaceName: 'Acme Inc', link: 'http://l', validMinutes: 60, code: 'ABCD-EFGH' },
    },
    {
      template: 'confirm-address',
      data: { ...ticket, link: 'http://l', validMinutes: 60, heldDays: 7 },
    },
  ];
  for (const link of ['http://l', undefined]) {
    for (const canReply of [true, false]) {
      mails.push({ template: 'ticket-opened', data: { ...ticket, link, canReply } });
      for (const count of [0, 1, 2]) {
        const files = [
          { name: 'a.pdf', size: { value: 340, unit: 'bytes' } },
          { name: 'b.png', size: { value: 1.5, unit: 'mb' } },
        ].slice(0, count);
        mails.push({
          template: 'agent-reply',
          data: { ...ticket, agentName: 'Alex', body: 'Hello', files, link, canReply },
        });
      }
    }
  }
  for (const reason of ['not-requester', 'unknown-token']) {
    for (const portalLink of ['http://l', undefined]) {
      mails.push({ template: 'mail-refused', data: { reason, portalLink } });
    }
  }
  return mails.flatMap((mail) => [mail, { ...mail, data: { ...mail.data, brand } }]);
}

describe('mail templates', () => {
  it('hold no words of their own: every sentence comes from the catalogues through t() or tHtml()', () => {
    const found: string[] = [];
    for (const file of mailTemplates) {
      const name = path.relative(viewsDirectory, file);
      const exceptions = allowed.get(name) ?? [];
      const words = literalText(readFileSync(file, 'utf8')).match(/[\p{L}][\p{L}\p{M}'’-]*/gu);
      for (const word of words ?? []) {
        if (!exceptions.includes(word)) found.push(`${name}: ${word}`);
      }
    }
    assert.deepEqual(found, []);
  });

  it('the check finds a sentence written into a template', () => {
    const words = literalText(
      '{# a comment #}<p class="x">{{ t("k") }} Please reply {{ x if a > b }}</p>&nbsp;',
    ).match(/\p{L}+/gu);
    assert.deepEqual(words, ['Please', 'reply']);
  });

  // English's sentences, at least three words long: a sentence of English left in another
  // language's mail (a key not translated, a branch that forgets t()) shows up as one of them.
  const english = [...(readCatalogues().get('en') ?? [])]
    .filter(([key]) => key.startsWith('mail.'))
    // Cut at placeholders, tags, plural and select syntax: what is left is words.
    .flatMap(([, message]) => message.split(/\{\s*\w+\s*(?:,[^{}]*)?\}|<\/?\w+>|#|[{}]/))
    .map((piece) => piece.trim())
    .filter((piece) => piece.split(/\s+/).length >= 3);

  for (const { code, dir } of supportedLanguages()) {
    it(`every mail renders in ${code}: <html lang dir>, and ${code === 'en' ? 'English' : 'no English sentence'}`, () => {
      assert.ok(english.includes('Select the link to sign in to the support portal:'));
      const templates = createTemplates();
      for (const { template, data } of sampleMails()) {
        const context = { ...data, subject: 'Subject', lang: code, dir, timeZone: 'UTC' };
        const html = templates.render(`emails/${template}.html.njk`, context);
        const text = templates.render(`emails/${template}.txt.njk`, context);
        const page = $(html);
        assert.equal(page('html').attr('lang'), code, template);
        assert.equal(page('html').attr('dir'), dir, template);
        if (code === 'en') continue;
        for (const sentence of english) {
          assert.ok(!text.includes(sentence), `${template}.txt in ${code}: "${sentence}"`);
          assert.ok(!page.text().includes(sentence), `${template}.html in ${code}: "${sentence}"`);
        }
      }
    });
  }
});
