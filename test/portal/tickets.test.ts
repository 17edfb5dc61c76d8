import assert from 'node:assert/strict';
import { defaultLimits } from '../../src/config';
import type { Requester } from '../../src/models/requesters';
import type { User } from '../../src/models/users';
import type { Workspace } from '../../src/models/workspaces';
import { MINUTE, type TestApp } from '../helpers/app';
import type { Browser } from '../helpers/client';
import { $ } from '../helpers/client';
import {
  aRequester,
  aTicket,
  aWorkspace,
  anAgent,
  anAgentMessage,
  reloadTicket,
  rows,
  setStatus,
  type TicketFixture,
  acmeWithJo,
} from '../helpers/fixtures';

const BASE = new Date('2026-11-20T08:00:00Z');
const at = (minutes: number) => new Date(BASE.getTime() + minutes * MINUTE);

const NOTE = 'INTERNAL-NOTE: refund fraud suspected, do not tell the customer';
const NOTE_AUTHOR = 'Ivy Insider';

/** The rows of the ticket table as plain values. */
function listed(html: string) {
  const page = $(html);
  return page('main table tbody tr')
    .toArray()
    .map((tr) => {
      const cells = page(tr).find('td');
      return {
        reference: cells.eq(0).text().trim(),
        subject: cells.eq(1).find('a').text().trim(),
        href: cells.eq(1).find('a').attr('href'),
        status: cells.eq(2).text().trim(),
        time: cells.eq(3).find('time').attr('datetime'),
      };
    });
}

function messageCount(ticket: { id: string }): Promise<number> {
  return rows<{ n: number }>('select count(*)::int as n from messages where ticket_id = ?', [
    ticket.id,
  ]).then((r) => r[0]!.n);
}

