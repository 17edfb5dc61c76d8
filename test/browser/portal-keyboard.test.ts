import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import {
  aRequester,
  aTicket,
  anAgent,
  anAgentMessage,
  aWorkspace,
  rows,
} from '../helpers/fixtures';
import { describeInChromium } from './availability';
import { walkWholePage, tabTo, focusedStop, recordUnfocusedLooks } from './checks';
import {
  launchChromium,
  newContext,
  signInCodeIn,
  signInLinkIn,
  startServer,
  type RunningServer,
} from './harness';
import { h1 } from './locators';
import { translate } from '../../src/i18n/translate';

/*
 * Keyboard only: Tab, Shift+Tab, Enter and Space (and typing into fields). On every page the
 * journey passes, each Tab stop must show a focus indicator and the stops must follow the
 * visual order, starting with the skip link.
 */

describeInChromium('the customer portal in Chromium: keyboard only', function () {
  this.timeout(60_000);
  let browser: Browser;
  let server: RunningServer;
  let context: BrowserContext;
  let page: Page;

  before(async () => {
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
  });
  beforeEach(async () => {
    server = await startServer();
    context = await newContext(browser, true);
    page = await context.newPage();
  });
  afterEach(async () => {
    await context.close();
    await server.stop();
  });

  it('the skip link is the first Tab stop, visibly, and Enter on it moves focus to the main content', async () => {
    await aWorkspace('acme');
    await page.goto(`${server.origin('acme')}/tickets`);
    await recordUnfocusedLooks(page);
    await page.keyboard.press('Tab');
    const skip = await focusedStop(page);
    assert.ok(skip?.isSkipLink, `first stop: ${skip?.description}`);
    assert.ok(skip.indicator.length > 0, 'the skip link shows focus');
    assert.ok(skip.rect.top >= 0 && skip.rect.left >= 0, 'the focused skip link is on screen');
    await page.keyboard.press('Enter');
    assert.ok((await focusedStop(page))?.isMain, 'focus is on <main>');
    await page.keyboard.press('Tab');
    assert.match(
      (await focusedStop(page))?.description ?? '',
      /^input#email/,
      'the next stop is the first control of the page',
    );
  });

  it('a visitor switches the portal to Spanish from the footer with Tab and Enter, and lands on the same page', async () => {
    await aWorkspace('acme');
    await page.goto(`${server.origin('acme')}/tickets/login`);
    await walkWholePage(page, 'the sign-in page');
    await tabTo(page, /^a "Español"/);
    await page.keyboard.press('Enter');
    await page.waitForURL('**/tickets/login');
    assert.equal(await page.locator('html').getAttribute('lang'), 'es');
    assert.equal(
      await page.getByRole('button', { name: translate('es', 'portal.signIn.button') }).count(),
      1,
    );
    await walkWholePage(page, 'the sign-in page in Spanish');
  });

  it('a customer signs in and opens a ticket with the keyboard alone, seeing focus on every stop in reading order', async () => {
    const acme = await aWorkspace('acme');
    const jo = await aRequester(acme, 'jo@example.com', 'Jo Bloggs');
    const agent = await anAgent(acme);
    await aTicket(acme, jo, { subject: 'Invoice missing' });
    const printer = await aTicket(acme, jo, { subject: 'Printer on fire', status: 'resolved' });
    await anAgentMessage(printer, agent, 'Fixed: it was the fuser.');

    await page.goto(`${server.origin('acme')}/tickets`);
    await walkWholePage(page, 'the landing page');
    await tabTo(page, /^input#email/);
    await page.keyboard.type('jo@example.com');
    await page.keyboard.press('Tab');
    assert.match((await focusedStop(page))?.description ?? '', /^button "Email me a sign-in link"/);
    await page.keyboard.press('Shift+Tab');
    assert.match(
      (await focusedStop(page))?.description ?? '',
      /^input#email/,
      'Shift+Tab goes back to the field',
    );
    await page.keyboard.press('Tab');
    await page.keyboard.press('Space');
    await page.waitForURL('**/tickets/login');
    assert.equal(await h1(page), 'Check your email');
    await walkWholePage(page, 'the check-your-email page');

    // The link from the mail, as a mail program would open it.
    await page.goto(signInLinkIn(await server.waitForMail('jo@example.com')));
    await walkWholePage(page, 'the confirm page');
    await tabTo(page, /^button "Sign in"/);
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/tickets$/);
    assert.equal(await h1(page), 'Your tickets');
    await walkWholePage(page, 'the ticket list');
    await tabTo(page, /^a "Printer on fire"/);
    await page.keyboard.press('Enter');
    await page.waitForURL(`**/tickets/${printer.reference}`);
    assert.equal(await h1(page), 'Printer on fire');
    const stops = await walkWholePage(page, 'the ticket page');
    assert.ok(
      stops.some((s) => s.description.startsWith('input#rating')),
      'the rating radios are reachable',
    );

    // Space chooses a rating, Enter sends it.
    await tabTo(page, /^input#rating/);
    await page.keyboard.press('Space');
    await page.keyboard.press('Tab');
    assert.match((await focusedStop(page))?.description ?? '', /^textarea#comment/);
    await page.keyboard.type('Thanks!');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.waitForLoadState('load');
    assert.equal(await page.getByRole('status').innerText(), 'Thank you for your feedback.');
    assert.deepEqual(
      await rows('select rating, rating_comment from tickets where number = ?', [printer.number]),
      [{ rating: 1, rating_comment: 'Thanks!' }],
    );
  });

  it('a customer signs in with the code from the mail by keyboard alone, after a wrong one', async () => {
    await aWorkspace('acme');
    await page.goto(`${server.origin('acme')}/tickets/login`);
    await walkWholePage(page, 'the sign-in page');
    await tabTo(page, /^input#email/);
    await page.keyboard.type('jo@example.com');
    await page.keyboard.press('Enter');
    await page.waitForURL('**/tickets/login');
    assert.equal(await h1(page), 'Check your email');
    const code = signInCodeIn(await server.waitForMail('jo@example.com'));
    await walkWholePage(page, 'the check-your-email page');
    await tabTo(page, /^input#code/);
    await page.keyboard.type('2222-2222');
    await page.keyboard.press('Tab');
    assert.match((await focusedStop(page))?.description ?? '', /^button "Sign in with the code"/);
    await page.keyboard.press('Enter');
    await page.waitForURL('**/tickets/login/code');
    await walkWholePage(page, 'the check-your-email page with a wrong code');
    // The error summary's link takes focus to the field, ready to type again.
    await tabTo(page, /^a "That code is not right/);
    await page.keyboard.press('Enter');
    assert.match((await focusedStop(page))?.description ?? '', /^input#code/);
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.type(code);
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/tickets$/);
    assert.equal(await h1(page), 'Your tickets');
  });

  for (const colour of ['#ffff00', '#777777', '#0000ff']) {
    it(`under brand ${colour} every Tab stop still shows focus, also on buttons and error fields`, async () => {
      const workspace = await aWorkspace('brand', { color: colour, name: 'Brand Co' });
      const jo = await aRequester(workspace, 'jo@example.com', 'Jo Bloggs');
      const ticket = await aTicket(workspace, jo, {
        subject: 'Printer on fire',
        status: 'resolved',
      });
      await page.goto(`${server.origin('brand')}/tickets`);
      await walkWholePage(page, `the landing page in ${colour}`);
      await page.getByRole('button', { name: 'Email me a sign-in link' }).click();
      assert.equal(await h1(page), 'Sign in');
      await walkWholePage(page, `the sign-in page with an error in ${colour}`);
      await page.getByLabel('Email address').fill('jo@example.com');
      await page.getByRole('button', { name: 'Email me a sign-in link' }).click();
      await page.goto(signInLinkIn(await server.waitForMail('jo@example.com')));
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await walkWholePage(page, `the ticket list in ${colour}`);
      await page.getByRole('link', { name: ticket.subject }).click();
      await walkWholePage(page, `a ticket with its rating form in ${colour}`);
    });
  }
});
