import assert from 'node:assert/strict';
import type { Requester } from '../../src/models/requesters';
import type { User } from '../../src/models/users';
import type { Workspace } from '../../src/models/workspaces';
import { MINUTE } from '../helpers/app';
import { $, Browser } from '../helpers/client';
import {
  aRequester,
  aTicket,
  aWorkspace,
  acmeWithJo,
  anAgent,
  anAgentMessage,
  tenantRows,
} from '../helpers/fixtures';
import { withScope } from '../../src/db/scopes';
import { searchCustomerTickets } from '../../src/models/customer-ticket-search';
import { ticketSearchMaxLength } from '../../src/validation/ticket-list-filters';
import { testDatabase } from '../helpers/database';

const BASE = new Date('2026-11-20T08:00:00Z');
const at = (minutes: number) => new Date(BASE.getTime() + minutes * MINUTE);

/** The subjects in the list's table, in the order shown. */
function subjects(html: string): string[] {
  const page = $(html);
  return page('main table tbody tr td:nth-child(2) a')
    .toArray()
    .map((a) => page(a).text().trim());
}

function searchUrl(query: Record<string, string>): string {
  return `/tickets?${new URLSearchParams(query).toString()}`;
}

describe('portal ticket search', () => {
  let browser: Browser;
  let acme: Workspace;
  let jo: Requester;
  let agent: User;

  beforeEach(async () => {
    ({ browser, acme, jo } = await acmeWithJo());
    agent = await anAgent(acme);
  });

  async function search(query: Record<string, string>) {
    const res = await browser.get(searchUrl(query));
    assert.equal(res.status, 200, `${searchUrl(query)}: ${res.status}`);
    return subjects(res.text);
  }

  it('shows a GET search form above the list: the words, a status filter and the values kept', async () => {
    await aTicket(acme, jo, { subject: 'Printer on fire' });
    await browser.signIn('jo@example.com');
    const page = $((await browser.get(searchUrl({ q: 'printer', status: 'open' }))).text);
    const form = page('main form[role=search]');
    assert.equal(form.attr('method'), 'get');
    assert.equal(form.attr('action'), '/tickets');
    assert.equal(page(`label[for=q]`).text().trim(), 'Search your tickets');
    assert.equal(form.find('input#q[name=q]').val(), 'printer');
    assert.deepEqual(
      form
        .find('select#status[name=status] option')
        .toArray()
        .map((o) => [page(o).attr('value'), page(o).text().trim()]),
      [
        ['', 'Any status'],
        ['open', 'Open'],
        ['pending', 'Waiting for you'],
        ['resolved', 'Resolved'],
        ['closed', 'Closed'],
      ],
    );
    assert.equal(form.find('select#status option[selected]').val(), 'open');
    assert.ok(
      page('main form[role=search]').index() < page('main table').index(),
      'form above list',
    );
  });

  it('finds tickets by a word of the subject, in any case, and no others', async () => {
    await aTicket(acme, jo, { subject: 'Printer on fire', at: at(1) });
    await aTicket(acme, jo, { subject: 'Invoice missing', at: at(2) });
    await aTicket(acme, jo, { subject: 'The printer jams again', at: at(3) });
    await browser.signIn('jo@example.com');
    assert.deepEqual(await search({ q: 'PRINTER' }), ['The printer jams again', 'Printer on fire']);
    assert.deepEqual(await search({ q: 'printer fire' }), ['Printer on fire'], 'every word');
    assert.deepEqual(await search({ q: '"on fire"' }), ['Printer on fire'], 'a phrase');
    assert.deepEqual(await search({ q: 'invoice or jams' }), [
      'The printer jams again',
      'Invoice missing',
    ]);
    assert.deepEqual(await search({ q: 'printer -fire' }), ['The printer jams again']);
  });

  it('finds a ticket by its reference, with or without the workspace’s prefix', async () => {
    await aTicket(acme, jo, { subject: 'First', at: at(1) });
    const second = await aTicket(acme, jo, { subject: 'Second', at: at(2) });
    await aTicket(acme, jo, { subject: 'Third', at: at(3) });
    await browser.signIn('jo@example.com');
    for (const q of [second.reference, second.reference.toLowerCase(), '1002', '#1002']) {
      assert.deepEqual(await search({ q }), ['Second'], q);
    }
  });

  it('finds tickets by the text of a public message: the customer’s own and an agent’s reply', async () => {
    await aTicket(acme, jo, { subject: 'One', body: 'The toner cartridge leaks.', at: at(1) });
    const two = await aTicket(acme, jo, { subject: 'Two', at: at(2) });
    await aTicket(acme, jo, { subject: 'Three', at: at(3) });
    await anAgentMessage(two, agent, 'Please restart the router and tell us.', { at: at(4) });
    await browser.signIn('jo@example.com');
    assert.deepEqual(await search({ q: 'toner' }), ['One']);
    assert.deepEqual(await search({ q: 'restart router' }), ['Two']);
  });

  it('never finds a ticket by the words of an internal note', async () => {
    const ticket = await aTicket(acme, jo, { subject: 'Refund please', at: at(1) });
    await anAgentMessage(ticket, agent, 'Suspected chargeback fraud, keep quiet', {
      internal: true,
      at: at(2),
    });
    await browser.signIn('jo@example.com');
    for (const q of ['fraud', 'chargeback', 'suspected fraud']) {
      assert.deepEqual(await search({ q }), [], q);
    }
    assert.deepEqual(await search({ q: 'refund' }), ['Refund please'], 'its subject still matches');
  });

  it('leaves internal notes out in the query itself, not only through row-level security', async () => {
    const ticket = await aTicket(acme, jo, { subject: 'Refund please', at: at(1) });
    await anAgentMessage(ticket, agent, 'Suspected chargeback fraud', {
      internal: true,
      at: at(2),
    });
    // The system scope sees every row: only the query's own condition can leave the note out.
    const found = await withScope(testDatabase().db, { kind: 'system' }, (trx) =>
      searchCustomerTickets(trx, {
        workspaceId: acme.id,
        filter: { requesterId: jo.id },
        search: { words: { text: 'fraud' } },
        limit: 26,
      }),
    );
    assert.deepEqual(found, []);
  });

  it('never finds another requester’s tickets or another workspace’s, by words or reference', async () => {
    await aTicket(acme, jo, { subject: 'My printer', at: at(1) });
    const sam = await aRequester(acme, 'sam@example.com', 'Sam');
    const samsTicket = await aTicket(acme, sam, {
      subject: 'Sam’s printer',
      body: 'printer secrets',
      at: at(2),
    });
    const globex = await aWorkspace('globex');
    const globexJo = await aRequester(globex, 'jo@example.com', 'Jo Bloggs');
    await aTicket(globex, globexJo, { subject: 'Globex printer', at: at(3) });
    await browser.signIn('jo@example.com');
    assert.deepEqual(await search({ q: 'printer' }), ['My printer']);
    assert.deepEqual(await search({ q: 'secrets' }), []);
    assert.deepEqual(await search({ q: samsTicket.reference }), []);
    assert.deepEqual(await search({ q: 'globex' }), []);
  });

  it('filters by status alone and together with words', async () => {
    await aTicket(acme, jo, { subject: 'Printer open', status: 'open', at: at(1) });
    await aTicket(acme, jo, { subject: 'Printer pending', status: 'pending', at: at(2) });
    await aTicket(acme, jo, { subject: 'Scanner pending', status: 'pending', at: at(3) });
    await aTicket(acme, jo, { subject: 'Printer closed', status: 'closed', at: at(4) });
    await browser.signIn('jo@example.com');
    assert.deepEqual(await search({ status: 'pending' }), ['Scanner pending', 'Printer pending']);
    assert.deepEqual(await search({ q: 'printer', status: 'pending' }), ['Printer pending']);
    assert.deepEqual(await search({ q: 'printer', status: 'resolved' }), []);
    assert.deepEqual(
      await search({ q: '', status: '' }),
      ['Printer closed', 'Scanner pending', 'Printer pending', 'Printer open'],
      'the empty form is the whole list',
    );
  });

  it('pages the results 25 at a time, and every page link keeps the search and the filter', async () => {
    for (let i = 0; i < 28; i += 1) {
      await aTicket(acme, jo, { subject: `Printer ${i}`, status: 'pending', at: at(2 * i) });
      await aTicket(acme, jo, { subject: `Scanner ${i}`, status: 'pending', at: at(2 * i + 1) });
    }
    await aTicket(acme, jo, { subject: 'Printer 99', status: 'open', at: at(100) });
    await browser.signIn('jo@example.com');
    const first = await browser.get(searchUrl({ q: 'printer', status: 'pending' }));
    const firstPage = subjects(first.text);
    assert.equal(firstPage.length, 25);
    assert.equal(firstPage[0], 'Printer 27');
    const older = $(first.text)('a[rel=next]').attr('href')!;
    const olderUrl = new URL(older, 'http://x');
    assert.equal(olderUrl.searchParams.get('q'), 'printer');
    assert.equal(olderUrl.searchParams.get('status'), 'pending');

    const second = await browser.get(older);
    assert.equal(second.status, 200);
    assert.deepEqual(subjects(second.text), ['Printer 2', 'Printer 1', 'Printer 0']);
    assert.equal($(second.text)('a[rel=next]').length, 0, 'no page after the last');
    assert.equal($(second.text)('main input#q').val(), 'printer', 'the form still shows it');
    const firstLink = $(second.text)('nav.pagination a')
      .filter((_, a) => $(second.text)(a).text().trim() === 'First page')
      .attr('href');
    assert.equal(firstLink, '/tickets?q=printer&status=pending');
  });

  it('says "No tickets match" with a link back to all tickets when nothing does', async () => {
    await aTicket(acme, jo, { subject: 'Printer on fire' });
    await browser.signIn('jo@example.com');
    const res = await browser.get(searchUrl({ q: 'submarine' }));
    assert.equal(res.status, 200);
    const page = $(res.text);
    assert.equal(page('main table').length, 0);
    assert.equal(page('main h2').text().trim(), 'No tickets match');
    const back = page('main a').filter((_, a) => page(a).text().trim() === 'show all your tickets');
    assert.equal(back.attr('href'), '/tickets');
    assert.match(page('title').text(), /^Search results: Your tickets/);
  });

  it('takes any punctuation as a search that matches nothing, never an error', async () => {
    await aTicket(acme, jo, { subject: 'Printer on fire' });
    await browser.signIn('jo@example.com');
    for (const q of ['!!!', '"', '-', 'or', "'", '\\', '%', ':*', '&|!()', '<script>']) {
      assert.deepEqual(await search({ q }), [], q);
    }
  });

  it('answers a search too long, with control characters or an unknown status with 422 and the form again', async () => {
    await aTicket(acme, jo, { subject: 'Printer on fire' });
    await browser.signIn('jo@example.com');
    const before = await tenantRows();
    const cases: [Record<string, string> | string, string, string][] = [
      [
        { q: 'x'.repeat(ticketSearchMaxLength + 1) },
        'q',
        `Search must be ${ticketSearchMaxLength} characters or fewer`,
      ],
      [
        { q: 'printer\u0000' },
        'q',
        'Search must only include letters, numbers, spaces and punctuation',
      ],
      [{ q: 'printer', status: 'on-fire' }, 'status', 'Select a status from the list'],
      ['q=a&q=b', 'q', 'Search must be text'],
      ['status=open&status=closed', 'status', 'Select a status from the list'],
    ];
    for (const [query, field, message] of cases) {
      const url = typeof query === 'string' ? `/tickets?${query}` : searchUrl(query);
      const res = await browser.get(url);
      assert.equal(res.status, 422, url);
      const page = $(res.text);
      assert.match(page('title').text(), /^Error: /, url);
      const summary = page('.error-summary a');
      assert.equal(summary.first().attr('href'), `#${field}`, url);
      assert.equal(summary.first().text().trim(), message, url);
      assert.equal(page(`#${field}`).attr('aria-describedby')?.includes(`${field}-error`), true);
      assert.equal(page('main table').length, 0, `${url}: no results`);
    }
    const kept = $((await browser.get(searchUrl({ q: 'printer', status: 'bogus' }))).text);
    assert.equal(kept('main input#q').val(), 'printer', 'the words are kept');
    const cleaned = await browser.get(searchUrl({ q: 'paper\u0007 jam' }));
    assert.ok(!cleaned.text.includes('\u0007'), 'no control character goes back into the page');
    assert.equal($(cleaned.text)('main input#q').val(), 'paper jam');
    assert.deepEqual(await tenantRows(), before, 'nothing changed');
  });

  it('lets a visitor search only the tickets opened in this browser', async () => {
    await aTicket(acme, jo, { subject: 'Jo’s printer' });
    const visitor = new Browser(browser.testApp);
    for (const subject of ['Printer on fire', 'Invoice missing']) {
      const res = await visitor.submit('/tickets/new', '/tickets/new', {
        name: 'Sam Visitor',
        email: 'sam@example.com',
        subject,
        description: 'Please help.',
      });
      assert.equal(res.status, 303);
    }
    const found = $((await visitor.get(searchUrl({ q: 'printer' }))).text);
    assert.equal(found('main form[role=search]').length, 1, 'the landing page offers the search');
    assert.deepEqual(
      found('section[aria-labelledby=session-tickets] li a')
        .toArray()
        .map((a) =>
          found(a)
            .text()
            .replace(/^\S+: /, ''),
        ),
      ['Printer on fire'],
    );
    const none = $((await visitor.get(searchUrl({ q: 'jo' }))).text);
    assert.equal(none('section[aria-labelledby=session-tickets] li').length, 0);
    assert.match(none('main').text(), /No tickets match/);
    const bad = await visitor.get(searchUrl({ status: 'nope' }));
    assert.equal(bad.status, 422);
    assert.equal($(bad.text)('.error-summary a').attr('href'), '#status');

    const stranger = await new Browser(browser.testApp).get(searchUrl({ q: 'printer' }));
    assert.equal(stranger.status, 200, 'no session: the landing page as usual');
    assert.equal($(stranger.text)('main form[role=search]').length, 0);
    assert.ok(!stranger.text.includes('Printer on fire'));
  });
});
