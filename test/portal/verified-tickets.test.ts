import assert from 'node:assert/strict';
import { withScope } from '../../src/db/scopes';
import type { Workspace } from '../../src/models/workspaces';
import * as workspaces from '../../src/models/workspaces';
import { smtpTransport } from '../../src/services/mail-transport';
import { HOUR, MINUTE, makeTestApp, type TestApp } from '../helpers/app';
import { $, Browser } from '../helpers/client';
import { testDatabase } from '../helpers/database';
import { aWorkspace, anAgentWithPassword, rows } from '../helpers/fixtures';
import { parseMime, partOf, TestSmtpServer } from '../helpers/smtp';

const PASSWORD = 'correct horse battery staple';
const NOTICE =
  'Check your email to confirm your address. We will not look at your ticket until you do.';

const anonymous = {
  name: 'Sam Visitor',
  email: 'sam@example.com',
  subject: 'Cannot download my invoice',
  description: 'The download button does nothing.',
};

function confirmLinkOf(text: string): string {
  const match = /https?:\/\/\S+\/tickets\/confirm\/[A-Za-z0-9_-]{43}/.exec(text);
  if (!match) throw new Error('no confirmation link in the mail');
  return match[0];
}

function askForConfirmation(workspace: Workspace, on = true): Promise<unknown> {
  return withScope(testDatabase().db, { kind: 'system' }, (trx) =>
    workspaces.update(trx, workspace.id, { confirmAnonymousEmail: on }),
  );
}

interface HeldRow {
  number: number;
  held_since: Date | null;
  created_at: Date;
  last_activity_at: Date;
}

const ticketRows = () =>
  rows<HeldRow>(
    'select number, held_since, created_at, last_activity_at from tickets order by number',
  );

