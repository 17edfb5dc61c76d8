import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { crc32, deflateSync } from 'node:zlib';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { exportColumns } from '../../src/services/ticket-export';
import { aRequester, aTicket, anAgentWithPassword, aWorkspace, rows } from '../helpers/fixtures';
import { AuditLog, PageAudit, Titles } from './audit';
import { describeInChromium } from './availability';
import { screenshot } from './checks';
import {
  launchChromium,
  newContext,
  signInLinkIn,
  startServer,
  Traffic,
  type RunningServer,
} from './harness';
import { h1, main, agentNav, errorSummary, flat } from './locators';

/*
 * The agent's whole journey in Chromium, by clicking and typing only, once with JavaScript off
 * and once with it on: sign in, switch the portal on, brand it, answer a customer, note, resolve,
 * see the customer's rating and download the CSV. The customer plays their part in a browser
 * context of their own. Every agent page state goes through PageAudit; with JavaScript on that
 * includes axe, reflow at 320px and 200% text.
 */

const PASSWORD = 'correct horse battery staple';

const settingsNav = (page: Page) => page.getByRole('navigation', { name: 'Settings' });

/** A real 2×2 PNG (signature, IHDR, IDAT, IEND with their CRCs), as an upload would carry it. */
function aPng(): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(2, 0);
  header.writeUInt32BE(2, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB, no interlace
  const pixels = Buffer.from([0, 0, 94, 165, 255, 255, 255, 0, 255, 255, 255, 0, 94, 165]);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(pixels)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** RFC 4180 as the export writes it: quoted fields may hold commas, quotes ("") and line breaks. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i += 1;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      record.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      i += 1;
    } else field += c;
  }
  if (field !== '' || record.length > 0) records.push([...record, field]);
  return records;
}

