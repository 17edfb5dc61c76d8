import assert from 'node:assert/strict';
import { withScope } from '../../src/db/scopes';
import * as tickets from '../../src/models/tickets';
import type { Requester } from '../../src/models/requesters';
import type { Workspace } from '../../src/models/workspaces';
import { hashPassword } from '../../src/services/passwords';
import { MINUTE, type TestApp } from '../helpers/app';
import { $, Browser } from '../helpers/client';
import { testDatabase } from '../helpers/database';
import {
  aRequester,
  aTicket,
  aWorkspace,
  anAgent,
  rows,
  setStatus,
  type TicketFixture,
  acmeWithJo,
} from '../helpers/fixtures';

const BASE = new Date('2026-11-20T08:00:00Z');
const at = (minutes: number) => new Date(BASE.getTime() + minutes * MINUTE);
const PASSWORD = 'correct horse battery staple';

/** The rows of the inbox table as plain values. */
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
        requester: cells.eq(2).text().replace(/\s+/g, ' ').trim(),
        status: cells.eq(3).text().trim(),
        time: cells.eq(4).find('time').attr('datetime'),
        csat: cells.eq(5).text().replace(/\s+/g, ' ').trim(),
      };
    });
}

const references = (html: string) => listed(html).map((r) => r.reference);
const nextLink = (html: string) => $(html)('a[rel=next]').attr('href');

function rate(ticket: TicketFixture, rating: number, comment: string | null): Promise<unknown> {
  return withScope(testDatabase().db, { kind: 'system' }, (trx) =>
    tickets.setRating(trx, {
      workspaceId: ticket.workspaceId,
      id: ticket.id,
      rating,
      comment,
      at: new Date('2026-11-24T12:00:00Z'),
    }),
  );
}

