import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import type { Workspace } from '../../src/models/workspaces';
import { aRequester, aTicket, aWorkspace, rows } from '../helpers/fixtures';
import { AuditLog, PageAudit, Titles } from './audit';
import { describeInChromium } from './availability';
import { screenshot, tabTo, walkWholePage } from './checks';
import { chromiumSuite, signInLinkIn } from './harness';
import { h1 } from './locators';
import { languageCookie } from '../../src/i18n/negotiation';

/*
 * The customer's preferences page (#12 point 3) in Chromium: the whole IANA list within the page
 * budget, the choice saved with JavaScript off (a plain POST) and on (axe, reflow at 320px, 200%
 * text), refused with its error summary, in English and in Arabic (right to left, screenshots at
 * 1280 and 320 px), and chosen with the keyboard alone.
 */

const portalNav = (page: Page) => page.getByRole('navigation', { name: 'Tickets portal' });

async function savedZone(): Promise<string | null> {
  const [row] = await rows<{ time_zone: string | null }>('select time_zone from requesters');
  return row!.time_zone;
}

describeInChromium('preferences in Chromium: the customer’s own time zone', function () {
  this.timeout(90_000);
  const log = new AuditLog('preferences');
  const suite = chromiumSuite(log);

  async function jo(): Promise<{ acme: Workspace; reference: string }> {
    const acme = await aWorkspace('acme', { timeZone: 'Europe/Madrid' });
    const requester = await aRequester(acme, 'jo@example.com', 'Jo Bloggs');
    // Opened at 09:00 UTC: 10:00 in Madrid, 18:00 in Tokyo.
    const ticket = await aTicket(acme, requester, { subject: 'Printer on fire' });
    return { acme, reference: ticket.reference };
  }

  async function signIn(page: Page, workspace: Workspace): Promise<void> {
    await page.goto(`${suite.server.origin(workspace.slug)}/tickets/login`);
    await page.getByLabel('Email address').fill('jo@example.com');
    await page.getByRole('button', { name: 'Email me a sign-in link' }).click();
    await page.goto(signInLinkIn(await suite.server.waitForMail('jo@example.com')));
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    assert.equal(await h1(page), 'Your tickets');
  }

  /** Submits a zone the list does not hold, as a tampered form would (needs JavaScript). */
  async function submitUnknownZone(page: Page): Promise<void> {
    await page.evaluate(() => {
      const select = document.querySelector<HTMLSelectElement>('#timeZone')!;
      select.add(new Option('Atlantis', 'Atlantis', true, true));
    });
    await page.locator('form[method=post] button[type=submit]').last().click();
  }

  for (const javaScript of [false, true]) {
    const mode = `JavaScript ${javaScript ? 'on' : 'off'}`;

    it(`a customer chooses Tokyo, sees it on their ticket, and goes back to the workspace’s zone with ${mode}`, async () => {
      const { acme, reference } = await jo();
      const { traffic, page } = await suite.profile(javaScript);
      const audit = new PageAudit(page, traffic, {
        name: `preferences-js-${javaScript ? 'on' : 'off'}`,
        log,
        titles: new Titles(),
        axe: javaScript,
        layout: javaScript,
      });
      await signIn(page, acme);

      await portalNav(page).getByRole('link', { name: 'Preferences' }).click();
      assert.equal(await h1(page), 'Your preferences');
      const zones = page.getByLabel('Time zone');
      assert.ok((await zones.locator('option').count()) > 400, 'the whole IANA list');
      await audit.check('preferences');

      await zones.selectOption({ label: 'Tokyo' });
      await page.getByRole('button', { name: 'Save preferences' }).click();
      assert.equal(await page.getByRole('status').innerText(), 'Your preferences have been saved.');
      assert.equal(await savedZone(), 'Asia/Tokyo');
      await audit.check('preferences', 'saved');

      await page.goto(`${suite.server.origin('acme')}/tickets/${reference}`);
      const time = page.locator('.message-meta time').first();
      assert.equal(await time.innerText(), '25 Nov 2026, 18:00 GMT+9');
      assert.equal(await time.getAttribute('datetime'), '2026-11-25T09:00:00.000Z');

      await portalNav(page).getByRole('link', { name: 'Preferences' }).click();
      await zones.selectOption({ label: 'Use Acme Inc’s time zone (Europe/Madrid)' });
      await page.getByRole('button', { name: 'Save preferences' }).click();
      assert.equal(await savedZone(), null);

      if (javaScript) {
        await submitUnknownZone(page);
        assert.equal(await page.locator('#timeZone-error').count(), 1);
        assert.equal((await audit.check('preferences', 'refused')).status, 422);
        assert.equal(await savedZone(), null);
      }
    });
  }

  it('in Arabic, right to left: the page, its notice and its error pass every check', async () => {
    const { acme } = await jo();
    const { traffic, page, context } = await suite.profile(true);
    const audit = new PageAudit(page, traffic, {
      name: 'preferences-ar',
      log,
      titles: new Titles(),
      axe: true,
      layout: true,
      lang: 'ar',
    });
    await signIn(page, acme);
    // As the footer's language switcher leaves it.
    const origin = suite.server.origin('acme');
    await context.addCookies([{ name: languageCookie, value: 'ar', url: `${origin}/tickets` }]);
    await page.goto(`${suite.server.origin('acme')}/tickets/preferences`);
    assert.equal(await h1(page), 'تفضيلاتك');
    const zones = page.getByLabel('المنطقة الزمنية');
    assert.ok(await zones.locator('optgroup[label="أوروبا"]').count());
    await audit.check('preferences');
    await screenshot(page, 'preferences-ar');

    await zones.selectOption({ label: 'Cairo' });
    await page.getByRole('button', { name: 'حفظ التفضيلات' }).click();
    assert.equal(await page.getByRole('status').innerText(), 'تم حفظ تفضيلاتك.');
    assert.equal(await savedZone(), 'Africa/Cairo');
    await audit.check('preferences', 'saved');

    await submitUnknownZone(page);
    assert.equal((await audit.check('preferences', 'refused')).status, 422);
    assert.match(await page.locator('#timeZone-error').innerText(), /اختر منطقة زمنية من القائمة/);
    await screenshot(page, 'preferences-ar-refused');
  });

  it('keyboard: a customer chooses a zone with Tab, typing and Enter alone, seeing focus on every stop', async () => {
    const { acme } = await jo();
    const { page } = await suite.profile(true);
    await signIn(page, acme);
    await page.goto(`${suite.server.origin('acme')}/tickets/preferences`);
    await walkWholePage(page, 'preferences');
    await tabTo(page, /^select#timeZone/);
    // A closed select takes type-ahead: the first option whose text starts with what is typed.
    await page.keyboard.type('Tokyo');
    await tabTo(page, /^button "Save preferences"/);
    await page.keyboard.press('Enter');
    await page.waitForLoadState('load');
    assert.equal(await page.getByRole('status').innerText(), 'Your preferences have been saved.');
    assert.equal(await savedZone(), 'Asia/Tokyo');
  });
});
