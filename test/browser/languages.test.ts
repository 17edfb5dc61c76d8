import assert from 'node:assert/strict';
import {
  isPluralElement,
  isSelectElement,
  isTagElement,
  parse,
  TYPE,
  type MessageFormatElement,
} from '@formatjs/icu-messageformat-parser';
import type { Page } from 'playwright-core';
import { readCatalogues } from '../../src/i18n/catalogues';
import { translate } from '../../src/i18n/translate';
import {
  aRequester,
  aTicket,
  anAgent,
  anAgentMessage,
  aWorkspace,
  setStatus,
} from '../helpers/fixtures';
import { AuditLog, PageAudit, Titles } from './audit';
import { describeInChromium } from './availability';
import { assertNoAxeViolations, assertReflows, screenshot } from './checks';
import { chromiumSuite, signInLinkIn } from './harness';
import { errorSummary, h1 } from './locators';

/*
 * The customer journey in each of the portal's languages, JavaScript off, as a customer who
 * chose the language with the switcher: every state through PageAudit (structure, lang, the
 * title's translated "Error:", weight, no script) plus axe, the 320px reflow and a search for
 * English left behind; Arabic also mirrored, by geometry and by screenshots.
 */

const catalogues = readCatalogues();
const english = catalogues.get('en')!;

/** The words of a message between its placeholders and tags, each run on its own. */
function literalRuns(elements: MessageFormatElement[], into: string[] = []): string[] {
  for (const element of elements) {
    if (element.type === TYPE.literal) into.push(element.value);
    else if (isTagElement(element)) literalRuns(element.children, into);
    else if (isPluralElement(element) || isSelectElement(element)) {
      for (const option of Object.values(element.options)) literalRuns(option.value, into);
    } else into.push('\u0000');
  }
  return into;
}

/**
 * The English sentences a page in `lang` must not show: every run of three words or more in an
 * English message, unless the language's own message says the same (a product name, a list of
 * file formats) or is the very same message.
 */
function englishSentences(lang: string): string[] {
  const own = catalogues.get(lang)!;
  const found = new Set<string>();
  for (const [key, message] of english) {
    const translated = own.get(key) ?? '';
    if (key.startsWith('language.') || translated === message) continue;
    const runs = literalRuns(parse(message)).join('').split('\u0000');
    for (const run of runs) {
      const text = run.replace(/\s+/g, ' ').trim();
      if (text.split(' ').filter((word) => /\p{L}/u.test(word)).length < 3) continue;
      if (translated.includes(text)) continue;
      found.add(text);
    }
  }
  return [...found];
}

/** All a reader meets on the page: its text, its title and its labels for assistive technology. */
function readable(page: Page): Promise<string> {
  return page.evaluate(() =>
    [
      document.title,
      document.body.innerText,
      ...[...document.querySelectorAll('[aria-label], [alt], [title]')].map((el) =>
        ['aria-label', 'alt', 'title'].map((name) => el.getAttribute(name) ?? '').join(' '),
      ),
    ]
      .join('\n')
      .replace(/\s+/g, ' '),
  );
}

async function assertNoEnglish(page: Page, sentences: string[], label: string): Promise<void> {
  const text = await readable(page);
  assert.deepEqual(
    sentences.filter((sentence) => text.includes(sentence)),
    [],
    `English left on ${label}`,
  );
}

type Box = { left: number; right: number; top: number; bottom: number };

function box(page: Page, selector: string): Promise<Box> {
  return page
    .locator(selector)
    .first()
    .evaluate((el) => {
      const r = el.getBoundingClientRect();
      return { left: r.left, right: r.right, top: r.top, bottom: r.bottom };
    });
}

/** Where the text of an element ends up: the box of its words, not of the element. */
function textBox(page: Page, selector: string): Promise<Box> {
  return page
    .locator(selector)
    .first()
    .evaluate((el) => {
      const range = document.createRange();
      range.selectNodeContents(el);
      const r = range.getBoundingClientRect();
      return { left: r.left, right: r.right, top: r.top, bottom: r.bottom };
    });
}