describe('agent inbox', () => {
  // One scrypt hash for the whole file; each test still signs in for real.
  let passwordHash: string;
  before(async () => {
    passwordHash = await hashPassword(PASSWORD);
  });

  let t: TestApp;
  let browser: Browser;
  let acme: Workspace;
  let jo: Requester;

  beforeEach(async () => {
    ({ t, browser, acme, jo } = await acmeWithJo());
  });

  async function signIn(role: 'agent' | 'admin' = 'agent'): Promise<void> {
    await anAgent(acme, { email: 'agent@acme.test', passwordHash, role });
    const res = await browser.signInAgent('agent@acme.test', PASSWORD);
    assert.equal(res.status, 303);
  }

  /** `count` tickets, the first the oldest; two neighbours share each activity time to test the tie-break. */
  async function manyTickets(
    count: number,
    input: { subject?: (i: number) => string } = {},
  ): Promise<TicketFixture[]> {
    const made: TicketFixture[] = [];
    for (let i = 0; i < count; i++) {
      made.push(
        await aTicket(acme, jo, {
          subject: input.subject?.(i) ?? `Ticket ${i}`,
          at: at(Math.floor(i / 2)),
        }),
      );
    }
    return made;
  }

  it('sends a signed-out visitor to the sign-in page from /admin and /admin/tickets', async () => {
    for (const path of ['/admin', '/admin/tickets', '/admin/tickets?status=open&q=x']) {
      const res = await browser.get(path);
      assert.equal(res.status, 303, path);
      assert.equal(res.headers.location, '/admin/login');
    }
  });

  it('serves the inbox on /admin and on /admin/tickets to an agent and to an admin', async () => {
    await aTicket(acme, jo, { subject: 'Printer on fire' });
    await signIn('agent');
    for (const path of ['/admin', '/admin/tickets']) {
      const res = await browser.get(path);
      assert.equal(res.status, 200, path);
      const page = $(res.text);
      assert.equal(page('h1').text().trim(), 'Inbox');
      assert.equal(page('nav a[aria-current=page]').text().trim(), 'Inbox');
      assert.deepEqual(references(res.text), ['ACME-1001']);
    }
    const admin = new Browser(t);
    await anAgent(acme, { email: 'boss@acme.test', passwordHash, role: 'admin' });
    assert.equal((await admin.signInAgent('boss@acme.test', PASSWORD)).status, 303);
    const res = await admin.get('/admin/tickets');
    assert.equal(res.status, 200);
    assert.deepEqual(references(res.text), ['ACME-1001']);
  });

  it('lists reference, subject linking to the agent ticket page, requester, status and last reply time', async () => {
    const ticket = await aTicket(acme, jo, { subject: 'Printer on fire', at: at(5) });
    await setStatus(ticket, 'pending');
    await signIn();
    const [row] = listed((await browser.get('/admin/tickets')).text);
    assert.deepEqual(row, {
      reference: 'ACME-1001',
      subject: 'Printer on fire',
      href: '/admin/tickets/ACME-1001',
      requester: 'Jo Bloggs jo@example.com',
      status: 'Pending',
      time: at(5).toISOString(),
      csat: 'Not rated',
    });
  });

  it('shows the newest activity first, whatever the creation order', async () => {
    const first = await aTicket(acme, jo, { subject: 'Old but busy', at: at(0) });
    await aTicket(acme, jo, { subject: 'Middle', at: at(10) });
    await aTicket(acme, jo, { subject: 'Newest', at: at(20) });
    await withScope(testDatabase().db, { kind: 'system' }, (trx) =>
      tickets.recordReply(trx, { workspaceId: acme.id, id: first.id, at: at(30), isPublic: true }),
    );
    await signIn();
    const res = await browser.get('/admin/tickets');
    assert.deepEqual(
      listed(res.text).map((r) => r.subject),
      ['Old but busy', 'Newest', 'Middle'],
    );
  });

  it('pages 25 tickets at a time with an "Older tickets" link, without skipping or repeating any', async () => {
    const made = await manyTickets(53);
    await signIn();
    const seen: string[] = [];
    let path: string | undefined = '/admin/tickets';
    const pageSizes: number[] = [];
    while (path) {
      const res = await browser.get(path);
      assert.equal(res.status, 200);
      pageSizes.push(listed(res.text).length);
      seen.push(...references(res.text));
      path = nextLink(res.text);
    }
    assert.deepEqual(pageSizes, [25, 25, 3]);
    assert.equal(new Set(seen).size, 53, 'no ticket twice');
    // Neighbours share an activity time (the id breaks the tie), so compare them in pairs.
    const refs = (list: TicketFixture[]) => list.map((m) => m.reference).sort();
    assert.equal(seen[0], made[52]!.reference);
    assert.deepEqual(seen.slice(1, 3).sort(), refs(made.slice(50, 52)));
    assert.deepEqual(seen.slice(51).sort(), refs(made.slice(0, 2)));
    const page2 = await browser.get(nextLink((await browser.get('/admin/tickets')).text)!);
    assert.match($(page2.text)('title').text(), /older tickets/);
    assert.equal($(page2.text)('.pagination a:not([rel])').attr('href'), '/admin/tickets');
  });

  it('answers a garbled page cursor with a 400 page', async () => {
    await signIn();
    const b64 = (s: string) => Buffer.from(s).toString('base64url');
    for (const after of [
      'garbage',
      b64('not-a-time|not-an-id'),
      b64('2026-11-20T08:00:00.000Z|not-a-uuid'),
      b64('+275760-09-13T00:00:00.000Z|3f1c6f1e-8f2a-4d5b-9c1e-2a3b4c5d6e7f'),
      '',
    ]) {
      const res = await browser.get(`/admin/tickets?after=${encodeURIComponent(after)}`);
      assert.equal(res.status, 400, after);
      assert.equal($(res.text)('h1').length, 1);
    }
    const twice = await browser.get('/admin/tickets?after=a&after=b');
    assert.equal(twice.status, 400);
  });

  it('filters by each status, and All shows every ticket', async () => {
    const statuses = ['open', 'pending', 'resolved', 'closed'] as const;
    for (const [i, status] of statuses.entries()) {
      const ticket = await aTicket(acme, jo, { subject: `A ${status} one`, at: at(i) });
      if (status !== 'open') await setStatus(ticket, status);
    }
    await signIn();
    for (const status of statuses) {
      const res = await browser.get(`/admin/tickets?status=${status}`);
      assert.equal(res.status, 200);
      assert.deepEqual(
        listed(res.text).map((r) => r.subject),
        [`A ${status} one`],
        status,
      );
      assert.equal(
        $(res.text)('#status option[selected]').attr('value'),
        status,
        'the choice is kept',
      );
    }
    const all = await browser.get('/admin/tickets?status=');
    assert.equal(listed(all.text).length, 4);
    assert.equal($(all.text)('#status option[selected]').text(), 'All');
    assert.deepEqual(
      $(all.text)('#status option')
        .toArray()
        .map((o) => $(all.text)(o).text()),
      ['All', 'Open', 'Pending', 'Resolved', 'Closed'],
    );
    assert.equal($(all.text)('form[method=get] label[for=status]').text(), 'Status');
  });

  it('refuses an unknown status with a 400 page', async () => {
    await signIn();
    for (const status of ['deleted', 'OPEN', "open' or 1=1--"]) {
      const res = await browser.get(`/admin/tickets?status=${encodeURIComponent(status)}`);
      assert.equal(res.status, 400, status);
    }
  });

  it('finds a ticket by its exact reference, in any letter case', async () => {
    for (let i = 0; i < 12; i++) await aTicket(acme, jo, { subject: `Ticket ${i}`, at: at(i) });
    await signIn();
    assert.deepEqual(references((await browser.get('/admin/tickets?q=ACME-1002')).text), [
      'ACME-1002',
    ]);
    assert.deepEqual(references((await browser.get('/admin/tickets?q=%20acme-1011%20')).text), [
      'ACME-1011',
    ]);
    const partial = await browser.get('/admin/tickets?q=ACME-101');
    assert.deepEqual(references(partial.text), [], 'a reference matches exactly, not as a prefix');
    assert.match($(partial.text)('main').text(), /No tickets match/);
  });

  it('finds tickets by a case-insensitive part of the subject', async () => {
    await aTicket(acme, jo, { subject: 'Printer on FIRE', at: at(1) });
    await aTicket(acme, jo, { subject: 'Invoice missing', at: at(2) });
    await aTicket(acme, jo, { subject: 'Fire alarm test', at: at(3) });
    await signIn();
    const res = await browser.get('/admin/tickets?q=fire');
    assert.deepEqual(
      listed(res.text).map((r) => r.subject),
      ['Fire alarm test', 'Printer on FIRE'],
    );
    assert.equal($(res.text)('#q').val(), 'fire', 'the search is shown again');
  });

  it('finds tickets by a case-insensitive part of the requester email address', async () => {
    const sam = await aRequester(acme, 'sam.smith@globex-mail.org', 'Sam');
    await aTicket(acme, jo, { subject: 'From Jo', at: at(1) });
    await aTicket(acme, sam, { subject: 'From Sam', at: at(2) });
    await signIn();
    for (const q of ['SMITH@GLOBEX', 'globex-mail.org', 'sam.']) {
      const res = await browser.get(`/admin/tickets?q=${encodeURIComponent(q)}`);
      assert.deepEqual(
        listed(res.text).map((r) => r.subject),
        ['From Sam'],
        q,
      );
    }
  });

  it('takes % and _ in a search literally, not as wildcards', async () => {
    await aTicket(acme, jo, { subject: 'Discount of 100% not applied', at: at(1) });
    await aTicket(acme, jo, { subject: 'Discount of 1000 applied', at: at(2) });
    await aTicket(acme, jo, { subject: 'snake_case field broken', at: at(3) });
    await aTicket(acme, jo, { subject: 'snakeXcase field broken', at: at(4) });
    await aTicket(acme, jo, { subject: 'back\\slash', at: at(5) });
    await signIn();
    const search = async (q: string) =>
      listed((await browser.get(`/admin/tickets?q=${encodeURIComponent(q)}`)).text).map(
        (r) => r.subject,
      );
    assert.deepEqual(await search('100%'), ['Discount of 100% not applied']);
    assert.deepEqual(await search('snake_case'), ['snake_case field broken']);
    assert.deepEqual(await search('%'), ['Discount of 100% not applied']);
    assert.deepEqual(await search('\\'), ['back\\slash']);
    assert.deepEqual(await search('_'), ['snake_case field broken']);
  });

  it('combines the status filter with the search', async () => {
    const a = await aTicket(acme, jo, { subject: 'Printer jam', at: at(1) });
    await aTicket(acme, jo, { subject: 'Printer toner', at: at(2) });
    await aTicket(acme, jo, { subject: 'Lost password', at: at(3) });
    await setStatus(a, 'resolved');
    await signIn();
    const res = await browser.get('/admin/tickets?q=printer&status=resolved');
    assert.deepEqual(
      listed(res.text).map((r) => r.subject),
      ['Printer jam'],
    );
  });

  it('keeps the search and the status filter on every page and in the export link', async () => {
    await manyTickets(60, { subject: (i) => (i % 2 === 0 ? `Printer ${i}` : `Other ${i}`) });
    const odd = await aTicket(acme, jo, { subject: 'Printer but pending', at: at(1) });
    await setStatus(odd, 'pending');
    await signIn();
    const first = await browser.get('/admin/tickets?q=printer&status=open');
    assert.equal(listed(first.text).length, 25);
    assert.equal(
      $(first.text)('a.inbox-export').attr('href'),
      '/admin/tickets/export.csv?q=printer&status=open',
    );
    const next = new URL(nextLink(first.text)!, 'http://x');
    assert.equal(next.searchParams.get('q'), 'printer');
    assert.equal(next.searchParams.get('status'), 'open');
    const second = await browser.get(next.pathname + next.search);
    assert.equal(second.status, 200);
    assert.equal(listed(second.text).length, 5, '30 open printer tickets in all');
    assert.ok(
      listed(second.text).every((r) => r.subject.startsWith('Printer ') && r.status === 'Open'),
    );
    assert.equal(nextLink(second.text), undefined);
    assert.equal($(second.text)('#q').val(), 'printer');
    assert.equal($(second.text)('#status option[selected]').attr('value'), 'open');
    assert.equal(
      $(second.text)('.pagination a:not([rel])').attr('href'),
      '/admin/tickets?q=printer&status=open',
    );
    assert.equal(
      $(second.text)('a.inbox-export').attr('href'),
      '/admin/tickets/export.csv?q=printer&status=open',
    );
  });

  it('shows a CSAT rating as stars and "4 of 5" with an excerpt of the comment, else "Not rated"', async () => {
    const rated = await aTicket(acme, jo, { subject: 'Rated', at: at(2) });
    const long = await aTicket(acme, jo, { subject: 'Long comment', at: at(1) });
    await aTicket(acme, jo, { subject: 'Unrated', at: at(0) });
    await setStatus(rated, 'resolved');
    await setStatus(long, 'closed');
    await rate(rated, 4, 'Quick and friendly.');
    await rate(long, 2, `Slow answer. ${'Really slow. '.repeat(30)}THE-END-OF-IT`);
    await signIn();
    const res = await browser.get('/admin/tickets');
    const rows = listed(res.text);
    assert.equal(rows.find((r) => r.subject === 'Rated')?.csat, '★★★★☆ 4 of 5 Quick and friendly.');
    const page = $(res.text);
    const csatOf = (subject: string) =>
      page('tbody tr')
        .filter((_, tr) => page(tr).find('td').eq(1).text().trim() === subject)
        .find('td')
        .eq(5);
    const four = csatOf('Rated');
    assert.equal(four.find('.stars').attr('aria-hidden'), 'true');
    assert.equal(four.find('.inbox-comment').text(), 'Quick and friendly.');
    const two = csatOf('Long comment');
    assert.match(two.text(), /2 of 5/);
    const excerpt = two.find('.inbox-comment').text();
    assert.ok(excerpt.startsWith('Slow answer. Really slow.'), excerpt);
    assert.ok(excerpt.endsWith('…') && excerpt.length <= 80, 'a short excerpt');
    assert.ok(!excerpt.includes('THE-END-OF-IT'));
    assert.equal(csatOf('Unrated').text().trim(), 'Not rated');
  });

  it('shows only the workspace’s own tickets, even when searched by another workspace’s reference', async () => {
    const globex = await aWorkspace('globex');
    const gina = await aRequester(globex, 'gina@globex.test', 'Gina');
    await aTicket(globex, gina, { subject: 'Globex secret plans', at: at(9) });
    await aTicket(acme, jo, { subject: 'Acme ticket', at: at(1) });
    await signIn();
    const all = await browser.get('/admin/tickets');
    assert.deepEqual(references(all.text), ['ACME-1001']);
    assert.ok(!all.text.includes('Globex secret'));
    for (const q of ['GLOBEX-1001', 'globex', 'secret plans', 'gina@']) {
      const res = await browser.get(`/admin/tickets?q=${encodeURIComponent(q)}`);
      assert.equal(res.status, 200);
      assert.deepEqual(listed(res.text), [], q);
      assert.match($(res.text)('main').text(), /No tickets match/);
    }
  });

  it('says "No tickets match" when nothing matches', async () => {
    await signIn();
    const empty = await browser.get('/admin/tickets');
    assert.equal(empty.status, 200);
    assert.equal($(empty.text)('main table').length, 0);
    assert.match($(empty.text)('.inbox-empty').text(), /No tickets match/);
    await aTicket(acme, jo, { subject: 'Printer on fire' });
    const res = await browser.get('/admin/tickets?q=nothing-like-this');
    assert.match($(res.text)('.inbox-empty').text(), /No tickets match/);
    assert.equal($(res.text)('.inbox-empty a').attr('href'), '/admin/tickets');
  });

  it('shows the form again with a message for a search it cannot run', async () => {
    await aTicket(acme, jo, { subject: 'Printer on fire' });
    await signIn();
    for (const q of ['x'.repeat(201), 'printer\u0000', 'bad\u0007bell']) {
      const res = await browser.get(`/admin/tickets?q=${encodeURIComponent(q)}`);
      assert.equal(res.status, 422, JSON.stringify(q.slice(0, 12)));
      const page = $(res.text);
      assert.match(page('title').text(), /^Error: /);
      assert.equal(page('.error-summary a').attr('href'), '#q');
      assert.match(page('#q').attr('aria-describedby') ?? '', /q-error/);
      assert.equal(page('main table').length, 0);
    }
    const cleaned = await browser.get(`/admin/tickets?q=${encodeURIComponent('paper\u0007 jam')}`);
    assert.ok(!cleaned.text.includes('\u0007'), 'no control character goes back into the page');
    assert.equal($(cleaned.text)('main input#q').val(), 'paper jam');
  });

  it('keeps working when the database cuts an idle session-store connection', async () => {
    await signIn();
    assert.equal((await browser.get('/admin/tickets')).status, 200);
    // The session store's pool has an application name of its own.
    const cut = await rows<{ pid: number }>(
      `select pid from pg_stat_activity
        where datname = current_database() and application_name = 'tickets-portal-sessions' and pid <> pg_backend_pid()`,
    );
    assert.ok(cut.length > 0, 'an idle session-store connection to cut');
    await rows('select pg_terminate_backend(pid) from pg_stat_activity where pid = any(?)', [
      cut.map((c) => c.pid),
    ]);
    for (
      let i = 0;
      i < 40 && !t.logLines.some((l) => l.includes('session store connection lost'));
      i++
    ) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.ok(
      t.logLines.some((l) => l.includes('session store connection lost')),
      'logged, not thrown',
    );
    const res = await browser.get('/admin/tickets');
    assert.equal(res.status, 200, 'still signed in, on a fresh connection');
    assert.equal($(res.text)('h1').text().trim(), 'Inbox');
  });
});
