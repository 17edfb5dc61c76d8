import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { aRequester, aTicket, anAgentWithPassword, aWorkspace, rows } from '../helpers/fixtures';
import { pdf, png } from '../helpers/sample-files';
import { AuditLog, PageAudit, Titles } from './audit';
import { describeInChromium } from './availability';
import { chromiumSuite, signInLinkIn } from './harness';
import { walkWholePage } from './checks';
import { errorSummary, h1 } from './locators';

/*
 * Files on tickets in Chromium, with JavaScript off and on: the plain file input on each form
 * (Playwright's setInputFiles, as a person choosing files), a thread listing files, a refused
 * file's error summary, and the download itself. Every state goes through PageAudit.
 */

const PASSWORD = 'correct horse battery staple';

describeInChromium('attachments in Chromium: both apps’ file forms and threads', function () {
  this.timeout(90_000);
  const log = new AuditLog('attachments');
  const suite = chromiumSuite(log);

  /** The thread's files as "name: type, size" lines. */
  async function listedFiles(page: Page): Promise<string[]> {
    const items = await page.locator('.thread .attachments li').allInnerTexts();
    return items.map((text) => text.replace(/\s+/g, ' ').trim());
  }

  for (const javaScript of [false, true]) {
    const mode = `JavaScript ${javaScript ? 'on' : 'off'}`;

    it(`a customer attaches files to a new ticket and a reply, and a refused file is named, with ${mode}`, async () => {
      const acme = await aWorkspace('acme');
      await aRequester(acme, 'jo@example.com', 'Jo Bloggs');
      const origin = suite.server.origin('acme');
      const { traffic, page } = await suite.profile(javaScript);
      const audit = new PageAudit(page, traffic, {
        name: `attachments-portal-js-${javaScript ? 'on' : 'off'}`,
        log,
        titles: new Titles(),
        axe: javaScript,
        layout: javaScript,
      });

      const before = suite.server.mail.length;
      await page.goto(`${origin}/tickets/login`);
      await page.getByLabel('Email address').fill('jo@example.com');
      await page.getByRole('button', { name: 'Email me a sign-in link' }).click();
      await page.goto(signInLinkIn(await suite.server.waitForMail('jo@example.com', before)));
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      assert.equal(await h1(page), 'Your tickets');

      await page.goto(`${origin}/tickets/new`);
      const files = page.getByLabel('Attach files (optional)');
      assert.equal(await files.getAttribute('type'), 'file');
      assert.equal(await files.getAttribute('multiple'), '');
      assert.match(
        (await page.locator('#attachments-hint').innerText()).replace(/\s+/g, ' '),
        /Up to 5 files, each under 10 MB \(25 MB in all\): PNG, JPEG/,
      );
      await audit.check('new ticket', 'with a file input');
      await page.getByLabel('Subject').fill('Screen goes blank');
      await page.getByLabel('Description').fill('Screenshot and invoice attached.');
      const screenshot = await png();
      await files.setInputFiles([
        { name: 'screen.png', mimeType: 'image/png', buffer: screenshot },
        { name: 'invoice.pdf', mimeType: 'application/pdf', buffer: pdf() },
      ]);
      await page.getByRole('button', { name: 'Open ticket' }).click();
      assert.equal(await h1(page), 'Screen goes blank');
      assert.deepEqual(await listedFiles(page), [
        `screen.png PNG image, ${screenshot.length} bytes`,
        `invoice.pdf PDF, ${pdf().length} bytes`,
      ]);
      await audit.check('ticket', 'with files');
      if (javaScript) {
        // Keyboard: the file links and the file input are Tab stops, in order, with visible focus.
        await page.reload();
        const stops = (await walkWholePage(page, 'a ticket with files')).map((s) => s.description);
        const at = (pattern: RegExp) => stops.findIndex((d) => pattern.test(d));
        assert.ok(
          at(/screen\.png/) >= 0 && at(/invoice\.pdf/) > at(/screen\.png/),
          stops.join(', '),
        );
        assert.ok(at(/input#attachments/) > at(/invoice\.pdf/), stops.join(', '));
      }

      // A disguised file: the page comes again, naming it, with the reply kept.
      await page.getByLabel('Your reply').fill('And the log file.');
      await page.getByLabel('Attach files (optional)').setInputFiles([
        {
          name: 'log.png',
          mimeType: 'image/png',
          buffer: Buffer.from('<html>not a picture</html>'),
        },
      ]);
      await page.getByRole('button', { name: 'Send reply' }).click();
      assert.match(await errorSummary(page), /“log\.png” must be a PNG, JPEG, GIF, WebP, PDF/);
      assert.equal(await page.getByLabel('Your reply').inputValue(), 'And the log file.');
      assert.equal((await audit.check('ticket', 'refused file')).status, 422);
      assert.deepEqual(
        await rows('select id from messages where body = ?', ['And the log file.']),
        [],
      );

      // A file over 10 MB: the 413 page, and nothing stored.
      await page.getByLabel('Attach files (optional)').setInputFiles([
        {
          name: 'huge.pdf',
          mimeType: 'application/pdf',
          buffer: Buffer.concat([pdf(), Buffer.alloc(11 * 1024 * 1024, 0x20)]),
        },
      ]);
      await page.getByRole('button', { name: 'Send reply' }).click();
      assert.equal(await h1(page), 'What you sent is too large');
      assert.equal((await audit.check('too large', 'a file')).status, 413);
      await page.goBack();

      // The same reply with a real text file goes through.
      await page
        .getByLabel('Attach files (optional)')
        .setInputFiles([
          { name: 'log.txt', mimeType: 'text/plain', buffer: Buffer.from('error 42\n') },
        ]);
      await page.getByRole('button', { name: 'Send reply' }).click();
      assert.deepEqual((await listedFiles(page)).at(-1), 'log.txt Text, 9 bytes');

      // The link downloads the file (Content-Disposition: attachment), under its name.
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('link', { name: 'screen.png' }).click(),
      ]);
      assert.equal(download.suggestedFilename(), 'screen.png');
      assert.deepEqual(readFileSync(await download.path()), screenshot);
      assert.equal(await h1(page), 'Screen goes blank', 'the page stays where it was');
    });

    it(`an agent opens a ticket with a file and notes one internally, with ${mode}`, async () => {
      const acme = await aWorkspace('acme');
      const jo = await aRequester(acme, 'jo@example.com', 'Jo Bloggs');
      const ticket = await aTicket(acme, jo, { subject: 'Printer on fire' });
      await anAgentWithPassword(acme, {
        email: 'ada@acme.test',
        password: PASSWORD,
        name: 'Ada Admin',
      });
      const origin = suite.server.origin('acme');
      const { traffic, page } = await suite.profile(javaScript);
      const audit = new PageAudit(page, traffic, {
        name: `attachments-admin-js-${javaScript ? 'on' : 'off'}`,
        log,
        titles: new Titles(),
        axe: javaScript,
        layout: javaScript,
      });
      await page.goto(`${origin}/admin/login`);
      await page.getByLabel('Email address').fill('ada@acme.test');
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in' }).click();
      assert.equal(await h1(page), 'Inbox');

      await page.goto(`${origin}/admin/tickets/new`);
      await audit.check('new ticket', 'with a file input');
      await page.getByLabel("Requester's email address").fill('sam@example.com');
      await page.getByLabel("Requester's name").fill('Sam');
      await page.getByLabel('Subject').fill('Phoned in');
      await page.getByLabel('First message').fill('Photo of the label attached.');
      await page
        .getByLabel('Attach files (optional)')
        .setInputFiles([{ name: 'label.png', mimeType: 'image/png', buffer: await png() }]);
      await page.getByRole('button', { name: 'Open ticket' }).click();
      assert.equal(await h1(page), 'Phoned in');
      assert.equal((await listedFiles(page)).length, 1);

      await page.goto(`${origin}/admin/tickets/${ticket.reference}`);
      await page.getByLabel('Internal note: only agents see it').check();
      await page.getByRole('textbox', { name: 'Message' }).fill('Their contract, for reference.');
      await page
        .getByLabel('Attach files (optional)')
        .setInputFiles([{ name: 'contract.pdf', mimeType: 'application/pdf', buffer: pdf() }]);
      await page.getByRole('button', { name: 'Send' }).click();
      assert.deepEqual(await listedFiles(page), [`contract.pdf PDF, ${pdf().length} bytes`]);
      await audit.check('ticket', 'a note with a file');

      await page.getByRole('textbox', { name: 'Message' }).fill('A reply with a file we refuse.');
      await page.getByLabel('Attach files (optional)').setInputFiles([
        {
          name: 'setup.exe',
          mimeType: 'application/octet-stream',
          buffer: Buffer.from('MZ\0\0\0\0'),
        },
      ]);
      await page.getByRole('button', { name: 'Send' }).click();
      assert.match(await errorSummary(page), /“setup\.exe” must be a PNG/);
      assert.equal((await audit.check('ticket', 'refused file')).status, 422);
    });
  }
});