function borders(page: Page, selector: string): Promise<{ left: string; right: string }> {
  return page
    .locator(selector)
    .first()
    .evaluate((el) => {
      const s = getComputedStyle(el);
      return { left: s.borderLeftWidth, right: s.borderRightWidth };
    });
}

describeInChromium('the customer portal in each language, JavaScript off', function () {
  this.timeout(240_000);
  const log = new AuditLog('languages');
  const suite = chromiumSuite(log);

  for (const lang of catalogues.keys()) {
    it(`a customer signs in, reads, answers, opens, rates and meets errors in ${lang}`, async () => {
      const t = (key: string, values?: Record<string, string | number>) =>
        translate(lang, key, values);
      const sentences = lang === 'en' ? [] : englishSentences(lang);
      const acme = await aWorkspace('acme');
      const jo = await aRequester(acme, 'jo@example.com', 'Jo Bloggs');
      const agent = await anAgent(acme, { name: 'Alex Agent' });
      const printer = await aTicket(acme, jo, { subject: 'Impresora 3000', body: 'Humo.' });
      await anAgentMessage(printer, agent, 'Apártese de la impresora.');
      const origin = suite.server.origin('acme');

      const { traffic, page, context } = await suite.profile(false);
      await context.setExtraHTTPHeaders({ 'Accept-Language': 'en' });
      const audit = new PageAudit(page, traffic, {
        name: `languages-${lang}`,
        log,
        titles: new Titles(),
        axe: false,
        layout: false,
        lang,
      });
      // axe runs in a page with JavaScript (it is injected): the same HTML, shown there.
      const inspector = await suite.profile(true);
      await inspector.page.goto(`${origin}/tickets/accessibility`);
      const check = async (name: string, state = '') => {
        const result = await audit.check(name, state);
        const label = `${lang}: ${name} ${state}`;
        await assertNoEnglish(page, sentences, label);
        await assertReflows(page, label);
        const { html } = await traffic.page();
        await inspector.page.setContent(html, { waitUntil: 'load' });
        await assertNoAxeViolations(inspector.page, label);
        return result;
      };

      // The switcher, from the English landing page: the same page again, in the language.
      await page.goto(`${origin}/tickets`);
      assert.equal(
        await h1(page),
        translate('en', 'portal.landing.heading', { brand: 'Acme Inc' }),
      );
      if (lang !== 'en') {
        const name = catalogues.get(lang)!.get('language.name')!;
        await page
          .getByRole('navigation', { name: 'Language' })
          .getByRole('link', { name })
          .click();
      }
      assert.equal(page.url(), `${origin}/tickets`);
      assert.equal(await page.locator('html').getAttribute('lang'), lang);
      assert.equal(await page.locator('html').getAttribute('dir'), lang === 'ar' ? 'rtl' : 'ltr');
      assert.equal(await h1(page), t('portal.landing.heading', { brand: 'Acme Inc' }));
      await check('landing');

      // Sign in: an empty form first (the error), then by the mailed link.
      await page.getByRole('button', { name: t('portal.signIn.button') }).click();
      assert.equal((await check('sign in', 'empty email')).status, 422);
      assert.match(await errorSummary(page), new RegExp(t('forms.email.missing')));
      await page.getByLabel(t('portal.email.label')).fill('jo@example.com');
      await page.getByRole('button', { name: t('portal.signIn.button') }).click();
      assert.equal(await h1(page), t('portal.checkEmail.title'));
      await check('check email');
      await page.goto(signInLinkIn(await suite.server.waitForMail('jo@example.com')));
      await check('confirm sign-in');
      await page
        .getByRole('button', { name: t('portal.confirmSignIn.button'), exact: true })
        .click();
      assert.equal(await h1(page), t('layout.nav.yourTickets'));
      await check('ticket list');

      // The ticket, an empty reply (the error), a reply.
      await page.getByRole('link', { name: 'Impresora 3000' }).click();
      assert.equal(await h1(page), 'Impresora 3000');
      await check('ticket');
      await page.getByRole('button', { name: t('portal.ticket.reply.button') }).click();
      assert.equal((await check('ticket', 'empty reply')).status, 422);
      assert.match(await errorSummary(page), new RegExp(t('forms.body.missing')));
      if (lang === 'ar') {
        await screenshot(page, 'arabic-reply-error');
        // The error's bar and the thread's bars on the right, the hint along the field's right.
        assert.deepEqual(await borders(page, '.form-group-error'), { left: '0px', right: '5px' });
        assert.deepEqual(await borders(page, '.message-agent'), { left: '0px', right: '5px' });
        assert.deepEqual(await borders(page, '.message-requester'), { left: '0px', right: '5px' });
        const [field, hint] = [
          await box(page, '#attachments'),
          await textBox(page, '#attachments-hint'),
        ];
        assert.ok(
          Math.abs(hint.right - field.right) < 2,
          `hint ${hint.right}, field ${field.right}`,
        );
        const [summary, title] = [
          await box(page, '.error-summary'),
          await textBox(page, '.error-summary-title'),
        ];
        assert.ok(summary.right - title.right < 30, 'the summary reads from the right');
        assert.ok(title.left - summary.left > 100, 'and not from the left');
        const [first, second] = [
          await box(page, '.site-nav li:nth-child(1)'),
          await box(page, '.site-nav li:nth-child(2)'),
        ];
        assert.ok(first.left > second.right, 'the navigation starts on the right');
        const [own, other] = [
          await box(page, 'footer nav > :nth-child(1)'),
          await box(page, 'footer nav > :nth-child(2)'),
        ];
        assert.ok(own.left > other.right, 'the languages start on the right');
      }
      await page.getByLabel(t('portal.ticket.reply.label')).fill('Ya me he apartado.');
      await page.getByRole('button', { name: t('portal.ticket.reply.button') }).click();
      assert.equal(await page.getByRole('status').innerText(), t('portal.ticket.notice.replied'));
      await check('ticket', 'replied');

      // A new ticket: empty (the errors), then filled in.
      await page
        .getByRole('navigation', { name: t('layout.nav.label') })
        .getByRole('link', { name: t('layout.nav.newTicket') })
        .click();
      await check('new ticket');
      await page.getByRole('button', { name: t('portal.newTicket.button') }).click();
      assert.equal((await check('new ticket', 'empty')).status, 422);
      await page.getByLabel(t('portal.newTicket.subject')).fill('Escáner');
      await page.getByLabel(t('portal.newTicket.description')).fill('Atasco.');
      await page.getByRole('button', { name: t('portal.newTicket.button') }).click();
      assert.equal(await h1(page), 'Escáner');
      await check('new ticket', 'opened');

      // The team resolves the first ticket; the customer rates it, first without stars.
      await setStatus(printer, 'resolved');
      await page.goto(`${origin}/tickets/${printer.reference}`);
      await page.getByRole('button', { name: t('portal.ticket.rating.button') }).click();
      assert.equal((await check('ticket', 'no rating chosen')).status, 422);
      assert.match(await errorSummary(page), new RegExp(t('forms.rating.choose')));
      if (lang === 'ar') {
        await screenshot(page, 'arabic-rating');
        const stars = await Promise.all(
          ['#rating', '#rating-2', '#rating-3', '#rating-4', '#rating-5'].map((s) => box(page, s)),
        );
        // Read from the right: each star left of the one before, or on the next row down.
        for (let i = 1; i < stars.length; i += 1) {
          const [before, star] = [stars[i - 1]!, stars[i]!];
          const sameRow = Math.abs(star.top - before.top) < 5;
          assert.ok(
            sameRow ? star.right < before.left : star.top > before.bottom,
            `star ${i + 1} follows star ${i} right to left`,
          );
        }
        assert.ok(stars[0]!.left > stars[1]!.right, 'the first star is the rightmost');
      }
      await page.getByRole('radio', { name: t('rating.option', { stars: 4 }) }).check();
      await page.getByRole('button', { name: t('portal.ticket.rating.button') }).click();
      assert.equal(await page.getByRole('status').innerText(), t('portal.ticket.notice.rated'));
      await check('ticket', 'rated');

      // An error page.
      await page.goto(`${origin}/tickets/no/such/page`);
      assert.equal(await h1(page), t('errors.notFound.title'));
      assert.equal((await check('not found')).status, 404);
      assert.deepEqual(traffic.scriptsAndFonts(), [], 'no script or font was ever requested');
    });
  }
});
