import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { Workspace } from '../../src/models/workspaces';
import {
  aRequester,
  aTicket,
  anAgent,
  anAgentMessage,
  aWorkspace,
  rows,
} from '../helpers/fixtures';
import { freePort } from '../../src/db/embedded';
import { withScope } from '../../src/db/scopes';
import * as workspaces from '../../src/models/workspaces';
import { testDatabase } from '../helpers/database';
import { AuditLog, PageAudit } from './audit';
import { describeInChromium } from './availability';
import {
  aPng,
  launchChromium,
  newContext,
  signInCodeIn,
  signInLinkIn,
  startServer,
  Traffic,
  type RunningServer,
} from './harness';
import { errorSummary, h1 } from './locators';
import sharp from 'sharp';
import { randomBytes } from 'node:crypto';
import { resizeLogo } from '../../src/services/logos';

/*
 * The states a happy journey does not reach: error pages, an empty list, a long thread, and
 * workspace colours that are hard on contrast. JavaScript on, so axe runs on each.
 */

describeInChromium(
  'the customer portal in Chromium: error pages, edge states and brand colours',
  function () {
    this.timeout(60_000);
    let browser: Browser;
    let server: RunningServer;
    let context: BrowserContext;
    let page: Page;
    let audit: PageAudit;
    const log = new AuditLog('portal-quality');

    before(async () => {
      browser = await launchChromium();
    });
    after(async () => {
      await browser?.close();
      log.finish();
    });
    beforeEach(async function () {
      server = await startServer();
      context = await newContext(browser, true);
      const traffic = await Traffic.record(context);
      page = await context.newPage();
      const name = (this.currentTest?.title ?? 'quality').split(':')[0]!;
      audit = new PageAudit(page, traffic, { name, log, axe: true, layout: true });
    });
    afterEach(async () => {
      await context.close();
      await server.stop();
    });

    /** The magic-link round trip through the pages; answers the (now used) link. */
    async function signIn(workspace: Workspace, email: string): Promise<string> {
      const origin = server.origin(workspace.slug);
      const before = server.mail.length;
      await page.goto(`${origin}/tickets/login`);
      await page.getByLabel('Email address').fill(email);
      await page.getByRole('button', { name: 'Email me a sign-in link' }).click();
      assert.equal(await h1(page), 'Check your email');
      const link = signInLinkIn(await server.waitForMail(email, before));
      await page.goto(link);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      assert.equal(await h1(page), 'Your tickets');
      return link;
    }

    it('error pages: a missing ticket, an expired form, a reply too large, too many sign-ins and a used link', async () => {
      const acme = await aWorkspace('acme');
      const jo = await aRequester(acme, 'jo@example.com', 'Jo Bloggs');
      const ticket = await aTicket(acme, jo, { subject: 'Printer on fire' });
      const origin = server.origin('acme');
      const link = await signIn(acme, 'jo@example.com');

      await page.goto(`${origin}/tickets/ACME-9999`);
      assert.equal(await h1(page), 'Page not found');
      assert.equal((await audit.check('not found')).status, 404);

      await page.goto(`${origin}/tickets/${ticket.reference}`);
      await page.getByLabel('Your reply').fill('x'.repeat(65 * 1024));
      await page.getByRole('button', { name: 'Send reply' }).click();
      assert.equal(await h1(page), 'What you sent is too large');
      assert.equal((await audit.check('too large')).status, 413);

      await page.goto(`${origin}/tickets/${ticket.reference}`);
      await page.getByLabel('Your reply').fill('Sent after my session was gone');
      await context.clearCookies();
      await page.getByRole('button', { name: 'Send reply' }).click();
      assert.equal(await h1(page), 'This form has expired');
      assert.equal((await audit.check('expired form')).status, 403);
      assert.deepEqual(
        await rows('select body from messages where body like ?', ['Sent after%']),
        [],
      );

      await page.goto(link);
      assert.equal(await h1(page), 'This link has expired or was already used');
      assert.equal((await audit.check('used link')).status, 410);

      await page.goto(`${origin}/tickets/login`);
      for (let i = 1; i <= 5; i += 1) {
        await page.getByLabel('Email address').fill('many@example.com');
        await page.getByRole('button', { name: 'Email me a sign-in link' }).click();
        assert.equal(await h1(page), 'Check your email', `request ${i} is answered as usual`);
        await page.getByRole('link', { name: 'ask for another link' }).click();
      }
      await page.getByLabel('Email address').fill('many@example.com');
      await page.getByRole('button', { name: 'Email me a sign-in link' }).click();
      assert.equal(await h1(page), 'Too many attempts');
      assert.equal((await audit.check('too many')).status, 429);
    });

    it('the sign-in code: its field, a malformed and a dead code, and signing in by code with JavaScript on and off', async () => {
      await aWorkspace('acme');
      const origin = server.origin('acme');
      for (const javaScript of [true, false]) {
        const profile = javaScript ? context : await newContext(browser, false);
        const tab = javaScript ? page : await profile.newPage();
        const check = javaScript
          ? audit
          : new PageAudit(tab, await Traffic.record(profile), {
              name: 'sign-in code js-off',
              log,
              axe: false,
              layout: false,
            });
        try {
          const email = javaScript ? 'jo@example.com' : 'ann@example.com';
          const before = server.mail.length;
          await tab.goto(`${origin}/tickets/login`);
          await tab.getByLabel('Email address').fill(email);
          await tab.getByRole('button', { name: 'Email me a sign-in link' }).click();
          assert.equal(await h1(tab), 'Check your email');
          const code = signInCodeIn(await server.waitForMail(email, before));
          const field = tab.getByLabel('Sign-in code');
          assert.equal(await field.getAttribute('autocomplete'), 'one-time-code');
          await check.check('check email', 'code field');

          await field.fill('1234');
          await tab.getByRole('button', { name: 'Sign in with the code' }).click();
          assert.equal((await check.check('check email', 'malformed code')).status, 422);
          assert.match(await errorSummary(tab), /8 letters and numbers, like ABCD-EFGH/);

          // Typed as people do: lower case, without the dash.
          await tab.getByLabel('Sign-in code').fill(code.replace('-', '').toLowerCase());
          await tab.getByRole('button', { name: 'Sign in with the code' }).click();
          assert.equal(await h1(tab), 'Your tickets');
        } finally {
          if (!javaScript) await profile.close();
        }
      }

      // Five wrong tries leave a dead code; the page says what to do instead.
      await page.goto(`${origin}/tickets/login`);
      await page.getByLabel('Email address').fill('max@example.com');
      await page.getByRole('button', { name: 'Email me a sign-in link' }).click();
      for (let i = 1; i <= 5; i += 1) {
        await page.getByLabel('Sign-in code').fill('2222-2222');
        await page.getByRole('button', { name: 'Sign in with the code' }).click();
        assert.equal(await h1(page), 'Check your email');
      }
      assert.match(await errorSummary(page), /Ask for another email/);
      assert.equal((await audit.check('check email', 'dead code')).status, 422);
    });

    it('the outage page: the database cannot be reached', async () => {
      const unreachable = await startServer({
        databaseUrl: `postgres://nobody:nothing@127.0.0.1:${await freePort()}/tickets`,
      });
      try {
        await page.goto(`${unreachable.origin('acme')}/tickets`);
        assert.equal(await h1(page), 'We can’t show this right now');
        assert.equal((await audit.check('outage')).status, 503);
      } finally {
        await unreachable.stop();
      }
    });

    it('an empty list, a list of two pages, a thread of forty-five messages in two pages and a closed ticket', async () => {
      const acme = await aWorkspace('acme');
      const jo = await aRequester(acme, 'jo@example.com', 'Jo Bloggs');
      await signIn(acme, 'jo@example.com');
      assert.match(await page.getByRole('main').innerText(), /You have no tickets yet\./);
      await audit.check('ticket list', 'empty');

      const agent = await anAgent(acme);
      const closed = await aTicket(acme, jo, { subject: 'An old question', status: 'closed' });
      for (let i = 1; i <= 24; i += 1) await aTicket(acme, jo, { subject: `Question ${i}` });
      const long = await aTicket(acme, jo, {
        subject: 'A long story',
        body: 'It began like this.',
      });
      for (let i = 1; i < 45; i += 1) {
        const body = `Message ${i + 1}: ${'and then something else happened. '.repeat(4)}`;
        await anAgentMessage(long, agent, body, { at: new Date(Date.UTC(2026, 10, 25, 10, i)) });
      }

      await page.reload();
      assert.equal(await page.getByRole('table').getByRole('link').count(), 25);
      await audit.check('ticket list', 'first of two pages');
      await page.getByRole('link', { name: 'Older tickets' }).click();
      assert.equal(await page.getByRole('table').getByRole('link').count(), 1, 'the 26th ticket');
      await audit.check('ticket list', 'older tickets');
      await page.getByRole('link', { name: 'First page' }).click();

      await page.getByRole('link', { name: 'A long story' }).click();
      // The newest thirty, with the reply form; the first fifteen a link away, without it.
      assert.equal(await page.getByRole('article').count(), 30);
      assert.equal(await page.getByRole('button', { name: 'Send reply' }).count(), 1);
      await audit.check(`ticket ${long.reference}`, 'the latest thirty of forty-five messages');
      await page.getByRole('link', { name: 'Show earlier messages' }).click();
      assert.equal(await page.getByRole('article').count(), 15);
      assert.equal(await page.getByRole('button', { name: 'Send reply' }).count(), 0);
      await audit.check(`ticket ${long.reference}`, 'earlier messages');
      await page.getByRole('link', { name: 'Go to the latest messages and reply' }).click();
      assert.equal(await page.getByRole('article').count(), 30);

      await page.goto(`${server.origin('acme')}/tickets/${closed.reference}`);
      assert.equal(await page.getByRole('heading', { name: 'This ticket is closed' }).count(), 1);
      assert.equal(await page.getByRole('button', { name: 'Send reply' }).count(), 0);
      await audit.check(`ticket ${closed.reference}`, 'closed');
    });

    it('ticket search: results over two pages, no match, an error, and the same with JavaScript off', async () => {
      const acme = await aWorkspace('acme');
      const jo = await aRequester(acme, 'jo@example.com', 'Jo Bloggs');
      const agent = await anAgent(acme);
      for (let i = 1; i <= 26; i += 1) {
        await aTicket(acme, jo, { subject: `Printer fault ${i}`, status: 'pending' });
      }
      const other = await aTicket(acme, jo, { subject: 'Invoice missing' });
      await anAgentMessage(other, agent, 'Your toner order is on its way.');
      await signIn(acme, 'jo@example.com');

      await page.getByLabel('Search your tickets').fill('printer');
      await page.getByLabel('Status').selectOption({ label: 'Waiting for you' });
      await page.getByRole('button', { name: 'Search' }).click();
      assert.equal(await page.getByRole('table').getByRole('link').count(), 25);
      await audit.check('ticket list', 'search results');
      await page.getByRole('link', { name: 'Older tickets' }).click();
      assert.equal(await page.getByRole('table').getByRole('link').count(), 1);
      assert.equal(await page.getByLabel('Search your tickets').inputValue(), 'printer');
      await audit.check('ticket list', 'search results, older');

      await page.getByLabel('Search your tickets').fill('submarine');
      await page.getByRole('button', { name: 'Search' }).click();
      assert.equal(await page.getByRole('heading', { name: 'No tickets match' }).count(), 1);
      await audit.check('ticket list', 'no match');
      await page.getByRole('link', { name: 'show all your tickets' }).click();
      assert.equal(await page.getByRole('table').getByRole('link').count(), 25);

      await page.getByLabel('Search your tickets').fill('printer\u0007');
      await page.getByRole('button', { name: 'Search' }).click();
      assert.equal((await audit.check('ticket list', 'search error')).status, 422);

      // Without JavaScript: the same form, by keyboard, a plain GET.
      const plain = await newContext(browser, false);
      try {
        await plain.addCookies(await context.cookies());
        const noJs = await plain.newPage();
        const noJsAudit = new PageAudit(noJs, await Traffic.record(plain), {
          name: 'portal-quality-js-off',
          log,
          axe: false,
          layout: true,
        });
        await noJs.goto(`${server.origin('acme')}/tickets`);
        await noJs.getByLabel('Search your tickets').fill('toner');
        await noJs.getByLabel('Search your tickets').press('Enter');
        assert.deepEqual(await noJs.getByRole('table').getByRole('link').allInnerTexts(), [
          'Invoice missing',
        ]);
        assert.match(noJs.url(), /\/tickets\?q=toner&status=$/);
        await noJsAudit.check('ticket list', 'search results without JavaScript');
      } finally {
        await plain.close();
      }
    });

    it('the accessibility statement: signed out without a contact address, signed in with one', async () => {
      const acme = await aWorkspace('acme', { name: 'Acme Inc' });
      await aRequester(acme, 'jo@example.com', 'Jo Bloggs');
      await page.goto(`${server.origin('acme')}/tickets`);
      await page
        .getByRole('contentinfo')
        .getByRole('link', { name: 'Accessibility statement' })
        .click();
      assert.equal(await h1(page), 'Accessibility statement');
      assert.match(
        await page.getByRole('main').innerText(),
        /reply to any email you have had from Acme Inc/,
      );
      await audit.check('accessibility statement', 'signed out, no contact address');

      await rows('update workspaces set contact_email = ? where id = ?', [
        'access@acme.test',
        acme.id,
      ]);
      await signIn(acme, 'jo@example.com');
      await page
        .getByRole('contentinfo')
        .getByRole('link', { name: 'Accessibility statement' })
        .click();
      assert.equal(
        await page
          .getByRole('main')
          .getByRole('link', { name: 'access@acme.test' })
          .getAttribute('href'),
        'mailto:access@acme.test',
      );
      await audit.check('accessibility statement', 'signed in, with a contact address');
    });

    it('a thread of two hundred messages under a 3000 × 1000 logo stays within the page budget', async () => {
      const acme = await aWorkspace('acme', { name: 'Acme Inc', color: '#0b3d91' });
      // Random pixels: megabytes as uploaded; the portal serves only the resized copy.
      const logo = await sharp(randomBytes(3000 * 1000 * 3), {
        raw: { width: 3000, height: 1000, channels: 3 },
      })
        .jpeg({ quality: 90 })
        .toBuffer();
      const resized = await resizeLogo(logo);
      await withScope(testDatabase().db, { kind: 'system' }, (trx) =>
        workspaces.setLogo(trx, acme.id, { content: logo, type: 'image/jpeg', resized }),
      );
      const jo = await aRequester(acme, 'jo@example.com', 'Jo Bloggs');
      const agent = await anAgent(acme);
      const long = await aTicket(acme, jo, { subject: 'A very long story', body: 'It began.' });
      // Short messages, as in a long back-and-forth: thirty messages of 150 characters already
      // weigh 17 KB of HTML, which with the 12.5 KB stylesheet leaves no room for any logo.
      for (let i = 1; i < 200; i += 1) {
        const body = `Message ${i + 1}: still broken, sorry.`;
        await anAgentMessage(long, agent, body, { at: new Date(Date.UTC(2026, 10, 25, 10, 0, i)) });
      }
      await signIn(acme, 'jo@example.com');
      await page.getByRole('link', { name: 'A very long story' }).click();
      assert.equal(await page.getByRole('article').count(), 30);
      const latest = await audit.check(`ticket ${long.reference}`, 'latest thirty of two hundred');
      assert.deepEqual(
        latest.resources.filter((r) => r.type === 'image').map((r) => [r.status, r.bytes]),
        [[200, resized.content.length]],
        'the resized logo, not the upload',
      );
      assert.ok(logo.length > 1_000_000 && resized.content.length < 10_000);
      for (let earlier = 1; earlier <= 2; earlier += 1) {
        await page.getByRole('link', { name: 'Show earlier messages' }).click();
        await audit.check(`ticket ${long.reference}`, `earlier messages, page ${earlier + 1}`);
      }
    });

    for (const colour of ['#ffff00', '#777777', '#0000ff']) {
      it(`brand ${colour} with a logo: the landing page, an error summary and a ticket with its rating form`, async () => {
        const workspace = await aWorkspace('brand', { color: colour, name: 'Brand Co' });
        const logo = aPng(80, 80);
        await withScope(testDatabase().db, { kind: 'system' }, (trx) =>
          workspaces.setLogo(trx, workspace.id, { content: logo, type: 'image/png' }),
        );
        const jo = await aRequester(workspace, 'jo@example.com', 'Jo Bloggs');
        const ticket = await aTicket(workspace, jo, {
          subject: 'Printer on fire',
          status: 'resolved',
        });
        await page.goto(`${server.origin('brand')}/tickets`);
        assert.equal(await h1(page), 'Get help from Brand Co');
        const landing = await audit.check('landing');
        assert.deepEqual(
          landing.resources.filter((r) => r.type === 'image').map((r) => [r.status, r.bytes]),
          [[200, logo.length]],
          'the logo is part of the page and its weight',
        );
        await page.getByRole('button', { name: 'Email me a sign-in link' }).click();
        assert.equal((await audit.check('sign in', 'empty email')).status, 422);

        await signIn(workspace, 'jo@example.com');
        await page.getByRole('link', { name: 'Printer on fire' }).click();
        assert.equal(
          await page.getByRole('region', { name: 'How did we do?' }).getByRole('radio').count(),
          5,
        );
        await audit.check(`ticket ${ticket.reference}`, 'rating form');
        await page.getByRole('button', { name: 'Send feedback' }).click();
        assert.equal(
          (await audit.check(`ticket ${ticket.reference}`, 'no rating chosen')).status,
          422,
        );
        await page.getByRole('radio', { name: '5 – Excellent' }).check();
        await page.getByRole('button', { name: 'Send feedback' }).click();
        assert.equal(await page.getByRole('status').innerText(), 'Thank you for your feedback.');
        await audit.check(`ticket ${ticket.reference}`, 'rated');
      });
    }
  },
);
