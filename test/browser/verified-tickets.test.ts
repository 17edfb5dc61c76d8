import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { anAgentWithPassword, aWorkspace, rows } from '../helpers/fixtures';
import { AuditLog, PageAudit } from './audit';
import { describeInChromium } from './availability';
import { launchChromium, newContext, startServer, Traffic, type RunningServer } from './harness';
import { errorSummary, h1, main } from './locators';

/*
 * Verified anonymous tickets in Chromium: the setting on Settings → Modules (with its error),
 * and the visitor's pages (the held ticket, the link's confirm page, the expired link, the page
 * another device lands on), with JavaScript on (axe) and off, at 320 px, by keyboard alone.
 */

const PASSWORD = 'correct horse battery staple';
const NOTICE =
  'Check your email to confirm your address. We will not look at your ticket until you do.';

function confirmLinkIn(raw: string): string {
  const match = /https?:\/\/[^\s"<>]+\/tickets\/confirm\/[A-Za-z0-9_-]{43}/.exec(raw);
  if (!match) throw new Error('no confirmation link in the mail');
  return match[0];
}

describeInChromium('verified anonymous tickets in Chromium', function () {
  this.timeout(60_000);
  let browser: Browser;
  let server: RunningServer;
  const log = new AuditLog('verified-tickets');

  before(async () => {
    browser = await launchChromium();
  });
  after(async function () {
    this.timeout(60_000);
    await browser?.close();
    log.finish();
  });
  beforeEach(async () => {
    server = await startServer();
  });
  afterEach(async () => {
    await server.stop();
  });

  async function open(javaScript: boolean, name: string) {
    const context: BrowserContext = await newContext(browser, javaScript);
    const traffic = await Traffic.record(context);
    const page: Page = await context.newPage();
    const audit = new PageAudit(page, traffic, { name, log, axe: javaScript, layout: true });
    return { context, page, audit };
  }

  it('Settings → Modules: the setting below the portal switch, its error, and saving it', async () => {
    const acme = await aWorkspace('acme');
    await anAgentWithPassword(acme, { email: 'ada@acme.test', password: PASSWORD, role: 'admin' });
    const { context, page, audit } = await open(true, 'verified-modules');
    try {
      await page.goto(`${server.origin('acme')}/admin/login`);
      await page.getByLabel('Email address').fill('ada@acme.test');
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in' }).click();
      // Signed in once the inbox has loaded: only then may the next page load begin.
      assert.equal(await h1(page), 'Inbox');
      await page.goto(`${server.origin('acme')}/admin/settings/modules`);
      const box = page.getByLabel(
        'Ask people who open a ticket without signing in to confirm their email address',
      );
      assert.equal(await box.isChecked(), false);
      await audit.check('modules', 'with the confirmation setting');

      // A value the checkbox never sends, as a tampered form would.
      await box.evaluate((el) => ((el as HTMLInputElement).value = 'yes'));
      await box.check();
      await page.getByRole('button', { name: 'Save modules' }).click();
      assert.equal((await audit.check('modules', 'refused value')).status, 422);
      assert.match(await errorSummary(page), /Tick the box to ask people to confirm/);

      await box.check();
      await page.getByRole('button', { name: 'Save modules' }).click();
      assert.match(await main(page).innerText(), /Your module settings were saved/);
      assert.equal(await box.isChecked(), true);
      await audit.check('modules', 'saved');
      assert.deepEqual(await rows('select confirm_anonymous_email from workspaces'), [
        { confirm_anonymous_email: true },
      ]);
    } finally {
      await context.close();
    }
  });

  for (const javaScript of [true, false]) {
    const mode = javaScript ? 'js-on' : 'js-off';
    it(`the visitor's pages, JavaScript ${javaScript ? 'on' : 'off'}: held ticket, confirm, expired link, confirmed elsewhere`, async () => {
      await aWorkspace('acme');
      await rows('update workspaces set confirm_anonymous_email = true');
      const origin = server.origin('acme');
      const { context, page, audit } = await open(javaScript, `verified-${mode}`);
      const phone = await open(javaScript, `verified-phone-${mode}`);
      try {
        await page.goto(`${origin}/tickets/new`);
        await page.getByLabel('Your name').fill('Sam Visitor');
        await page.getByLabel('Email address').fill('sam@example.com');
        await page.getByLabel('Subject').fill('Cannot download my invoice');
        await page.getByLabel('Description').fill('The download button does nothing.');
        await page.getByRole('button', { name: 'Open ticket' }).click();
        assert.equal(await h1(page), 'Cannot download my invoice');
        assert.match(await main(page).innerText(), new RegExp(NOTICE.replace(/\./g, '\\.')));
        await audit.check('held ticket', 'just opened');

        const first = confirmLinkIn((await server.waitForMail('sam@example.com')).raw);
        await page.getByRole('button', { name: 'Email me a new link' }).click();
        assert.match(await main(page).innerText(), /a new link is on its way/);
        await audit.check('held ticket', 'new link sent');
        const second = confirmLinkIn((await server.waitForMail('sam@example.com', 1)).raw);
        assert.notEqual(second, first);

        // The first link, used on another device: the ticket is released there.
        await phone.page.goto(first);
        assert.equal(await h1(phone.page), 'Confirm your email address');
        await phone.audit.check('confirm address');
        // By keyboard alone: the button is reachable with Tab and pressed with Enter.
        let focused = false;
        for (let i = 0; i < 20 && !focused; i += 1) {
          await phone.page.keyboard.press('Tab');
          focused = await phone.page
            .getByRole('button', { name: 'Confirm my email address' })
            .evaluate((el) => el === document.activeElement);
        }
        assert.ok(focused, 'the confirm button takes focus from the keyboard');
        await phone.page.keyboard.press('Enter');
        await phone.page.waitForURL(/\/tickets\/confirm\/done$/);
        assert.equal(await h1(phone.page), 'Email address confirmed');
        await phone.audit.check('address confirmed', 'on another device');

        // The second link now finds nothing to confirm: the expired-link page.
        await page.goto(second);
        assert.equal(await h1(page), 'This link has expired or was already used');
        assert.equal((await audit.check('confirmation link expired')).status, 410);

        await page.goto(`${origin}/tickets/ACME-1001`);
        assert.doesNotMatch(await main(page).innerText(), /We will not look at your ticket/);
        await audit.check('held ticket', 'released');
      } finally {
        await phone.context.close();
        await context.close();
      }
    });
  }
});