describeInChromium('the agent app in Chromium: the whole journey', function () {
  this.timeout(90_000);
  let browser: Browser;
  let server: RunningServer;
  let contexts: BrowserContext[] = [];
  const log = new AuditLog('admin-journey');
  // Both journeys visit the same pages of the same workspace: their titles must agree too.
  const titles = new Titles();

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
    // Closed before the server, so no page is left talking to it, also after a failure.
    await Promise.all(contexts.map((c) => c.close()));
    contexts = [];
    await server.stop();
  });

  async function aBrowserContext(javaScript: boolean): Promise<BrowserContext> {
    const context = await newContext(browser, javaScript);
    contexts.push(context);
    return context;
  }

  for (const javaScript of [false, true]) {
    const mode = `JavaScript ${javaScript ? 'on' : 'off'}`;

    it(`an admin turns the portal on, brands it, answers, notes and resolves a ticket, sees its rating and exports it with ${mode}`, async () => {
      const acme = await aWorkspace('acme', { portal: false });
      await anAgentWithPassword(acme, {
        email: 'ada@acme.test',
        password: PASSWORD,
        name: 'Ada Admin',
        role: 'admin',
      });
      const jo = await aRequester(acme, 'jo@example.com', 'Jo Bloggs');
      const printer = await aTicket(acme, jo, {
        subject: 'Printer on fire',
        body: 'Smoke everywhere.',
      });
      const invoice = await aTicket(acme, jo, {
        subject: 'Invoice missing',
        status: 'pending',
        at: new Date('2026-11-24T09:00:00Z'),
      });
      const ref = printer.reference;
      const origin = server.origin('acme');
      const name = `admin-journey-js-${javaScript ? 'on' : 'off'}`;
      const shoot = (file: string) =>
        javaScript ? screenshot(page, `admin-${file}`) : Promise.resolve();

      const context = await aBrowserContext(javaScript);
      const traffic = await Traffic.record(context);
      const page = await context.newPage();
      const audit = new PageAudit(page, traffic, {
        name,
        log,
        titles,
        axe: javaScript,
        layout: javaScript,
      });
      // The customer, in a browser of their own: the portal is off, so there is nothing yet.
      const customerContext = await aBrowserContext(javaScript);
      const customer = await customerContext.newPage();
      assert.equal((await customer.goto(`${origin}/tickets`))?.status(), 404);

      // Signing in: the agent app sends everyone who is not signed in to its login page.
      await page.goto(`${origin}/admin`);
      assert.equal(await h1(page), 'Sign in to the agent app');
      assert.equal(await agentNav(page).count(), 0, 'no agent navigation before signing in');
      await audit.check('login');
      await page.getByRole('button', { name: 'Sign in' }).click();
      assert.equal((await audit.check('login', 'empty')).status, 422);
      assert.match(
        await errorSummary(page),
        /There is a problem\s+Enter your email address\s+Enter your password/,
      );
      await page.getByLabel('Email address').fill('ada@acme.test');
      await page.getByLabel('Password').fill('not the password');
      await page.getByRole('button', { name: 'Sign in' }).click();
      assert.equal((await audit.check('login', 'wrong password')).status, 422);
      assert.match(await errorSummary(page), /The email address or password is not right/);
      assert.equal(await page.getByLabel('Email address').inputValue(), 'ada@acme.test');
      assert.equal(
        await page.getByLabel('Password').inputValue(),
        '',
        'the password is not echoed',
      );
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in' }).click();

      // The inbox: both tickets, most recent activity first.
      assert.equal(await h1(page), 'Inbox');
      const table = page.getByRole('table', { name: 'Tickets, most recent activity first' });
      assert.deepEqual((await table.getByRole('row').allInnerTexts()).map(flat), [
        'Reference Subject Requester Status Last reply CSAT',
        `${ref} Printer on fire Jo Bloggs jo@example.com Open 25 Nov 2026, 09:00 UTC Not rated`,
        `${invoice.reference} Invoice missing Jo Bloggs jo@example.com Pending 24 Nov 2026, 09:00 UTC Not rated`,
      ]);
      assert.match(
        await page.getByRole('contentinfo').innerText(),
        /Signed in as Ada Admin \(ada@acme\.test, admin\)/,
      );
      await audit.check('inbox', 'two tickets');

      // A search that matches nothing says so and offers the way back.
      await page.getByLabel('Search tickets').fill('toner');
      await page.getByRole('button', { name: 'Show tickets' }).click();
      assert.match(await main(page).innerText(), /No tickets match this search\./);
      assert.equal(await table.count(), 0);
      await audit.check('inbox', 'no match');
      await page.getByRole('link', { name: 'Clear search and filters' }).click();
      assert.equal(await table.getByRole('row').count(), 3);

      // Settings → Modules: the portal is off; tick it on.
      await agentNav(page).getByRole('link', { name: 'Settings' }).click();
      assert.equal(await h1(page), 'Modules');
      assert.equal(
        await agentNav(page).getByRole('link', { name: 'Settings' }).getAttribute('aria-current'),
        'page',
      );
      assert.match(
        await page.locator('#portal-status').innerText(),
        /The Tickets Portal is off: customers cannot reach it\./,
      );
      const portalBox = page.getByRole('checkbox', { name: 'Tickets Portal' });
      assert.equal(await portalBox.isChecked(), false);
      await audit.check('modules', 'portal off');
      await portalBox.click();
      await page.getByRole('button', { name: 'Save modules' }).click();
      assert.equal(await page.getByRole('status').innerText(), 'Your module settings were saved.');
      assert.equal(await portalBox.isChecked(), true);
      assert.match(
        await page.locator('#portal-status').innerText(),
        new RegExp(`The Tickets Portal is on at ${origin}/tickets`),
      );
      await shoot('modules');
      await audit.check('modules', 'portal on');
      await customer.goto(`${origin}/tickets`);
      assert.equal(await h1(customer), 'Get help from Acme Inc', 'the portal answers at once');

      // Settings → Branding: a colour code that is not one, then a real one and a new name.
      await settingsNav(page).getByRole('link', { name: 'Branding' }).click();
      assert.equal(await h1(page), 'Branding');
      await audit.check('branding');
      await page.getByLabel('Workspace name').fill('Acme Support');
      await page.getByLabel('Or type the colour code (optional)').fill('navy');
      await page.getByRole('button', { name: 'Save name and colour' }).click();
      assert.equal((await audit.check('branding', 'invalid colour')).status, 422);
      assert.match(
        await errorSummary(page),
        /Enter the colour as # and 6 characters from 0 to 9 and a to f, like #1d70b8/,
      );
      assert.equal(await page.getByLabel('Workspace name').inputValue(), 'Acme Support');
      await page.getByLabel('Or type the colour code (optional)').fill('#005EA5');
      await page.getByRole('button', { name: 'Save name and colour' }).click();
      assert.equal(
        await page.getByRole('status').innerText(),
        'The name and colour were saved. The portal shows them now.',
      );
      assert.equal(await page.locator('#current-colour').innerText(), '#005ea5');
      assert.equal(await page.locator('#contrast-warning').count(), 0, 'no contrast warning');
      assert.match(await page.getByRole('banner').innerText(), /Acme Support/);
      await audit.check('branding', 'saved');

      // The logo: a text file dressed as a PNG is refused, a real PNG is taken.
      await page.getByLabel('Upload a logo').setInputFiles({
        name: 'logo.png',
        mimeType: 'image/png',
        buffer: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'),
      });
      await page.getByRole('button', { name: 'Upload logo' }).click();
      assert.equal((await audit.check('branding', 'refused logo')).status, 422);
      assert.match(await errorSummary(page), /The logo must be a PNG, JPEG or WebP image/);
      await page.getByLabel('Upload a logo').setInputFiles({
        name: 'logo.png',
        mimeType: 'image/png',
        buffer: aPng(),
      });
      await page.getByRole('button', { name: 'Upload logo' }).click();
      assert.equal(
        await page.getByRole('status').innerText(),
        'The logo was uploaded. The portal shows it now.',
      );
      await page.waitForLoadState('load');
      const logo = page.getByRole('img', { name: 'The current logo of Acme Support' });
      assert.equal(
        await logo.evaluate((img: HTMLImageElement) => img.naturalWidth),
        2,
        'the uploaded logo is served back and decodes',
      );
      await shoot('branding');
      await audit.check('branding', 'with logo');
      assert.deepEqual(
        await rows('select name, primary_color, logo_type from workspaces where slug = ?', [
          'acme',
        ]),
        [{ name: 'Acme Support', primary_color: '#005ea5', logo_type: 'image/png' }],
      );

      // The customer sees the new name, colour and logo.
      await customer.reload();
      await customer.waitForLoadState('load');
      assert.equal(await h1(customer), 'Get help from Acme Support');
      const portalHeader = customer.getByRole('banner');
      assert.equal(
        await portalHeader.evaluate((header) => getComputedStyle(header).backgroundColor),
        'rgb(0, 94, 165)',
      );
      assert.equal(
        await portalHeader
          .locator('img.brand-logo')
          .evaluate((img: HTMLImageElement) => img.naturalWidth),
        2,
      );

      // The ticket: a public reply (the form's errors first), an internal note, then Resolved.
      await agentNav(page).getByRole('link', { name: 'Inbox' }).click();
      await table.getByRole('link', { name: 'Printer on fire' }).click();
      assert.equal(await h1(page), 'Printer on fire');
      const currentStatus = page.locator('#current-status');
      assert.equal(await currentStatus.innerText(), 'Open');
      const thread = page.getByRole('list').filter({ has: page.getByRole('article') });
      assert.deepEqual(
        await thread
          .getByRole('article')
          .evaluateAll((a) => a.map((e) => e.getAttribute('aria-label'))),
        ['Message from Jo Bloggs'],
      );
      await audit.check(`ticket ${ref}`);
      await page.getByRole('button', { name: 'Send', exact: true }).click();
      assert.equal((await audit.check(`ticket ${ref}`, 'empty reply')).status, 422);
      assert.match(await errorSummary(page), /Enter a message/);
      assert.equal(
        await page.getByRole('radio', { name: /^Public reply/ }).isChecked(),
        true,
        'a public reply is the default',
      );
      await page
        .getByRole('textbox', { name: 'Message' })
        .fill('Please step away from the printer.');
      await page.getByRole('button', { name: 'Send', exact: true }).click();
      assert.equal(
        await page.getByRole('status').innerText(),
        'Your reply was sent to jo@example.com.',
      );
      assert.equal(await currentStatus.innerText(), 'Pending', 'a reply waits for the customer');
      await audit.check(`ticket ${ref}`, 'replied');

      await page.getByRole('radio', { name: 'Internal note: only agents see it' }).check();
      await page.getByRole('textbox', { name: 'Message' }).fill('Customer sounds stressed.');
      await page.getByRole('button', { name: 'Send', exact: true }).click();
      assert.equal(
        await page.getByRole('status').innerText(),
        'Your internal note was added. The requester cannot see it.',
      );
      const note = thread.getByRole('article', { name: 'Internal note from Ada Admin' });
      assert.match(
        flat(await note.innerText()),
        /^Internal note Ada Admin \(agent\) .*Customer sounds stressed\.$/i,
      );
      assert.equal(await currentStatus.innerText(), 'Pending', 'a note leaves the status alone');
      await audit.check(`ticket ${ref}`, 'internal note');

      await page.getByLabel('Ticket status').selectOption({ label: 'Resolved' });
      await page.getByRole('button', { name: 'Change status' }).click();
      assert.equal(await page.getByRole('status').innerText(), 'Status changed to Resolved.');
      assert.equal(await currentStatus.innerText(), 'Resolved');
      assert.equal(await page.locator('#rating').innerText(), 'Not rated');
      await audit.check(`ticket ${ref}`, 'resolved');

      // The reply reached the customer by mail, the note did not.
      const replyMail = await server.waitForMail('jo@example.com');
      assert.match(replyMail.raw, /Please step away from the printer\./);
      assert.doesNotMatch(replyMail.raw, /stressed/);

      // The customer signs in by link, reads the answer (not the note) and rates the ticket.
      const mailsBefore = server.mail.length;
      await customer.goto(`${origin}/tickets/login`);
      await customer.getByLabel('Email address').fill('jo@example.com');
      await customer.getByRole('button', { name: 'Email me a sign-in link' }).click();
      assert.equal(await h1(customer), 'Check your email');
      await customer.goto(signInLinkIn(await server.waitForMail('jo@example.com', mailsBefore)));
      await customer.getByRole('button', { name: 'Sign in', exact: true }).click();
      assert.equal(await h1(customer), 'Your tickets');
      await customer.getByRole('link', { name: 'Printer on fire' }).click();
      const customerView = await main(customer).innerText();
      assert.match(customerView, /Please step away from the printer\./);
      assert.doesNotMatch(customerView, /stressed/);
      await customer.getByRole('radio', { name: '4 – Good' }).check();
      await customer.getByLabel('Comment (optional)').fill('Quick and kind.');
      await customer.getByRole('button', { name: 'Send feedback' }).click();
      assert.equal(await customer.getByRole('status').innerText(), 'Thank you for your feedback.');

      // Back in the inbox: the rating and the start of the comment on the ticket's row.
      await agentNav(page).getByRole('link', { name: 'Inbox' }).click();
      assert.match(
        flat(await table.getByRole('row').filter({ hasText: 'Printer on fire' }).innerText()),
        new RegExp(
          `^${ref} Printer on fire Jo Bloggs jo@example\\.com Resolved \\d{1,2} \\w{3} \\d{4}, \\d{2}:\\d{2} UTC ★★★★☆ 4 of 5 “?Quick and kind\\.”?$`,
        ),
      );
      await shoot('inbox');
      await audit.check('inbox', 'rated');
      await table.getByRole('link', { name: 'Printer on fire' }).click();
      assert.equal(await page.locator('#rating').innerText(), 'Rated ★★★★☆ 4 of 5');
      assert.equal(await page.locator('#rating-comment').innerText(), 'Quick and kind.');
      await shoot('ticket');
      await audit.check(`ticket ${ref}`, 'rated');

      // The CSV export from the inbox's link: the ticket with its rating and comment.
      await agentNav(page).getByRole('link', { name: 'Inbox' }).click();
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('link', { name: 'Download these tickets as a spreadsheet (CSV)' }).click(),
      ]);
      assert.match(download.suggestedFilename(), /^acme-tickets-\d{4}-\d{2}-\d{2}\.csv$/);
      const csv = await readFile(await download.path(), 'utf8');
      assert.ok(csv.startsWith('\ufeff'), 'a byte order mark for spreadsheet apps');
      const [header, ...records] = parseCsv(csv.slice(1));
      assert.deepEqual(header, [...exportColumns]);
      assert.deepEqual(
        records.map((r) => r[0]),
        [ref, invoice.reference],
      );
      const exported = Object.fromEntries(exportColumns.map((c, i) => [c, records[0]![i]]));
      assert.deepEqual(
        {
          subject: exported.Subject,
          requester: exported['Requester email'],
          status: exported.Status,
          rating: exported['CSAT rating'],
          comment: exported['CSAT comment'],
        },
        {
          subject: 'Printer on fire',
          requester: 'jo@example.com',
          status: 'Resolved',
          rating: '4',
          comment: 'Quick and kind.',
        },
      );

      // Signing out ends the agent session.
      await agentNav(page).getByRole('button', { name: 'Sign out' }).click();
      assert.equal(await h1(page), 'Sign in to the agent app');
      await page.goto(`${origin}/admin/tickets/${ref}`);
      assert.equal(await h1(page), 'Sign in to the agent app');
    });
  }
});