describe('portal ticket list', () => {
  let browser: Browser;
  let acme: Workspace;
  let jo: Requester;

  beforeEach(async () => {
    ({ browser, acme, jo } = await acmeWithJo());
  });

  it('lists only the signed-in requester’s tickets, in every status, newest activity first', async () => {
    await aTicket(acme, jo, { subject: 'Open one', status: 'open', at: at(1) });
    await aTicket(acme, jo, { subject: 'Closed one', status: 'closed', at: at(4) });
    await aTicket(acme, jo, { subject: 'Pending one', status: 'pending', at: at(3) });
    await aTicket(acme, jo, { subject: 'Resolved one', status: 'resolved', at: at(2) });
    const sam = await aRequester(acme, 'sam@example.com', 'Sam');
    await aTicket(acme, sam, { subject: 'Sam’s secret', at: at(5) });
    const globex = await aWorkspace('globex');
    const globexJo = await aRequester(globex, 'jo@example.com', 'Jo Bloggs');
    await aTicket(globex, globexJo, { subject: 'Globex secret', at: at(6) });

    await browser.signIn('jo@example.com');
    const res = await browser.get('/tickets');
    assert.equal(res.status, 200);
    const tickets = listed(res.text);
    assert.deepEqual(
      tickets.map((x) => [x.subject, x.status]),
      [
        ['Closed one', 'Closed'],
        ['Pending one', 'Waiting for you'],
        ['Resolved one', 'Resolved'],
        ['Open one', 'Open'],
      ],
    );
    assert.ok(!res.text.includes('Sam’s secret'), 'another requester’s ticket is not listed');
    assert.ok(
      !res.text.includes('Globex secret'),
      'the same address in another workspace is not listed',
    );
    assert.ok(!res.text.includes('GLOBEX-'), 'no reference of another workspace');
  });

  it('shows reference, subject linking to the ticket, status and the last reply’s time', async () => {
    const ticket = await aTicket(acme, jo, { subject: 'Printer on fire', at: at(0) });
    const agent = await anAgent(acme);
    await anAgentMessage(ticket, agent, 'Have you tried water?', { at: at(30) });
    await anAgentMessage(ticket, agent, NOTE, { internal: true, at: at(45) });

    await browser.signIn('jo@example.com');
    const res = await browser.get('/tickets');
    const [row] = listed(res.text);
    assert.deepEqual(row, {
      reference: 'ACME-1001',
      subject: 'Printer on fire',
      href: '/tickets/ACME-1001',
      status: 'Open',
      time: at(30).toISOString(),
    });
    assert.ok(!res.text.includes(NOTE), 'no internal note on the list');
  });

  it('offers an "Open a new ticket" link', async () => {
    await browser.signIn('jo@example.com');
    const page = $((await browser.get('/tickets')).text);
    const links = page('main a').filter((_, a) => page(a).text().trim() === 'Open a new ticket');
    assert.equal(links.attr('href'), '/tickets/new');
  });

  it('pages 25 tickets at a time and links to the older ones', async () => {
    for (let i = 0; i < 27; i++) await aTicket(acme, jo, { subject: `Ticket ${i}`, at: at(i) });
    await browser.signIn('jo@example.com');

    const first = await browser.get('/tickets');
    assert.equal(first.status, 200);
    const firstRows = listed(first.text);
    assert.equal(firstRows.length, 25);
    assert.deepEqual(
      firstRows.map((r) => r.reference),
      Array.from({ length: 25 }, (_, i) => `ACME-${1027 - i}`),
    );
    const next = $(first.text)('a[rel=next]');
    assert.equal(next.length, 1);
    assert.equal(next.text().trim(), 'Older tickets');

    const second = await browser.get(next.attr('href')!);
    assert.equal(second.status, 200);
    assert.deepEqual(
      listed(second.text).map((r) => r.reference),
      ['ACME-1002', 'ACME-1001'],
    );
    assert.equal($(second.text)('a[rel=next]').length, 0, 'no page after the last');
  });

  it('pages through tickets with the same activity time without skipping or repeating any', async () => {
    for (let i = 0; i < 27; i++) await aTicket(acme, jo, { subject: `Ticket ${i}`, at: at(0) });
    await browser.signIn('jo@example.com');
    const first = await browser.get('/tickets');
    const second = await browser.get($(first.text)('a[rel=next]').attr('href')!);
    const seen = [...listed(first.text), ...listed(second.text)].map((r) => r.reference);
    assert.equal(seen.length, 27);
    assert.equal(new Set(seen).size, 27);
  });

  it('answers a garbled page cursor with a 400 page, not a 500', async () => {
    await aTicket(acme, jo);
    await browser.signIn('jo@example.com');
    const b64 = (s: string) => Buffer.from(s).toString('base64url');
    const uuid = '6f1c2c1e-4a3b-4c5d-8e9f-0a1b2c3d4e5f';
    for (const query of [
      'after=garbage',
      'after=',
      'after=%00%FF',
      `after=${b64('not a date|' + uuid)}`,
      `after=${b64('2026-11-20T08:00:00.000Z|not-a-uuid')}`,
      `after=${b64('2026-11-20T08:00:00.000Z')}`,
      `after=${b64('-271821-04-20T00:00:00.000Z|' + uuid)}`,
      `after=${b64('+275760-09-13T00:00:00.000Z|' + uuid)}`,
      `after=${b64('2026-13-45T99:99:99.999Z|' + uuid)}`,
      'after=a&after=b',
    ]) {
      const res = await browser.get(`/tickets?${query}`);
      assert.equal(res.status, 400, `400 for ?${query}`);
      assert.match(
        $(res.text)('h1').text(),
        /could not read that request/,
        `error page for ?${query}`,
      );
    }
  });

  it('shows signed-out visitors a landing page with the sign-in form and a new-ticket link, and no tickets', async () => {
    await aTicket(acme, jo, { subject: 'Private matter' });
    const res = await browser.get('/tickets');
    assert.equal(res.status, 200);
    const page = $(res.text);
    const form = page('main form[action="/tickets/login"]');
    assert.equal(form.length, 1, 'a sign-in form');
    assert.equal(form.find('input[type=email][name=email]').length, 1);
    const links = page('main a').filter((_, a) => page(a).text().trim() === 'Open a new ticket');
    assert.equal(links.attr('href'), '/tickets/new');
    assert.equal(page('main table').length, 0);
    assert.ok(!res.text.includes('Private matter'));
  });
});

