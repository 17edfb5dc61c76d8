import assert from 'node:assert/strict';
import type { Requester } from '../../src/models/requesters';
import type { Workspace } from '../../src/models/workspaces';
import type { PersonalData } from '../../src/services/personal-data';
import { MINUTE, type TestApp } from '../helpers/app';
import { $, Browser, csrfTokenOf } from '../helpers/client';
import {
  acmeWithJo,
  aRequester,
  aTicket,
  anAgent,
  anAgentMessage,
  anAttachment,
  aWorkspace,
  rows,
  type TicketFixture,
} from '../helpers/fixtures';
import { withScope } from '../../src/db/scopes';
import * as tickets from '../../src/models/tickets';
import { testDatabase } from '../helpers/database';

const YOUR_DATA = '/tickets/your-data';
const ALL = '/tickets/your-data/all';
const JSON_FILE = '/tickets/your-data/all.json';
const ERASURE = '/tickets/your-data/erasure';

describe('portal: your data', () => {
  let t: TestApp;
  let browser: Browser;
  let acme: Workspace;
  let jo: Requester;
  let printer: TicketFixture;
  let invoice: TicketFixture;

  beforeEach(async () => {
    ({ t, browser, acme, jo } = await acmeWithJo());
    const agent = await anAgent(acme, { name: 'Alex Agent' });
    printer = await aTicket(acme, jo, {
      subject: 'Printer on fire',
      body: 'It started this morning.',
      at: new Date('2026-11-20T09:00:00Z'),
    });
    await anAgentMessage(printer, agent, 'We are sending someone.', {
      at: new Date('2026-11-20T09:30:00Z'),
    });
    await anAgentMessage(printer, agent, 'INTERNAL: this customer again', {
      internal: true,
      at: new Date('2026-11-20T09:40:00Z'),
    });
    invoice = await aTicket(acme, jo, {
      subject: 'Invoice missing',
      body: 'Where is November’s invoice?',
      status: 'resolved',
      at: new Date('2026-11-21T09:00:00Z'),
    });
    await withScope(testDatabase().db, { kind: 'system' }, (trx) =>
      tickets.setRating(trx, {
        workspaceId: acme.id,
        id: invoice.id,
        rating: 4,
        comment: 'Quick, thanks.',
        at: new Date('2026-11-22T09:00:00Z'),
      }),
    );
    // Somebody else's ticket, in the same workspace and in another one.
    const sam = await aRequester(acme, 'sam@example.com', 'Sam Other');
    await aTicket(acme, sam, { subject: 'Sam’s secret', body: 'Sam’s words' });
    const globex = await aWorkspace('globex');
    const gail = await aRequester(globex, 'jo@example.com', 'Jo at Globex');
    await aTicket(globex, gail, { subject: 'Globex matter', body: 'Globex words' });
  });

  describe('who may see it', () => {
    it('sends a signed-out browser to the sign-in page, for every page and the request alike', async () => {
      for (const path of [YOUR_DATA, ALL, JSON_FILE, ERASURE]) {
        const res = await browser.get(path);
        assert.equal(res.status, 303, path);
        assert.equal(res.headers.location, '/tickets/login', path);
      }
      const post = await browser.submit('/tickets/login', ERASURE);
      assert.equal(post.status, 303);
      assert.equal(post.headers.location, '/tickets/login');
      assert.deepEqual(await erasureRequests(), []);
    });

    it('sends an anonymous visitor (an unverified address) to sign in, even for the address of a customer', async () => {
      const visitor = new Browser(t);
      const opened = await visitor.submit('/tickets/new', '/tickets/new', {
        name: 'Jo Bloggs',
        email: 'jo@example.com',
        subject: 'Typed by anybody',
        description: 'Anyone can type this address.',
      });
      assert.equal(opened.status, 303);
      for (const path of [YOUR_DATA, ALL, JSON_FILE, ERASURE]) {
        const res = await visitor.get(path);
        assert.equal(res.status, 303, path);
        assert.equal(res.headers.location, '/tickets/login', path);
      }
      const nav = $((await visitor.get('/tickets')).text)('nav.site-nav');
      assert.equal(nav.find(`a[href="${YOUR_DATA}"]`).length, 0, 'no link for a visitor');
    });
  });

  it('is linked from the navigation and says what is held and what erasure does before anyone asks', async () => {
    await browser.signIn('jo@example.com');
    const list = $((await browser.get('/tickets')).text);
    assert.equal(list(`nav.site-nav a[href="${YOUR_DATA}"]`).text().trim(), 'Your data');

    const res = await browser.get(YOUR_DATA);
    assert.equal(res.status, 200);
    const page = $(res.text);
    assert.equal(page('h1').text().trim(), 'Your data');
    assert.equal(page('title').text(), 'Your data – Acme Inc');
    const main = page('main').text().replace(/\s+/g, ' ');
    assert.match(main, /jo@example\.com/);
    assert.match(main, /Jo Bloggs/);
    assert.match(main, /your 2 tickets/);
    assert.match(main, /Notes the support team writes for itself are not part of the copy/);
    assert.match(main, /replaced with “\[erased\]”/);
    assert.match(main, /ticket numbers, statuses, dates and star ratings stay/);
    assert.match(main, /cannot be undone/);
    assert.equal(page(`a[href="${ALL}"]`).length, 1);
    assert.equal(page(`a[href="${JSON_FILE}"]`).attr('download'), '');
    assert.equal(page(`a[href="${ERASURE}"]`).text().trim(), 'Ask us to erase your data');
  });

  it('downloads exactly the requester’s data as a JSON attachment: record, tickets, public messages, files and ratings', async () => {
    await anAttachment(printer, { name: 'smoke.txt', content: Buffer.from('Lots of smoke.\n') });
    await browser.signIn('jo@example.com');
    const res = await browser.get(JSON_FILE);
    assert.equal(res.status, 200);
    assert.match(res.headers['content-type'] ?? '', /^application\/json; charset=utf-8$/);
    assert.equal(
      res.headers['content-disposition'],
      'attachment; filename=acme-your-data-2026-11-25.json',
    );
    assert.equal(res.headers['cache-control'], 'no-store');
    const [record] = await rows<{ created_at: Date }>(
      'select created_at from requesters where id = ?',
      [jo.id],
    );
    const expected: PersonalData = {
      format: 'tickets-portal/your-data/1',
      exportedAt: '2026-11-25T10:00:00.000Z',
      workspace: 'Acme Inc',
      you: {
        name: 'Jo Bloggs',
        email: 'jo@example.com',
        since: record!.created_at.toISOString(),
        erasureRequestedAt: null,
      },
      tickets: [
        {
          reference: printer.reference,
          subject: 'Printer on fire',
          status: 'open',
          openedAt: '2026-11-20T09:00:00.000Z',
          lastActivityAt: '2026-11-20T09:30:00.000Z',
          rating: null,
          messages: [
            {
              from: 'you',
              name: 'Jo Bloggs',
              sentAt: '2026-11-20T09:00:00.000Z',
              text: 'It started this morning.',
              files: [{ name: 'smoke.txt', type: 'text/plain', size: 15 }],
            },
            {
              from: 'support',
              name: 'Alex Agent',
              sentAt: '2026-11-20T09:30:00.000Z',
              text: 'We are sending someone.',
              files: [],
            },
          ],
        },
        {
          reference: invoice.reference,
          subject: 'Invoice missing',
          status: 'resolved',
          openedAt: '2026-11-21T09:00:00.000Z',
          lastActivityAt: '2026-11-21T09:00:00.000Z',
          rating: { stars: 4, comment: 'Quick, thanks.', ratedAt: '2026-11-22T09:00:00.000Z' },
          messages: [
            {
              from: 'you',
              name: 'Jo Bloggs',
              sentAt: '2026-11-21T09:00:00.000Z',
              text: 'Where is November’s invoice?',
              files: [],
            },
          ],
        },
      ],
    };
    assert.deepEqual(JSON.parse(res.text), expected);
    for (const foreign of ['INTERNAL', 'Sam', 'Globex']) {
      assert.ok(!res.text.includes(foreign), `nothing of "${foreign}"`);
    }
  });

  it('shows the same data as one printable page in the portal layout, without internal notes', async () => {
    await browser.signIn('jo@example.com');
    const res = await browser.get(ALL);
    assert.equal(res.status, 200);
    const page = $(res.text);
    assert.equal(page('h1').text().trim(), 'All your data');
    assert.equal(page('header.brand-header').length, 1, 'the portal layout');
    assert.deepEqual(
      page('main h3')
        .toArray()
        .map((h) => page(h).text().trim()),
      [`${printer.reference}: Printer on fire`, `${invoice.reference}: Invoice missing`],
    );
    assert.deepEqual(
      page('.message-body')
        .toArray()
        .map((m) => page(m).text().trim()),
      ['It started this morning.', 'We are sending someone.', 'Where is November’s invoice?'],
    );
    const main = page('main').text();
    assert.match(main, /jo@example\.com/);
    assert.match(main, /4 of 5/);
    assert.match(main, /Quick, thanks\./);
    for (const foreign of ['INTERNAL', 'Sam', 'Globex']) {
      assert.ok(!res.text.includes(foreign), `nothing of "${foreign}"`);
    }
    assert.equal(page('time:not([datetime])').length, 0, 'every time is machine-readable');
  });

  describe('asking for erasure', () => {
    it('confirms first, then records the request once, with a notice, and asking twice changes nothing', async () => {
      await browser.signIn('jo@example.com');
      const confirm = await browser.get(ERASURE);
      assert.equal(confirm.status, 200);
      const page = $(confirm.text);
      assert.equal(page('h1').text().trim(), 'Are you sure you want us to erase your data?');
      assert.match(page('main').text(), /cannot be undone/);
      const form = page(`form[action="${ERASURE}"]`);
      assert.equal(form.attr('method'), 'post');
      assert.equal(form.find('button').text().trim(), 'Yes, erase my data');
      assert.equal(page(`main a[href="${YOUR_DATA}"]`).text().trim(), 'No, go back to your data');
      assert.deepEqual(await erasureRequests(), [], 'the confirmation page asks nothing yet');

      const res = await browser.post(ERASURE, { _csrf: csrfTokenOf(confirm.text) });
      assert.equal(res.status, 303);
      assert.equal(res.headers.location, YOUR_DATA);
      assert.deepEqual(await erasureRequests(), [
        { id: jo.id, erasure_requested_at: t.clock.now() },
      ]);
      const after = $((await browser.get(YOUR_DATA)).text);
      assert.equal(after('[role=status] h2').text().trim(), 'We have your request');
      assert.match(after('main').text(), /You asked us to erase your data on/);
      assert.equal(after(`a[href="${ERASURE}"]`).length, 0, 'nothing more to ask');

      const asked = t.clock.now();
      t.clock.advance(5 * MINUTE);
      const again = await browser.submit(YOUR_DATA, ERASURE);
      assert.equal(again.status, 303);
      assert.deepEqual(await erasureRequests(), [{ id: jo.id, erasure_requested_at: asked }]);
      const confirmAgain = await browser.get(ERASURE);
      assert.equal(confirmAgain.status, 303, 'the confirmation page sends back to Your data');
      assert.equal(confirmAgain.headers.location, YOUR_DATA);

      const events = await rows<{ action: string; actor_id: string; details: unknown }>(
        `select action, actor_id, details from audit_events where action = 'portal.erasure_requested'`,
      );
      assert.deepEqual(events, [
        { action: 'portal.erasure_requested', actor_id: jo.id, details: {} },
      ]);

      const json = JSON.parse((await browser.get(JSON_FILE)).text) as PersonalData;
      assert.equal(json.you.erasureRequestedAt, asked.toISOString());
      assert.equal((await browser.get('/tickets')).status, 200, 'still signed in until erased');
    });

    it('refuses a request without its CSRF token and records nothing', async () => {
      await browser.signIn('jo@example.com');
      const res = await browser.post(ERASURE);
      assert.equal(res.status, 403);
      assert.deepEqual(await erasureRequests(), []);
    });
  });
});

function erasureRequests(): Promise<{ id: string; erasure_requested_at: Date }[]> {
  return rows(
    'select id, erasure_requested_at from requesters where erasure_requested_at is not null',
  );
}
