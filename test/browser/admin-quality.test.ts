import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { Workspace } from '../../src/models/workspaces';
import { randomUUID } from 'node:crypto';
import { withScope } from '../../src/db/scopes';
import * as auditEvents from '../../src/models/audit-events';
import { testDatabase } from '../helpers/database';
import { aRequester, aTicket, anAgentWithPassword, aWorkspace, rows } from '../helpers/fixtures';
import { AuditLog, PageAudit, Titles } from './audit';
import { describeInChromium } from './availability';
import { walkWholePage, tabTo, focusedStop, recordUnfocusedLooks, screenshot } from './checks';
import {
  aPng,
  launchChromium,
  newContext,
  startServer,
  Traffic,
  type RunningServer,
} from './harness';
import { h1, main, agentNav, errorSummary, flat } from './locators';

/*
 * The agent-app states the journeys do not reach (an empty inbox, a refused search, the new-ticket
 * and add-user forms with their errors, low-contrast brand colours, the 403 page), each through
 * PageAudit with JavaScript on (axe, reflow at 320px, 200% text, structure, valid HTML); and the
 * keyboard alone: sign in and open a ticket with Tab, Shift+Tab, Enter and Space.
 */

const PASSWORD = 'correct horse battery staple';

describeInChromium('the agent app in Chromium: edge states, errors and the keyboard', function () {
  this.timeout(60_000);
  let browser: Browser;
  let server: RunningServer;
  let context: BrowserContext;
  let page: Page;
  let audit: PageAudit;
  const log = new AuditLog('admin-quality');
  // One set for the file: every test signs in to the same "Acme Inc", so titles compare across tests.
  const titles = new Titles();

  before(async () => {
    browser = await launchChromium();
  });
  after(async function () {
    this.timeout(60_000);
    await browser?.close();
    log.finish();
  });
  beforeEach(async function () {
    server = await startServer();
    context = await newContext(browser, true);
    const traffic = await Traffic.record(context);
    page = await context.newPage();
    const name = `admin-quality-${(this.currentTest?.title ?? 'quality').split(':')[0]!}`;
    audit = new PageAudit(page, traffic, {
      name,
      log,
      titles,
      axe: true,
      layout: true,
    });
  });
  afterEach(async () => {
    await context.close();
    await server.stop();
  });

  /** A workspace with an admin (or agent) who can sign in. */
  async function aTeam(role: 'admin' | 'agent' = 'admin', workspaceName?: string) {
    const acme = await aWorkspace('acme', workspaceName ? { name: workspaceName } : {});
    const user = await anAgentWithPassword(acme, {
      email: 'ada@acme.test',
      password: PASSWORD,
      name: 'Ada Lovelace',
      role,
    });
    return { acme, user };
  }

  async function signIn(workspace: Workspace): Promise<void> {
    await page.goto(`${server.origin(workspace.slug)}/admin/login`);
    await page.getByLabel('Email address').fill('ada@acme.test');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    assert.equal(await h1(page), 'Inbox');
  }

  it('inbox and new ticket: the empty inbox, a refused search and the form with its errors', async () => {
    const { acme } = await aTeam();
    await signIn(acme);
    assert.match(await main(page).innerText(), /No tickets match\./);
    assert.equal(await page.getByRole('table').count(), 0);
    await audit.check('inbox', 'empty');

    // A search longer than the box allows, as an edited or pasted link would carry it.
    await page.goto(`${server.origin('acme')}/admin/tickets?q=${'x'.repeat(201)}`);
    assert.equal((await audit.check('inbox', 'search refused')).status, 422);
    assert.match(await errorSummary(page), /Search must be 200 characters or fewer/);
    assert.match(await main(page).innerText(), /Change the search to see tickets\./);
    assert.equal(
      await page.getByRole('link', { name: /Download these tickets/ }).count(),
      0,
      'no export of a refused search',
    );

    await agentNav(page).getByRole('link', { name: 'Inbox' }).click();
    await page.getByRole('link', { name: 'Open a ticket for a customer' }).click();
    assert.equal(await h1(page), 'Open a ticket for a requester');
    await audit.check('new ticket');
    await page.getByRole('button', { name: 'Open ticket' }).click();
    assert.equal((await audit.check('new ticket', 'empty')).status, 422);
    assert.match(
      await errorSummary(page),
      /Enter your email address\s+Enter the requester's name\s+Enter a subject\s+Enter the first message/,
    );
    await page.getByLabel("Requester's email address").fill('sam at example');
    await page.getByLabel("Requester's name").fill('Sam Smith');
    await page.getByLabel('Subject').fill('Phone call: lost password');
    await page.getByLabel('First message').fill('Sam cannot sign in to the shop.');
    await page.getByRole('button', { name: 'Open ticket' }).click();
    assert.equal((await audit.check('new ticket', 'bad email')).status, 422);
    assert.match(await errorSummary(page), /Enter an email address in the correct format/);
    assert.equal(await page.getByLabel('Subject').inputValue(), 'Phone call: lost password');
    assert.deepEqual(await rows('select id from tickets'), [], 'nothing stored');
    await page.getByLabel("Requester's email address").fill('sam@example.com');
    await page.getByRole('button', { name: 'Open ticket' }).click();
    assert.equal(await h1(page), 'Phone call: lost password');
    assert.equal(
      await page.getByRole('status').innerText(),
      'Ticket ACME-1001 opened for Sam Smith.',
    );
    await audit.check('ticket ACME-1001', 'opened');
  });

  it('users: the list, the add-user form with its errors, and a user added', async () => {
    const { acme } = await aTeam();
    await signIn(acme);
    await agentNav(page).getByRole('link', { name: 'Users' }).click();
    assert.equal(await h1(page), 'Users');
    const table = page.getByRole('table', { name: 'People who can sign in to the agent app' });
    assert.deepEqual((await table.getByRole('row').allInnerTexts()).map(flat), [
      'Name Email address Role',
      'Ada Lovelace (you) ada@acme.test Admin',
    ]);
    await audit.check('users');

    await page.getByRole('button', { name: 'Add user' }).click();
    assert.equal((await audit.check('users', 'empty')).status, 422);
    assert.match(
      await errorSummary(page),
      /Enter their name\s+Enter their email address\s+Select a role\s+Enter an initial password/,
    );
    await page.getByLabel('Name', { exact: true }).fill('Grace Hopper');
    await page.getByLabel('Email address').fill('grace@');
    await page.getByRole('radio', { name: 'Agent' }).check();
    await page.getByLabel('Initial password').fill('short');
    await page.getByRole('button', { name: 'Add user' }).click();
    assert.equal((await audit.check('users', 'bad email and password')).status, 422);
    assert.match(
      await errorSummary(page),
      /Enter an email address in the correct format.*\s+The password must be at least \d+ characters/,
    );
    assert.equal(await page.getByRole('radio', { name: 'Agent' }).isChecked(), true);

    await page.getByLabel('Email address').fill('ada@acme.test');
    await page.getByLabel('Initial password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Add user' }).click();
    assert.equal((await audit.check('users', 'duplicate')).status, 422);
    assert.match(await errorSummary(page), /A user with this email address already exists/);

    await page.getByLabel('Email address').fill('grace@acme.test');
    await page.getByLabel('Initial password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Add user' }).click();
    assert.match(await page.getByRole('status').innerText(), /User added/);
    assert.deepEqual((await table.getByRole('row').allInnerTexts()).map(flat).slice(1).sort(), [
      'Ada Lovelace (you) ada@acme.test Admin',
      'Grace Hopper grace@acme.test Agent',
    ]);
    await screenshot(page, 'admin-users');
    await audit.check('users', 'added');
  });

  it('forbidden: an agent who is not an admin has no settings and gets the 403 page there', async () => {
    const { acme } = await aTeam('agent');
    await signIn(acme);
    assert.deepEqual((await agentNav(page).getByRole('listitem').allInnerTexts()).map(flat), [
      'Inbox',
      'Sign out',
    ]);
    for (const path of [
      '/admin/settings/modules',
      '/admin/settings/branding',
      '/admin/settings/regional',
      '/admin/settings/audit',
      '/admin/users',
    ]) {
      await page.goto(`${server.origin('acme')}${path}`);
      assert.equal(await h1(page), 'You cannot do that here', path);
      assert.equal((await audit.check('forbidden', path)).status, 403);
    }
    assert.deepEqual(await rows('select portal_enabled from workspaces'), [
      { portal_enabled: true },
    ]);
  });

  it('audit trail: the table of events, its pages, reached and paged with the keyboard', async () => {
    const { acme } = await aTeam();
    // Older events than the sign-in below, enough for a second page, with a long IPv6 address.
    await withScope(testDatabase().db, { kind: 'system' }, async (trx) => {
      for (let i = 0; i < 30; i += 1) {
        await auditEvents.insert(trx, {
          workspaceId: acme.id,
          occurredAt: new Date(Date.UTC(2026, 0, 1, 9, i)),
          action: 'branding.changed',
          actor: {
            kind: 'user',
            id: randomUUID(),
            label: 'a.very.long.name@subdomain.example.com',
          },
          ip: '2001:db8:85a3:1234:5678:8a2e:370:7334',
          details: { colourFrom: '#1d70b8', colourTo: '#aa0000' },
        });
      }
    });
    await signIn(acme);
    await agentNav(page).getByRole('link', { name: 'Settings' }).click();
    await page
      .getByRole('navigation', { name: 'Settings' })
      .getByRole('link', { name: 'Audit trail' })
      .click();
    assert.equal(await h1(page), 'Audit trail');
    const table = page.getByRole('table', { name: 'Security events, newest first' });
    assert.equal(
      flat((await table.getByRole('row').allInnerTexts())[1]!).replace(/^.*? UTC /, ''),
      'ada@acme.test Signed in to the agent app 127.0.0.1',
    );
    assert.equal(await table.locator('tbody time[datetime]').count(), 25);
    await audit.check('audit trail', 'newest');

    await page.reload();
    await recordUnfocusedLooks(page);
    await walkWholePage(page, 'the audit trail');
    await tabTo(page, /^a "Older events"/);
    await page.keyboard.press('Enter');
    await page.waitForURL('**/admin/settings/audit?before=*');
    const older = page.getByRole('table', { name: 'Security events, older events' });
    assert.equal(await older.locator('tbody tr').count(), 6);
    assert.equal(await page.getByRole('link', { name: 'Older events' }).count(), 0);
    await audit.check('audit trail', 'older');
  });

  for (const colour of ['#ffff00', '#777777']) {
    it(`branding ${colour}: the low-contrast warning and the preview stay accessible`, async () => {
      const { acme } = await aTeam();
      await signIn(acme);
      await agentNav(page).getByRole('link', { name: 'Settings' }).click();
      await page
        .getByRole('navigation', { name: 'Settings' })
        .getByRole('link', { name: 'Branding' })
        .click();
      assert.equal(await h1(page), 'Branding');
      await page.getByLabel('Or type the colour code (optional)').fill(colour);
      await page.getByRole('button', { name: 'Save name and colour' }).click();
      assert.equal(await page.locator('#current-colour').innerText(), colour);
      const warning = page.locator('#contrast-warning');
      assert.equal(
        await warning.getByRole('heading').innerText(),
        'This colour has low contrast against white',
      );
      assert.match(
        flat(await warning.innerText()),
        new RegExp(
          `${colour} has a contrast ratio of \\d\\.\\d\\d:1 with white, below the 4\\.5:1`,
        ),
      );
      await audit.check('branding', `low contrast ${colour}`);
    });
  }

  it('branding: an unreadable logo and a wrong contact address are refused, then both are saved', async () => {
    const { acme } = await aTeam();
    await signIn(acme);
    await page.goto(`${server.origin('acme')}/admin/settings/branding`);
    await page.getByLabel('Upload a logo').setInputFiles({
      name: 'logo.png',
      mimeType: 'image/png',
      buffer: Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.alloc(500, 7)]),
    });
    await page.getByRole('button', { name: 'Upload logo' }).click();
    assert.match(
      await page.locator('#logo-error').innerText(),
      /The logo could not be read as an image/,
    );
    assert.equal((await audit.check('branding', 'unreadable logo')).status, 422);

    await page.getByLabel('Email address customers can write to (optional)').fill('help@');
    await page.getByRole('button', { name: 'Save contact address' }).click();
    assert.match(
      await page.locator('#contactEmail-error').innerText(),
      /Enter the contact address in the correct format/,
    );
    assert.equal((await audit.check('branding', 'wrong contact address')).status, 422);

    await page.getByLabel('Email address customers can write to (optional)').fill('help@acme.test');
    await page.getByRole('button', { name: 'Save contact address' }).click();
    assert.match(await page.getByRole('status').innerText(), /contact address was saved/);
    await page.getByLabel('Upload a logo').setInputFiles({
      name: 'logo.png',
      mimeType: 'image/png',
      buffer: aPng(600, 200),
    });
    await page.getByRole('button', { name: 'Upload logo' }).click();
    assert.match(await page.getByRole('status').innerText(), /logo was uploaded/);
    await audit.check('branding', 'contact address and logo saved');
  });

  it('language and time zone: the page, a refused zone, then both saved', async () => {
    const { acme } = await aTeam();
    await signIn(acme);
    await agentNav(page).getByRole('link', { name: 'Settings' }).click();
    await page
      .getByRole('navigation', { name: 'Settings' })
      .getByRole('link', { name: 'Language and time zone' })
      .click();
    assert.equal(await h1(page), 'Language and time zone');
    await audit.check('language and time zone');

    // A zone the list does not hold, as a tampered form sends it.
    await page.evaluate(() => {
      const select = document.querySelector<HTMLSelectElement>('#timeZone')!;
      select.add(new Option('Atlantis', 'Atlantis', true, true));
    });
    await page.getByRole('button', { name: 'Save language and time zone' }).click();
    assert.match(await errorSummary(page), /Choose a time zone from the list/);
    assert.equal((await audit.check('language and time zone', 'refused zone')).status, 422);

    await page.getByLabel('Default language of the Tickets Portal').selectOption('es');
    await page.getByLabel('Time zone').selectOption({ label: 'Madrid' });
    await page.getByRole('button', { name: 'Save language and time zone' }).click();
    assert.match(await page.getByRole('status').innerText(), /settings were saved/);
    await audit.check('language and time zone', 'saved');
    assert.deepEqual(await rows('select default_language, time_zone from workspaces'), [
      { default_language: 'es', time_zone: 'Europe/Madrid' },
    ]);
  });

  describe('keyboard only', () => {
    const focused = async () => (await focusedStop(page))?.description ?? '';

    it('keyboard: an admin sets the language and time zone with Tab, typing and Enter alone, seeing focus on every stop', async () => {
      const { acme } = await aTeam();
      await signIn(acme);
      await page.goto(`${server.origin('acme')}/admin/settings/regional`);
      await walkWholePage(page, 'language and time zone');
      await tabTo(page, /^select#defaultLanguage/);
      // A closed select takes type-ahead: the first option whose text starts with what is typed.
      await page.keyboard.type('Deutsch');
      await tabTo(page, /^select#timeZone/);
      await page.keyboard.type('Madrid');
      await tabTo(page, /^button "Save language and time zone"/);
      await page.keyboard.press('Enter');
      await page.waitForLoadState('load');
      assert.match(await page.getByRole('status').innerText(), /settings were saved/);
      assert.deepEqual(await rows('select default_language, time_zone from workspaces'), [
        { default_language: 'de', time_zone: 'Europe/Madrid' },
      ]);
      await walkWholePage(page, 'language and time zone, saved');
    });

    it('keyboard: the skip link is the first Tab stop, visibly, and Enter on it moves focus to the main content', async () => {
      await aTeam();
      await page.goto(`${server.origin('acme')}/admin/login`);
      await recordUnfocusedLooks(page);
      await page.keyboard.press('Tab');
      const skip = await focusedStop(page);
      assert.ok(skip?.isSkipLink, `first stop: ${skip?.description}`);
      assert.ok(skip.indicator.length > 0, 'the skip link shows focus');
      assert.ok(skip.rect.top >= 0 && skip.rect.left >= 0, 'the focused skip link is on screen');
      await page.keyboard.press('Enter');
      assert.ok((await focusedStop(page))?.isMain, 'focus is on <main>');
      await page.keyboard.press('Tab');
      assert.match(await focused(), /^input#email/, 'the next stop is the first field');
    });

    it('keyboard: an agent signs in and opens a ticket with the keyboard alone, seeing focus on every stop in reading order', async () => {
      const { acme } = await aTeam();
      const jo = await aRequester(acme, 'jo@example.com', 'Jo Bloggs');
      await aTicket(acme, jo, { subject: 'Invoice missing', at: new Date('2026-11-24T09:00:00Z') });
      const printer = await aTicket(acme, jo, { subject: 'Printer on fire' });

      await page.goto(`${server.origin('acme')}/admin/login`);
      await walkWholePage(page, 'the login page');
      await tabTo(page, /^input#email/);
      await page.keyboard.type('ada@acme.test');
      await page.keyboard.press('Tab');
      assert.match(await focused(), /^input#password/);
      await page.keyboard.press('Shift+Tab');
      assert.match(await focused(), /^input#email/, 'Shift+Tab goes back to the email field');
      await page.keyboard.press('Tab');
      await page.keyboard.type(PASSWORD);
      await page.keyboard.press('Tab');
      assert.match(await focused(), /^button "Sign in"/);
      await page.keyboard.press('Space');
      await page.waitForURL('**/admin/tickets');
      assert.equal(await h1(page), 'Inbox');

      const inboxStops = await walkWholePage(page, 'the inbox');
      assert.deepEqual(
        inboxStops
          .filter((s) => s.description.startsWith('a "'))
          .map((s) => s.description)
          .slice(-2),
        ['a "Printer on fire"', 'a "Invoice missing"'],
        'the tickets are reached in the order of the table',
      );
      await tabTo(page, /^a "Printer on fire"/);
      await page.keyboard.press('Enter');
      await page.waitForURL(`**/admin/tickets/${printer.reference}`);
      assert.equal(await h1(page), 'Printer on fire');
      const ticketStops = await walkWholePage(page, 'the ticket page');
      for (const control of [
        /^input#visibility/,
        /^textarea#body/,
        /^select#replyStatus/,
        /^select#status/,
      ]) {
        assert.ok(
          ticketStops.some((s) => control.test(s.description)),
          `${control} is reachable: ${ticketStops.map((s) => s.description).join(', ')}`,
        );
      }

      // A reply typed and sent from the keyboard.
      await tabTo(page, /^textarea#body/);
      await page.keyboard.type('On our way.');
      await tabTo(page, /^button "Send"/);
      await page.keyboard.press('Enter');
      await page.waitForLoadState('load');
      assert.equal(
        await page.getByRole('status').innerText(),
        'Your reply was sent to jo@example.com.',
      );
    });
  });
});
