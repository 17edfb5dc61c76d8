import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import type { Workspace } from '../../src/models/workspaces';
import {
  aRequester,
  aTicket,
  anAgentMessage,
  anAgentWithPassword,
  aWorkspace,
} from '../helpers/fixtures';
import { AuditLog, PageAudit, Titles } from './audit';
import { describeInChromium } from './availability';
import { chromiumSuite, signInLinkIn } from './harness';
import { h1, main } from './locators';

/*
 * Close and reopen (#10 point 2) in Chromium, by clicking only: a ticket with its "My problem is
 * solved" button, the same ticket resolved with its reopen button and event line, reopened, and a
 * ticket resolved too long ago with its follow-up offer and the prefilled new-ticket form. Once
 * with JavaScript off, once on (axe, reflow at 320px, 200% text); the agent app's thread with the
 * customer's event lines too.
 */

const PASSWORD = 'correct horse battery staple';
const DAY = 24 * 60 * 60 * 1000;

describeInChromium('close and reopen in Chromium', function () {
  this.timeout(90_000);
  const log = new AuditLog('portal-close-reopen');

  const suite = chromiumSuite(log);
  const aBrowserProfile = (javaScript: boolean) => suite.profile(javaScript);

  async function signIn(page: Page, workspace: Workspace, email: string): Promise<void> {
    await page.goto(`${suite.server.origin(workspace.slug)}/tickets/login`);
    await page.getByLabel('Email address').fill(email);
    await page.getByRole('button', { name: 'Email me a sign-in link' }).click();
    assert.equal(await h1(page), 'Check your email');
    await page.goto(signInLinkIn(await suite.server.waitForMail(email)));
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    assert.equal(await h1(page), 'Your tickets');
  }

  for (const javaScript of [false, true]) {
    const mode = `JavaScript ${javaScript ? 'on' : 'off'}`;

    it(`a customer marks a ticket as solved, reopens it, and is offered a follow-up for an old one with ${mode}`, async () => {
      const acme = await aWorkspace('acme');
      const jo = await aRequester(acme, 'jo@example.com', 'Jo Bloggs');
      const agent = await anAgentWithPassword(acme, {
        email: 'alex@acme.test',
        password: PASSWORD,
        name: 'Alex Agent',
      });
      const now = Date.now();
      const old = await aTicket(acme, jo, {
        subject: 'Old invoice question',
        status: 'resolved',
        at: new Date(now - 30 * DAY),
      });
      const printer = await aTicket(acme, jo, {
        subject: 'Printer on fire',
        body: 'Smoke everywhere.',
        at: new Date(now - DAY),
      });
      await anAgentMessage(printer, agent, 'Please step away from the printer.', {
        at: new Date(now - DAY / 2),
      });

      const { traffic, page } = await aBrowserProfile(javaScript);
      const audit = new PageAudit(page, traffic, {
        name: `close-reopen-js-${javaScript ? 'on' : 'off'}`,
        log,
        titles: new Titles(),
        axe: javaScript,
        layout: javaScript,
      });
      await signIn(page, acme, 'jo@example.com');

      await page.getByRole('link', { name: 'Printer on fire' }).click();
      assert.equal(await h1(page), 'Printer on fire');
      await audit.check(`ticket ${printer.reference}`, 'open, with the solve button');
      await page.getByRole('button', { name: 'My problem is solved' }).click();
      // The same page comes back: wait for its notice, which only the answer carries.
      await page.getByRole('status').filter({ hasText: 'Ticket marked as solved' }).waitFor();
      await page.waitForLoadState('load');
      assert.equal(await h1(page), 'Printer on fire');
      assert.match(await main(page).innerText(), /Status:\s*Resolved/);
      assert.match(
        await page.locator('ol.thread > li.thread-event').innerText(),
        /^Marked as solved by you on /,
      );
      assert.equal(await page.getByRole('article').count(), 2, 'the event line is no message');
      assert.equal(
        await page.getByRole('region', { name: 'How did we do?' }).getByRole('radio').count(),
        5,
      );
      await audit.check(`ticket ${printer.reference}`, 'solved, with the reopen button');

      await page.getByRole('button', { name: 'Reopen this ticket' }).click();
      await page.getByRole('status').filter({ hasText: 'Ticket reopened' }).waitFor();
      await page.waitForLoadState('load');
      assert.match(await main(page).innerText(), /Status:\s*Open/);
      assert.deepEqual(
        (await page.locator('ol.thread > li.thread-event').allInnerTexts()).map(
          (line) => line.split(' on ')[0],
        ),
        ['Marked as solved by you', 'Reopened by you'],
      );
      await audit.check(`ticket ${printer.reference}`, 'reopened');

      await page.goto(`${suite.server.origin('acme')}/tickets/${old.reference}`);
      assert.equal(
        await page.getByRole('heading', { name: 'This ticket can no longer be reopened' }).count(),
        1,
      );
      assert.equal(await page.getByRole('button', { name: 'Reopen this ticket' }).count(), 0);
      assert.equal(await page.getByRole('button', { name: 'Send reply' }).count(), 0);
      await audit.check(`ticket ${old.reference}`, 'past the window, with the follow-up offer');
      await page.getByRole('link', { name: 'open a follow-up ticket' }).click();
      assert.equal(await h1(page), 'Open a new ticket');
      assert.equal(await page.getByLabel('Subject').inputValue(), `Follow-up to ${old.reference}`);
      await audit.check('new ticket', 'a follow-up');

      if (!javaScript) return;
      // The agent app shows the customer's changes as event lines too.
      const { traffic: agentTraffic, page: agentPage } = await aBrowserProfile(true);
      const agentAudit = new PageAudit(agentPage, agentTraffic, {
        name: 'close-reopen-agent',
        log,
        axe: true,
        layout: true,
      });
      await agentPage.goto(`${suite.server.origin('acme')}/admin/login`);
      await agentPage.getByLabel('Email address').fill('alex@acme.test');
      await agentPage.getByLabel('Password').fill(PASSWORD);
      await agentPage.getByRole('button', { name: 'Sign in' }).click();
      // Let the sign-in land on the inbox before navigating on: the traffic recorder reads each
      // document's body, and a navigation away from a page still loading discards it.
      await agentPage.getByRole('heading', { level: 1, name: 'Inbox' }).waitFor();
      await agentPage.goto(`${suite.server.origin('acme')}/admin/tickets/${printer.reference}`);
      assert.deepEqual(
        (await agentPage.locator('ol.thread > li.thread-event').allInnerTexts()).map(
          (line) => line.split(' on ')[0],
        ),
        ['Marked as solved by Jo Bloggs (requester)', 'Reopened by Jo Bloggs (requester)'],
      );
      await agentAudit.check(`agent ticket ${printer.reference}`, 'with event lines');
    });
  }
});
