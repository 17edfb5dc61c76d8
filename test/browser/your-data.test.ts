import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import type { Workspace } from '../../src/models/workspaces';
import {
  aRequester,
  aTicket,
  anAgent,
  anAgentMessage,
  anAgentWithPassword,
  aWorkspace,
  rows,
} from '../helpers/fixtures';
import { AuditLog, PageAudit, Titles } from './audit';
import { describeInChromium } from './availability';
import { tabTo, walkWholePage } from './checks';
import { chromiumSuite, signInLinkIn } from './harness';
import { agentNav, h1, main } from './locators';

/*
 * "Your data" (#10 point 7) in Chromium: the customer's page, the printable copy, the "Are you
 * sure?" step and the page after asking, with JavaScript off (the forms are plain POSTs) and on
 * (axe, reflow at 320px, 200% text), the request made with the keyboard alone; then the admin's
 * list of erasure requests, empty, with a request, and after erasing.
 */

const PASSWORD = 'correct horse battery staple';
const portalNav = (page: Page) => page.getByRole('navigation', { name: 'Tickets portal' });

describeInChromium(
  'your data in Chromium: the export, the erasure request and the admin list',
  function () {
    this.timeout(90_000);
    const log = new AuditLog('your-data');

    const suite = chromiumSuite(log);
    const aBrowserProfile = (javaScript: boolean) => suite.profile(javaScript);

    async function jo(): Promise<Workspace> {
      const acme = await aWorkspace('acme');
      const requester = await aRequester(acme, 'jo@example.com', 'Jo Bloggs');
      const agent = await anAgent(acme, { name: 'Alex Agent' });
      const printer = await aTicket(acme, requester, {
        subject: 'Printer on fire',
        body: 'Smoke everywhere.',
      });
      await anAgentMessage(printer, agent, 'Please step away from the printer.');
      await anAgentMessage(printer, agent, 'Internal: customer sounds stressed', {
        internal: true,
      });
      await aTicket(acme, requester, { subject: 'Invoice missing', status: 'resolved' });
      return acme;
    }

    async function signIn(page: Page, workspace: Workspace): Promise<void> {
      await page.goto(`${suite.server.origin(workspace.slug)}/tickets/login`);
      await page.getByLabel('Email address').fill('jo@example.com');
      await page.getByRole('button', { name: 'Email me a sign-in link' }).click();
      await page.goto(signInLinkIn(await suite.server.waitForMail('jo@example.com')));
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      assert.equal(await h1(page), 'Your tickets');
    }

    for (const javaScript of [false, true]) {
      const mode = `JavaScript ${javaScript ? 'on' : 'off'}`;

      it(`a customer reads what is held, sees the copy and asks for erasure with ${mode}`, async () => {
        const acme = await jo();
        const { traffic, page } = await aBrowserProfile(javaScript);
        const audit = new PageAudit(page, traffic, {
          name: `your-data-js-${javaScript ? 'on' : 'off'}`,
          log,
          titles: new Titles(),
          axe: javaScript,
          layout: javaScript,
        });
        await signIn(page, acme);

        await portalNav(page).getByRole('link', { name: 'Your data' }).click();
        assert.equal(await h1(page), 'Your data');
        assert.match(await main(page).innerText(), /replaced with “\[erased\]”/);
        await audit.check('your data');

        await page.getByRole('link', { name: 'See all your data on one page' }).click();
        assert.equal(await h1(page), 'All your data');
        const copy = await main(page).innerText();
        assert.match(copy, /Please step away from the printer\./);
        assert.ok(!copy.includes('Internal:'), 'no internal note');
        await audit.check('all your data');

        await page.getByRole('link', { name: 'Back to your data' }).click();
        const download = javaScript ? page.waitForEvent('download') : undefined;
        if (download) {
          await page.getByRole('link', { name: 'Download your data as a JSON file' }).click();
          assert.match(
            (await download).suggestedFilename(),
            /^acme-your-data-\d{4}-\d\d-\d\d\.json$/,
          );
        }

        await page.getByRole('link', { name: 'Ask us to erase your data' }).click();
        assert.equal(await h1(page), 'Are you sure you want us to erase your data?');
        await audit.check('erasure confirmation');
        await page.getByRole('button', { name: 'Yes, erase my data' }).click();
        assert.equal(await h1(page), 'Your data');
        assert.equal(
          await page.getByRole('status').getByRole('heading').innerText(),
          'We have your request',
        );
        await audit.check('your data', 'erasure requested');
        assert.equal(
          (await rows('select 1 from requesters where erasure_requested_at is not null')).length,
          1,
        );
      });
    }

    it('keyboard: a customer asks for erasure with Tab and Enter alone, seeing focus on every stop', async () => {
      const acme = await jo();
      const { page } = await aBrowserProfile(true);
      await signIn(page, acme);
      await page.goto(`${suite.server.origin('acme')}/tickets/your-data`);
      await walkWholePage(page, 'your data');
      await tabTo(page, /^a "Ask us to erase your data"/);
      await page.keyboard.press('Enter');
      await page.waitForURL('**/tickets/your-data/erasure');
      await walkWholePage(page, 'the erasure confirmation');
      await tabTo(page, /^button "Yes, erase my data"/);
      await page.keyboard.press('Enter');
      await page.waitForURL('**/tickets/your-data');
      assert.equal(
        (await rows('select 1 from requesters where erasure_requested_at is not null')).length,
        1,
      );
    });

    it('an admin sees no request, then one, and erases it', async () => {
      const acme = await jo();
      await anAgentWithPassword(acme, {
        email: 'ada@acme.test',
        password: PASSWORD,
        name: 'Ada Lovelace',
        role: 'admin',
      });
      const { traffic, page } = await aBrowserProfile(true);
      const audit = new PageAudit(page, traffic, {
        name: 'erasure-requests',
        log,
        titles: new Titles(),
        axe: true,
        layout: true,
      });
      await page.goto(`${suite.server.origin('acme')}/admin/login`);
      await page.getByLabel('Email address').fill('ada@acme.test');
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await agentNav(page).getByRole('link', { name: 'Settings' }).click();
      await page
        .getByRole('navigation', { name: 'Settings' })
        .getByRole('link', { name: 'Erasure requests' })
        .click();
      assert.equal(await h1(page), 'Erasure requests');
      await audit.check('erasure requests', 'empty');

      // Jo asks, in another browser.
      const customer = await aBrowserProfile(false);
      await signIn(customer.page, acme);
      await customer.page.goto(`${suite.server.origin('acme')}/tickets/your-data/erasure`);
      await customer.page.getByRole('button', { name: 'Yes, erase my data' }).click();

      await page.reload();
      const table = page.getByRole('table', { name: 'Erasure requests, longest waiting first' });
      assert.equal(await table.locator('tbody tr').count(), 1);
      await audit.check('erasure requests', 'one pending');
      await walkWholePage(page, 'the erasure requests');
      await tabTo(page, /^button "Erase\s+the data of jo@example\.com"/);
      await page.keyboard.press('Enter');
      await page.waitForLoadState('load');
      assert.equal(await page.getByRole('status').innerText(), 'The customer’s data was erased.');
      await audit.check('erasure requests', 'erased');
      assert.deepEqual(await rows('select name from requesters where erased_at is not null'), [
        { name: '[erased]' },
      ]);
    });
  },
);