describe('portal ticket page', () => {
  let t: TestApp;
  let browser: Browser;
  let acme: Workspace;
  let jo: Requester;
  let agent: User;
  let ticket: TicketFixture;

  beforeEach(async () => {
    ({ t, browser, acme, jo } = await acmeWithJo());
    agent = await anAgent(acme, { name: 'Alex Agent' });
    ticket = await aTicket(acme, jo, {
      subject: 'Printer on fire',
      body: 'It started this morning.',
      at: at(0),
    });
  });

  const ticketPath = () => `/tickets/${ticket.reference}`;
  const replyPath = () => `/tickets/${ticket.reference}/replies`;

  async function withInternalNote(): Promise<void> {
    const insider = await anAgent(acme, { email: 'ivy@acme.test', name: NOTE_AUTHOR });
    await anAgentMessage(ticket, agent, 'Have you tried turning it off?', { at: at(30) });
    await anAgentMessage(ticket, insider, NOTE, { internal: true, at: at(40) });
    await anAgentMessage(ticket, agent, 'Any luck?', { at: at(50) });
  }

  function assertNoInternalNote(html: string, where: string): void {
    assert.ok(!html.includes(NOTE), `no internal note on ${where}`);
    assert.ok(!html.includes(NOTE_AUTHOR), `no internal note author on ${where}`);
  }

  it('shows subject, status and the public thread oldest first with authors and times', async () => {
    await withInternalNote();
    await browser.signIn('jo@example.com');
    const res = await browser.get(ticketPath());
    assert.equal(res.status, 200);
    const page = $(res.text);
    assert.equal(page('h1').text().trim(), 'Printer on fire');
    assert.match(page('main').text(), /Status:\s*Open/);
    const thread = page('ol.thread > li')
      .toArray()
      .map((li) => ({
        author: page(li).find('.message-meta strong').first().text().trim(),
        body: page(li).find('.message-body').text().trim(),
        time: page(li).find('time').attr('datetime'),
      }));
    assert.deepEqual(thread, [
      { author: 'Jo Bloggs', body: 'It started this morning.', time: at(0).toISOString() },
      { author: 'Alex Agent', body: 'Have you tried turning it off?', time: at(30).toISOString() },
      { author: 'Alex Agent', body: 'Any luck?', time: at(50).toISOString() },
    ]);
    assertNoInternalNote(res.text, 'the ticket page');
  });

  it('never shows internal notes on the list or on a page re-rendered with errors', async () => {
    await withInternalNote();
    await browser.signIn('jo@example.com');
    const list = await browser.get('/tickets');
    assert.equal(list.status, 200);
    assertNoInternalNote(list.text, 'the list');
    const failed = await browser.submit(ticketPath(), replyPath(), { body: '' });
    assert.equal(failed.status, 422);
    assert.equal($(failed.text)('ol.thread > li').length, 3, 'the public thread is still there');
    assertNoInternalNote(failed.text, 'the 422 page');
  });

  it('takes a reply: stores it, redirects 303 to the ticket and shows it', async () => {
    await browser.signIn('jo@example.com');
    const before = await messageCount(ticket);
    const res = await browser.submit(ticketPath(), replyPath(), { body: 'Now it is smoking.' });
    assert.equal(res.status, 303);
    assert.equal(res.headers.location, ticketPath());
    assert.equal(await messageCount(ticket), before + 1);
    const [stored] = await rows<{
      body: string;
      internal: boolean;
      author_kind: string;
      requester_id: string;
    }>(
      'select body, internal, author_kind, requester_id from messages where ticket_id = ? order by created_at desc limit 1',
      [ticket.id],
    );
    assert.deepEqual(stored, {
      body: 'Now it is smoking.',
      internal: false,
      author_kind: 'requester',
      requester_id: jo.id,
    });

    const page = $((await browser.get(ticketPath())).text);
    const last = page('ol.thread > li').last();
    assert.equal(last.find('.message-body').text().trim(), 'Now it is smoking.');
    assert.equal(last.find('.message-meta strong').first().text().trim(), 'Jo Bloggs');
    assert.equal(last.find('time').attr('datetime'), t.clock.now().toISOString());
    assert.match(page('[role=status]').text(), /reply was sent/);
  });

  it('reopens a Resolved ticket when the requester replies', async () => {
    await setStatus(ticket, 'resolved');
    await browser.signIn('jo@example.com');
    const res = await browser.submit(ticketPath(), replyPath(), { body: 'It is on fire again.' });
    assert.equal(res.status, 303);
    assert.equal((await reloadTicket(ticket)).status, 'open');
    assert.match($((await browser.get(ticketPath())).text)('main').text(), /Status:\s*Open/);
  });

  it('shows no reply form on a Closed ticket but explains how to open a new one', async () => {
    await setStatus(ticket, 'closed');
    await browser.signIn('jo@example.com');
    const res = await browser.get(ticketPath());
    assert.equal(res.status, 200);
    const page = $(res.text);
    assert.equal(page(`form[action="${replyPath()}"]`).length, 0);
    assert.equal(page('textarea[name=body]').length, 0);
    assert.match(page('main').text(), /closed/i);
    assert.equal(
      page(`main p a[href="/tickets/new?followUp=${ticket.reference}"]`).length,
      1,
      'a link to open a new ticket that follows this one up',
    );
  });

  it('refuses a reply to a Closed ticket with 422 and stores nothing', async () => {
    await setStatus(ticket, 'closed');
    await browser.signIn('jo@example.com');
    const before = await messageCount(ticket);
    const res = await browser.submit('/tickets', replyPath(), { body: 'Let me in!' });
    assert.equal(res.status, 422);
    const page = $(res.text);
    assert.ok(page('.error-summary').text().includes('closed'));
    const target = page('.error-summary a').attr('href') ?? '';
    assert.equal(page(target).length, 1, 'the error summary links to something on the page');
    assert.equal(await messageCount(ticket), before);
    assert.equal((await reloadTicket(ticket)).status, 'closed');
  });

  it('answers 404 for someone else’s ticket, an unknown or another workspace’s reference, and garbled ones', async () => {
    const sam = await aRequester(acme, 'sam@example.com', 'Sam');
    const samsTicket = await aTicket(acme, sam, { subject: 'Sam’s secret' });
    const globex = await aWorkspace('globex');
    const globexJo = await aRequester(globex, 'jo@example.com', 'Jo Bloggs');
    const globexTicket = await aTicket(globex, globexJo, { subject: 'Globex secret' });
    assert.equal(globexTicket.reference, 'GLOBEX-1001');
    await browser.signIn('jo@example.com');

    for (const ref of [
      samsTicket.reference,
      'ACME-9999',
      'GLOBEX-1001',
      'ACME-abc',
      'ACME-0001',
      'ACME-1001x',
      'ACME--1001',
      'ACME-1001.0',
      'ACME-99999999999999999999',
      'ACME-',
      '%3Cscript%3E',
      '1001',
    ]) {
      const res = await browser.get(`/tickets/${ref}`);
      assert.equal(res.status, 404, `404 for ${ref}`);
      assert.ok(!res.text.includes('<script>'), `nothing reflected for ${ref}`);
      assert.ok(!res.text.includes('secret'), `no subject leaks for ${ref}`);
    }
  });

  it('refuses a reply to someone else’s ticket with 404 and stores nothing', async () => {
    const sam = await aRequester(acme, 'sam@example.com', 'Sam');
    const samsTicket = await aTicket(acme, sam, { subject: 'Sam’s secret' });
    await browser.signIn('jo@example.com');
    const before = await messageCount(samsTicket);
    for (const body of ['Mine now', '']) {
      const res = await browser.submit('/tickets', `/tickets/${samsTicket.reference}/replies`, {
        body,
      });
      assert.equal(res.status, 404);
      assert.ok(!res.text.includes('Sam’s secret'));
    }
    assert.equal(await messageCount(samsTicket), before);
  });

  it('sends a signed-out visitor of a ticket URL to the sign-in page', async () => {
    const res = await browser.get(ticketPath());
    assert.equal(res.status, 303);
    assert.equal(res.headers.location, '/tickets/login');
    assert.ok(!res.text.includes('Printer on fire'));
  });

  it('refuses a signed-out reply and stores nothing', async () => {
    const before = await messageCount(ticket);
    const res = await browser.submit('/tickets', replyPath(), { body: 'Anonymous mischief' });
    assert.equal(res.status, 303);
    assert.equal(res.headers.location, '/tickets/login');
    assert.equal(await messageCount(ticket), before);
  });

  it('refuses an empty or over-long reply with 422, an error linked to #body, and stores nothing', async () => {
    await setStatus(ticket, 'resolved');
    await browser.signIn('jo@example.com');
    const before = await messageCount(ticket);
    for (const body of ['', '   \n  ', 'x'.repeat(defaultLimits.body + 1)]) {
      const res = await browser.submit(ticketPath(), replyPath(), { body });
      assert.equal(res.status, 422, `422 for a body of ${body.length} characters`);
      const page = $(res.text);
      assert.match(page('title').text(), /^Error: /);
      const link = page('.error-summary a');
      assert.equal(link.attr('href'), '#body');
      const message = page('#body-error').text().replace('Error:', '').trim();
      assert.ok(message.length > 5, 'a message by the field');
      assert.equal(link.text().trim(), message);
      assert.match(page('#body').attr('aria-describedby') ?? '', /body-error/);
    }
    assert.equal(await messageCount(ticket), before);
    assert.equal(
      (await reloadTicket(ticket)).status,
      'resolved',
      'a refused reply does not reopen',
    );
  });

  it('keeps a refused reply’s text in the form', async () => {
    await browser.signIn('jo@example.com');
    const long = 'y'.repeat(defaultLimits.body + 1);
    const res = await browser.submit(ticketPath(), replyPath(), { body: long });
    assert.equal(res.status, 422);
    assert.equal($(res.text)('textarea#body').text().trim(), long);
  });

  it('accepts a reply of exactly the maximum length', async () => {
    await browser.signIn('jo@example.com');
    const res = await browser.submit(ticketPath(), replyPath(), {
      body: 'z'.repeat(defaultLimits.body),
    });
    assert.equal(res.status, 303);
    const [stored] = await rows<{ n: number }>(
      'select length(body) as n from messages where ticket_id = ? order by created_at desc limit 1',
      [ticket.id],
    );
    assert.equal(stored!.n, defaultLimits.body);
  });

  it('needs a CSRF token to reply', async () => {
    await browser.signIn('jo@example.com');
    const before = await messageCount(ticket);
    const res = await browser.post(replyPath(), { body: 'No token' });
    assert.equal(res.status, 403);
    assert.equal(await messageCount(ticket), before);
  });
});
