import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import {
  aRequester,
  aTicket,
  anAgent,
  anAgentMessage,
  aWorkspace,
  rows,
  setStatus,
} from '../helpers/fixtures';
import { AuditLog, PageAudit, Titles } from './audit';
import { describeInChromium } from './availability';
import { screenshot } from './checks';
import { chromiumSuite, signInLinkIn } from './harness';
import { h1, main, errorSummary } from './locators';

/*
 * The whole customer journey in Chromium, by clicking and typing only, once with JavaScript off
 * (the portal's promise: it needs none) and once with it on. Every state either journey reaches
 * goes through PageAudit; with JavaScript on that includes axe, reflow at 320px and 200% text.
 */

const nav = (page: Page) => page.getByRole('navigation', { name: 'Tickets portal' });

describeInChromium('the customer portal in Chromium: the whole journey', function () {
  this.timeout(90_000);
  const log = new AuditLog('portal-journey');

  const suite = chromiumSuite(log);
  const aBrowserProfile = (javaScript: boolean) => suite.profile(javaScript);

  async function someTickets() {
    const acme = await aWorkspace('acme');
    const jo = await aRequester(acme, 'jo@example.com', 'Jo Bloggs');
    const agent = await anAgent(acme, { name: 'Alex Agent' });
    const printer = await aTicket(acme, jo, {
      subject: 'Printer on fire',
      body: 'Smoke everywhere.',
    });
    await anAgentMessage(printer, agent, 'Please step away from the printer.');
    await anAgentMessage(printer, agent, 'Internal: customer sounds stressed', { internal: true });
    const invoice = await aTicket(acme, jo, { subject: 'Invoice missing', status: 'pending' });
    return { acme, jo, printer, invoice };
  }

  for (const javaScript of [false, true]) {
    const mode = `JavaScript ${javaScript ? 'on' : 'off'}`;

    it(`a customer signs in, answers, opens, rates and signs out with ${mode}`, async () => {
      const { printer, invoice } = await someTickets();
      const [one, created, anonymousRef] = [
        printer.reference,
        `ACME-${invoice.number + 1}`,
        `ACME-${invoice.number + 2}`,
      ];
      const origin = suite.server.origin('acme');
      const { traffic, page, context } = await aBrowserProfile(javaScript);
      const titles = new Titles();
      const name = `journey-js-${javaScript ? 'on' : 'off'}`;
      const audit = new PageAudit(page, traffic, {
        name,
        log,
        titles,
        axe: javaScript,
        layout: javaScript,
      });
      const shoot = (file: string) => (javaScript ? screenshot(page, file) : Promise.resolve());

      // The landing page; its sign-in form sent empty answers with the sign-in page and the error.
      await page.goto(`${origin}/tickets`);
      assert.equal(await h1(page), 'Get help from Acme Inc');
      await audit.check('landing');
      await page.getByRole('button', { name: 'Email me a sign-in link' }).click();
      assert.equal(await h1(page), 'Sign in');
      assert.equal((await audit.check('sign in', 'empty email')).status, 422);
      assert.match(await errorSummary(page), /There is a problem\s+Enter your email address/);

      // Ask for a link; it arrives by SMTP; the link shows a confirm button.
      await page.getByLabel('Email address').fill('jo@example.com');
      await page.getByRole('button', { name: 'Email me a sign-in link' }).click();
      assert.equal(await h1(page), 'Check your email');
      assert.match(
        await main(page).innerText(),
        /If jo@example\.com can receive tickets from Acme Inc/,
      );
      await audit.check('check email');
      // A mistyped code: the same page again, the error by the field and in the summary.
      await page.getByLabel('Sign-in code').fill('2222-2222');
      await page.getByRole('button', { name: 'Sign in with the code' }).click();
      assert.equal(await h1(page), 'Check your email');
      assert.equal((await audit.check('check email', 'wrong code')).status, 422);
      assert.match(await errorSummary(page), /There is a problem\s+That code is not right/);
      const link = signInLinkIn(await suite.server.waitForMail('jo@example.com'));
      await page.goto(link);
      assert.equal(await h1(page), 'Sign in to Acme Inc');
      await audit.check('confirm sign-in');
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();

      // Signed in: the list of Jo's tickets.
      assert.equal(await h1(page), 'Your tickets');
      const table = page.getByRole('table', { name: 'Your tickets, most recent activity first' });
      assert.deepEqual(
        (await table.getByRole('row').allInnerTexts()).map((r) => r.replace(/\s+/g, ' ').trim()),
        [
          'Reference Subject Status Last reply',
          `${one} Printer on fire Open 25 Nov 2026, 09:30 UTC`,
          `${invoice.reference} Invoice missing Waiting for you 25 Nov 2026, 09:00 UTC`,
        ],
      );
      assert.match(await page.getByRole('contentinfo').innerText(), /Signed in as jo@example\.com/);
      await shoot('ticket-list');
      await audit.check('ticket list');

      // One ticket: the public thread only.
      await page.getByRole('link', { name: 'Printer on fire' }).click();
      assert.equal(await h1(page), 'Printer on fire');
      const thread = page.getByRole('list').filter({ has: page.getByRole('article') });
      assert.deepEqual(
        (await thread.getByRole('article').allInnerTexts()).map((m) => m.split('\n').at(-1)),
        ['Smoke everywhere.', 'Please step away from the printer.'],
      );
      assert.doesNotMatch(await main(page).innerText(), /customer sounds stressed/);
      await shoot('ticket');
      await audit.check(`ticket ${one}`);

      // A reply: first empty (the error), then for real.
      await page.getByRole('button', { name: 'Send reply' }).click();
      assert.equal((await audit.check(`ticket ${one}`, 'empty reply')).status, 422);
      assert.match(await errorSummary(page), /Enter your reply/);
      await page.getByLabel('Your reply').fill('I have stepped away. Now what?');
      await page.getByRole('button', { name: 'Send reply' }).click();
      assert.equal(await page.getByRole('status').innerText(), 'Your reply was sent.');
      assert.match(
        (await thread.getByRole('article').last().innerText()).replace(/\s+/g, ' '),
        /^Jo Bloggs .*I have stepped away\. Now what\?$/,
      );
      await audit.check(`ticket ${one}`, 'replied');

      // A new ticket from the navigation: empty first, then filled in.
      await nav(page).getByRole('link', { name: 'Open a new ticket' }).click();
      assert.equal(await h1(page), 'Open a new ticket');
      assert.equal(
        await page.getByLabel('Email address').count(),
        0,
        'signed in: no name or address asked',
      );
      await shoot('new-ticket');
      await audit.check('new ticket');
      await page.getByRole('button', { name: 'Open ticket' }).click();
      assert.equal((await audit.check('new ticket', 'empty')).status, 422);
      assert.match(
        await errorSummary(page),
        /Enter a subject\s+Enter a description of your problem/,
      );
      await page.getByLabel('Subject').fill('Scanner jams');
      await page.getByLabel('Description').fill('Every third page.');
      await page.getByRole('button', { name: 'Open ticket' }).click();
      assert.equal(await h1(page), 'Scanner jams');
      assert.match(
        await page.getByRole('status').innerText(),
        new RegExp(`Ticket ${created} opened`),
      );
      await audit.check(`ticket ${created}`, 'opened');

      // The support team resolves ACME-1; Jo rates it from its page.
      await setStatus(printer, 'resolved');
      await nav(page).getByRole('link', { name: 'Your tickets' }).click();
      assert.match(
        (await table.getByRole('row').filter({ hasText: 'Printer on fire' }).innerText()).replace(
          /\s+/g,
          ' ',
        ),
        /Resolved/,
      );
      await audit.check('ticket list', 'three tickets');
      await page.getByRole('link', { name: 'Printer on fire' }).click();
      const rating = page.getByRole('region', { name: 'How did we do?' });
      assert.equal(await rating.getByRole('radio').count(), 5);
      await shoot('csat');
      await audit.check(`ticket ${one}`, 'rating form');
      await page.getByRole('button', { name: 'Send feedback' }).click();
      assert.equal((await audit.check(`ticket ${one}`, 'no rating chosen')).status, 422);
      assert.match(await errorSummary(page), /Choose a rating from 1 to 5 stars/);
      await page.getByRole('radio', { name: '4 – Good' }).check();
      await page.getByLabel('Comment (optional)').fill('Quick and kind.');
      await page.getByRole('button', { name: 'Send feedback' }).click();
      assert.equal(await page.getByRole('status').innerText(), 'Thank you for your feedback.');
      assert.match(await rating.innerText(), /You rated this ticket ★★★★☆ 4 of 5/);
      await audit.check(`ticket ${one}`, 'rated');
      assert.deepEqual(
        await rows('select rating, rating_comment from tickets where number = ?', [printer.number]),
        [{ rating: 4, rating_comment: 'Quick and kind.' }],
      );

      // Signing out ends the session: the ticket now asks for sign-in again.
      await nav(page).getByRole('button', { name: 'Sign out' }).click();
      assert.equal(await h1(page), 'Get help from Acme Inc');
      assert.equal(await nav(page).getByRole('link', { name: 'Sign in' }).count(), 1);
      assert.equal(await nav(page).getByRole('button', { name: 'Sign out' }).count(), 0);
      await page.goto(`${origin}/tickets/${one}`);
      assert.equal(await h1(page), 'Sign in');
      await audit.check('sign in');
      assert.deepEqual(traffic.scriptsAndFonts(), [], 'no script or font was ever requested');
      await context.close();

      // Someone without an account, in a browser of their own.
      const anonymous = await aBrowserProfile(javaScript);
      const visitor = anonymous.page;
      const visitorAudit = new PageAudit(visitor, anonymous.traffic, {
        name,
        log,
        titles,
        axe: javaScript,
        layout: javaScript,
      });
      await visitor.goto(`${origin}/tickets`);
      await main(visitor).getByRole('link', { name: 'Open a new ticket' }).click();
      assert.equal(await h1(visitor), 'Open a new ticket');
      await visitorAudit.check('new ticket', 'anonymous');
      await visitor.getByRole('button', { name: 'Open ticket' }).click();
      assert.equal((await visitorAudit.check('new ticket', 'anonymous, empty')).status, 422);
      assert.match(
        await errorSummary(visitor),
        /Enter your name\s+Enter your email address\s+Enter a subject\s+Enter a description of your problem/,
      );
      await visitor.getByLabel('Your name').fill('Sam Smith');
      await visitor.getByLabel('Email address').fill('sam@example.com');
      await visitor.getByLabel('Subject').fill('Lost my password');
      await visitor.getByLabel('Description').fill('I cannot sign in to the shop.');
      await visitor.getByRole('button', { name: 'Open ticket' }).click();
      assert.equal(await h1(visitor), 'Lost my password');
      assert.match(
        await visitor.getByRole('status').innerText(),
        new RegExp(`Ticket ${anonymousRef} opened`),
      );
      assert.match(await main(visitor).innerText(), /You are not signed in/);
      await visitorAudit.check(`ticket ${anonymousRef}`, 'anonymous');
      await visitor.getByRole('link', { name: 'Back to the start' }).click();
      const mine = visitor.getByRole('region', { name: 'Tickets you opened in this browser' });
      assert.equal(await mine.getByRole('link').innerText(), `${anonymousRef}: Lost my password`);
      await visitorAudit.check('landing', 'visitor');
      assert.deepEqual(
        await rows(
          'select r.email, r.name from tickets t join requesters r on r.id = t.requester_id and r.workspace_id = t.workspace_id where t.number = ?',
          [invoice.number + 2],
        ),
        [{ email: 'sam@example.com', name: 'Sam Smith' }],
      );
      assert.deepEqual(
        anonymous.traffic.scriptsAndFonts(),
        [],
        'no script or font was ever requested',
      );
    });
  }
});