describe('verified anonymous tickets', () => {
  let t: TestApp;
  let visitor: Browser;
  let acme: Workspace;

  beforeEach(async () => {
    t = makeTestApp();
    visitor = new Browser(t);
    acme = await aWorkspace('acme');
    await anAgentWithPassword(acme, { email: 'alex@acme.test', password: PASSWORD });
  });

  function open(b = visitor) {
    return b.submit('/tickets/new', '/tickets/new', anonymous);
  }

  async function agent(): Promise<Browser> {
    const alex = new Browser(t);
    assert.equal((await alex.signInAgent('alex@acme.test', PASSWORD)).status, 303);
    return alex;
  }

  async function inboxReferences(alex: Browser): Promise<string[]> {
    const res = await alex.get('/admin/tickets');
    assert.equal(res.status, 200);
    return $(res.text)('main a[href^="/admin/tickets/ACME-"]')
      .map((_i, el) => $(res.text)(el).attr('href'))
      .get();
  }

  async function exported(alex: Browser): Promise<string> {
    const res = await alex.get('/admin/tickets/export.csv');
    assert.equal(res.status, 200);
    return res.text;
  }

  describe('with the setting off (the default)', () => {
    it('opens the ticket straight into the inbox and mails only the acknowledgement, as before', async () => {
      assert.equal(acme.confirmAnonymousEmail, false, 'off for a new workspace');
      const res = await open();
      assert.equal(res.status, 303);
      assert.equal(res.headers.location, '/tickets/ACME-1001');
      const page = await visitor.get('/tickets/ACME-1001');
      assert.match($(page.text)('[role=status]').text(), /Ticket ACME-1001 opened/);
      assert.equal($(page.text)('#held').length, 0, 'no confirmation notice');
      assert.doesNotMatch(page.text, /confirm your address/);
      assert.equal((await ticketRows())[0]!.held_since, null);
      assert.deepEqual(await rows('select * from ticket_confirmations'), []);
      const mails = await t.deliverMail();
      assert.deepEqual(
        mails.map((m) => m.subject),
        ['We have your ticket ACME-1001: Cannot download my invoice'],
        'no confirmation link',
      );
      assert.deepEqual(await inboxReferences(await agent()), ['/admin/tickets/ACME-1001']);
    });
  });

  describe('with the setting on', () => {
    beforeEach(async () => {
      await askForConfirmation(acme);
    });

    it('holds the ticket: the visitor’s page says so plainly, with no reply from the team promised', async () => {
      const res = await open();
      assert.equal(res.status, 303);
      assert.equal(res.headers.location, '/tickets/ACME-1001');
      const page = await visitor.get('/tickets/ACME-1001');
      assert.equal(page.status, 200);
      const $page = $(page.text);
      const notice = $page('#held');
      assert.equal(notice.attr('role'), 'status', 'announced right after opening');
      assert.match(notice.find('h2').text(), /Ticket ACME-1001 saved: check your email/);
      assert.equal(notice.find('strong').text().trim(), NOTICE);
      assert.doesNotMatch(page.text, /We have your message and will reply/);
      assert.equal(notice.find('form button').text().trim(), 'Email me a new link');

      // Later visits keep saying it, without the live announcement.
      const again = $((await visitor.get('/tickets/ACME-1001')).text);
      assert.equal(again('#held strong').text().trim(), NOTICE);
      assert.equal(again('#held').attr('role'), undefined);
      assert.equal(again('#held h2').text().trim(), 'Check your email to confirm your address');

      const landing = $((await visitor.get('/tickets')).text);
      assert.match(
        landing('#session-tickets ~ ul li').text(),
        /ACME-1001: Cannot download my invoice.*Waiting for you to confirm your email address/s,
      );

      const [ticket] = await ticketRows();
      assert.ok(ticket!.held_since, 'held in the database');
      const [event] = await rows<{ action: string; details: unknown }>(
        'select action, details from audit_events',
      );
      assert.deepEqual(event, {
        action: 'portal.ticket_opened_anonymously',
        details: { held: true },
      });
    });

    it('keeps a held ticket from agents: not in the inbox, the export or a search, and its URL is 404', async () => {
      await open();
      const alex = await agent();
      assert.deepEqual(await inboxReferences(alex), []);
      const search = await alex.get('/admin/tickets?q=ACME-1001');
      assert.equal($(search.text)('main a[href="/admin/tickets/ACME-1001"]').length, 0);
      const csv = await exported(alex);
      assert.doesNotMatch(csv, /ACME-1001|invoice/);
      assert.equal((await alex.get('/admin/tickets/ACME-1001')).status, 404);
      const reply = await alex.submit('/admin/tickets', '/admin/tickets/ACME-1001/replies', {
        body: 'Hello?',
      });
      assert.equal(reply.status, 404);
      assert.equal((await ticketRows()).length, 1);
      assert.equal(
        (await rows('select * from messages')).length,
        1,
        'the agent could not add to it',
      );
    });

    it('keeps a held ticket out of the address’s requester list and ticket pages, even signed in', async () => {
      await open();
      const sam = new Browser(t);
      await t.deliverMail();
      await sam.signIn('sam@example.com');
      const list = await sam.get('/tickets');
      assert.equal(list.status, 200);
      assert.doesNotMatch(list.text, /ACME-1001|invoice/);
      assert.equal((await sam.get('/tickets/ACME-1001')).status, 404);
    });

    it('mails the address a single-use link and nobody else anything', async () => {
      await open();
      const mails = await t.deliverMail();
      assert.equal(mails.length, 1);
      const [mail] = mails;
      assert.equal(mail!.to, 'sam@example.com');
      assert.equal(mail!.subject, 'Confirm your email address for ticket ACME-1001');
      assert.match(confirmLinkOf(mail!.text), /^http:\/\/acme\.localhost:3000\/tickets\/confirm\//);
      const [stored] = await rows<{ token_hash: Buffer }>(
        'select token_hash from ticket_confirmations',
      );
      const token = confirmLinkOf(mail!.text).split('/').pop()!;
      assert.ok(!stored!.token_hash.toString('utf8').includes(token), 'only a hash is stored');
      assert.equal(stored!.token_hash.length, 32);
    });

    it('a GET of the link only shows a button; the POST releases the ticket into the inbox; a second use is refused', async () => {
      await open();
      const [mail] = await t.deliverMail();
      const path = new URL(confirmLinkOf(mail!.text)).pathname;

      for (let i = 0; i < 2; i += 1) {
        const page = await visitor.get(path);
        assert.equal(page.status, 200);
        assert.equal(
          $(page.text)(`main form[method=post][action="${path}"] button`).text().trim(),
          'Confirm my email address',
        );
      }
      assert.ok((await ticketRows())[0]!.held_since, 'still held after two GETs');

      const createdAt = (await ticketRows())[0]!.created_at;
      t.clock.advance(10 * MINUTE);
      const confirmed = await visitor.submit(path, path);
      assert.equal(confirmed.status, 303);
      assert.equal(confirmed.headers.location, '/tickets/ACME-1001');
      const page = $((await visitor.get('/tickets/ACME-1001')).text);
      assert.match(page('[role=status]').text(), /Email address confirmed/);
      assert.equal(page('#held').length, 0);

      const [ticket] = await ticketRows();
      assert.equal(ticket!.held_since, null);
      assert.deepEqual(ticket!.created_at, createdAt, 'written when it was written');
      assert.deepEqual(ticket!.last_activity_at, t.clock.now(), 'new in the inbox');
      const alex = await agent();
      assert.deepEqual(await inboxReferences(alex), ['/admin/tickets/ACME-1001']);
      assert.equal((await alex.get('/admin/tickets/ACME-1001')).status, 200);
      assert.match(await exported(alex), /ACME-1001/);
      // The acknowledgement held back while the ticket was held goes out now, with its Reply-To.
      const mails = await t.deliverMail();
      assert.deepEqual(
        mails.map((m) => [m.to, m.subject]),
        [['sam@example.com', 'We have your ticket ACME-1001: Cannot download my invoice']],
      );

      const second = await visitor.submit('/tickets/ACME-1001', path);
      assert.equal(second.status, 410);
      assert.equal($(second.text)('h1').text().trim(), 'This link has expired or was already used');
      assert.equal((await visitor.get(path)).status, 410);
    });

    it('confirming in another browser releases the ticket and lands on a page that names none', async () => {
      await open();
      const [mail] = await t.deliverMail();
      const path = new URL(confirmLinkOf(mail!.text)).pathname;
      const phone = new Browser(t);
      const res = await phone.submit(path, path);
      assert.equal(res.status, 303);
      assert.equal(res.headers.location, '/tickets/confirm/done');
      const done = await phone.get('/tickets/confirm/done');
      assert.equal(done.status, 200);
      assert.equal($(done.text)('h1').text().trim(), 'Email address confirmed');
      assert.equal((await phone.get('/tickets/ACME-1001')).status, 303, 'no session gained');
      assert.equal((await ticketRows())[0]!.held_since, null);
    });

    it('two simultaneous uses of one link: exactly one wins', async () => {
      await open();
      const [mail] = await t.deliverMail();
      const path = new URL(confirmLinkOf(mail!.text)).pathname;
      const a = new Browser(t);
      const b = new Browser(t);
      const pages = await Promise.all([a.get(path), b.get(path)]);
      const tokens = pages.map((p) => $(p.text)('input[name=_csrf]').val() as string);
      const results = await Promise.all([
        a.post(path, { _csrf: tokens[0]! }),
        b.post(path, { _csrf: tokens[1]! }),
      ]);
      assert.deepEqual(results.map((r) => r.status).sort(), [303, 410]);
    });

    it('a link expires after one hour, the ticket staying held; a new link from the ticket page works', async () => {
      await open();
      const [first] = await t.deliverMail();
      const path = new URL(confirmLinkOf(first!.text)).pathname;
      t.clock.advance(HOUR);
      assert.equal((await visitor.get(path)).status, 410);
      const refused = await visitor.post(path, {
        _csrf: $((await visitor.get('/tickets/ACME-1001')).text)('input[name=_csrf]')
          .first()
          .val() as string,
      });
      assert.equal(refused.status, 410);
      assert.ok((await ticketRows())[0]!.held_since, 'still held');

      const resend = await visitor.submit(
        '/tickets/ACME-1001',
        '/tickets/ACME-1001/confirmation-link',
      );
      assert.equal(resend.status, 303);
      assert.equal(resend.headers.location, '/tickets/ACME-1001');
      const page = $((await visitor.get('/tickets/ACME-1001')).text);
      assert.match(page('#held').text(), /a new link is on its way/);
      const [second] = await t.deliverMail();
      assert.equal(second!.to, 'sam@example.com');
      const fresh = new URL(confirmLinkOf(second!.text)).pathname;
      assert.notEqual(fresh, path);
      assert.equal((await visitor.submit(fresh, fresh)).status, 303);
      assert.equal((await ticketRows())[0]!.held_since, null);
    });

    it('a garbled or unknown link is 410 and changes nothing', async () => {
      await open();
      await t.deliverMail();
      for (const path of ['/tickets/confirm/short', `/tickets/confirm/${'A'.repeat(43)}`]) {
        assert.equal((await visitor.get(path)).status, 410, path);
        const res = await visitor.post(path, {
          _csrf: $((await visitor.get('/tickets/ACME-1001')).text)('input[name=_csrf]')
            .first()
            .val() as string,
        });
        assert.equal(res.status, 410, path);
      }
      assert.ok((await ticketRows())[0]!.held_since);
    });

    it('turning the setting off later releases nothing already held', async () => {
      await open();
      await askForConfirmation(acme, false);
      assert.ok((await ticketRows())[0]!.held_since);
      assert.deepEqual(await inboxReferences(await agent()), []);
      const res = await open(new Browser(t));
      assert.equal(res.headers.location, '/tickets/ACME-1002');
      assert.equal((await ticketRows())[1]!.held_since, null, 'a new one is not held');
    });
  });

  describe('over SMTP', () => {
    let smtp: TestSmtpServer;

    beforeEach(async () => {
      smtp = new TestSmtpServer();
      const port = await smtp.listen();
      t = makeTestApp({
        transport: smtpTransport(`smtp://127.0.0.1:${port}`, 'Support <support@example.com>'),
      });
      visitor = new Browser(t);
      await askForConfirmation(acme);
    });

    afterEach(async () => {
      await smtp.close();
    });

    it('delivers the confirmation mail with a text and an HTML part carrying the same link, which works', async () => {
      await open();
      await t.deliverMail();
      assert.equal(smtp.received.length, 1);
      const [mail] = smtp.received;
      assert.deepEqual(mail!.rcptTo, ['sam@example.com']);
      const parts = parseMime(mail!.raw);
      assert.equal(
        parts[0]!.headers.get('subject'),
        'Confirm your email address for ticket ACME-1001',
      );
      const text = partOf(parts, 'text/plain');
      const html = partOf(parts, 'text/html');
      assert.ok(text && html);
      const link = confirmLinkOf(text.body);
      assert.equal($(html.body)(`a[href="${link}"]`).length, 1);
      assert.match(text.body, /expires in 60 minutes/);

      const { pathname } = new URL(link);
      assert.equal((await visitor.submit(pathname, pathname)).status, 303);
      assert.equal((await ticketRows())[0]!.held_since, null);
    });
  });
});
