import assert from 'node:assert/strict';
import type { CheerioAPI } from 'cheerio';
import { makeTestApp, MINUTE, type TestApp } from '../helpers/app';
import { $, Browser } from '../helpers/client';
import { aWorkspace, anAgentWithPassword, rows } from '../helpers/fixtures';

const PASSWORD = 'correct horse battery staple';
const REPLY = 'Please hold the reset button for ten seconds.';
const NOTE = 'Internal: second printer fire this month, tell facilities';
const COMMENT = 'Quick and kind';

function spoken(page: CheerioAPI, selector: string): string {
  const copy = page(selector).clone();
  copy.find('[aria-hidden=true]').remove();
  return copy.text().replace(/\s+/g, ' ').trim();
}

/** A CSV without quoted fields (the values here have no commas, quotes or line breaks). */
function parseCsv(text: string): Record<string, string>[] {
  const [header, ...lines] = text
    .replace(/^\ufeff/, '')
    .split('\r\n')
    .filter(Boolean);
  const columns = header!.split(',');
  return lines.map((line) =>
    Object.fromEntries(line.split(',').map((cell, i) => [columns[i]!, cell])),
  );
}

describe('the full loop between customer and agent', () => {
  let t: TestApp;

  beforeEach(async () => {
    t = makeTestApp();
    const acme = await aWorkspace('acme');
    await anAgentWithPassword(acme, {
      email: 'alex@acme.test',
      password: PASSWORD,
      name: 'Alex Agent',
    });
  });

  it('customer opens, agent replies and notes, customer reads the reply only, agent resolves, customer rates, agent sees the rating', async function () {
    this.timeout(60_000);
    // 1. The customer signs in to the portal and opens a ticket.
    const customer = new Browser(t);
    await customer.signIn('jo@example.com');
    const opened = await customer.submit('/tickets/new', '/tickets/new', {
      subject: 'Printer on fire',
      description: 'Smoke is coming out of the tray.',
    });
    assert.equal(opened.status, 303);
    assert.equal(opened.headers.location, '/tickets/ACME-1001');

    // 2. The agent finds it, replies publicly and adds an internal note.
    const agent = new Browser(t);
    assert.equal((await agent.signInAgent('alex@acme.test', PASSWORD)).status, 303);
    const inbox = $((await agent.get('/admin/tickets')).text);
    assert.equal(
      inbox('main table tbody tr td a').first().attr('href'),
      '/admin/tickets/ACME-1001',
    );
    const ticketPage = await agent.get('/admin/tickets/ACME-1001');
    assert.equal(ticketPage.status, 200);
    assert.equal(
      $(ticketPage.text)('.message-body').first().text(),
      'Smoke is coming out of the tray.',
    );
    t.clock.advance(10 * MINUTE);
    const replied = await agent.submit(
      '/admin/tickets/ACME-1001',
      '/admin/tickets/ACME-1001/replies',
      {
        visibility: 'public',
        body: REPLY,
      },
    );
    assert.equal(replied.status, 303);
    t.clock.advance(MINUTE);
    const noted = await agent.submit(
      '/admin/tickets/ACME-1001',
      '/admin/tickets/ACME-1001/replies',
      {
        visibility: 'internal',
        body: NOTE,
      },
    );
    assert.equal(noted.status, 303);
    const agentView = $((await agent.get('/admin/tickets/ACME-1001')).text);
    assert.equal(agentView('ol.thread > li').length, 3, 'the agent sees message, reply and note');

    // 3. The customer sees the reply and never the note, on every portal page.
    const list = await customer.get('/tickets');
    assert.equal(list.status, 200);
    const listed = $(list.text)('main table tbody tr');
    assert.equal(listed.length, 1);
    assert.match(
      spoken($(list.text), 'main table tbody tr'),
      /ACME-1001 Printer on fire Waiting for you/,
    );
    const portalTicket = await customer.get('/tickets/ACME-1001');
    assert.equal(portalTicket.status, 200);
    const portal = $(portalTicket.text);
    const bodies = portal('.message-body')
      .toArray()
      .map((m) => portal(m).text());
    assert.deepEqual(bodies, ['Smoke is coming out of the tray.', REPLY]);
    assert.match($(portalTicket.text)('.message').last().text(), /Alex Agent/);
    for (const page of [list, portalTicket]) {
      assert.ok(!page.text.includes(NOTE), 'no internal note');
      assert.ok(!page.text.includes('Internal note'), 'not even its label');
    }

    // 4. The customer got the reply by mail, with a link to the ticket (and not the note).
    const mails = (await t.deliverMail()).filter((m) => !m.subject.startsWith('We have your'));
    assert.equal(mails.length, 1, 'one mail besides the acknowledgement: the reply; no note');
    const mail = mails[0]!;
    assert.equal(mail.to, 'jo@example.com');
    assert.ok(mail.text.includes(REPLY));
    assert.ok(mail.text.includes('ACME-1001'));
    assert.ok(!mail.text.includes(NOTE) && !mail.html.includes(NOTE));
    const link = new URL(/https?:\/\/\S+\/tickets\/ACME-1001/.exec(mail.text)![0]);
    assert.equal(link.host, 'acme.localhost:3000');
    assert.equal(
      (await customer.get(link.pathname)).status,
      200,
      'the link opens the ticket for the customer',
    );
    const stranger = await new Browser(t).get(link.pathname);
    assert.equal(stranger.status, 303, 'someone signed out is asked to sign in');
    assert.equal(stranger.headers.location, '/tickets/login');

    // 5. The agent resolves the ticket.
    const resolved = await agent.submit(
      '/admin/tickets/ACME-1001',
      '/admin/tickets/ACME-1001/status',
      { status: 'resolved' },
    );
    assert.equal(resolved.status, 303);

    // 6. The customer rates it 4 with a comment.
    const rated = await customer.submit('/tickets/ACME-1001', '/tickets/ACME-1001/rating', {
      rating: '4',
      comment: COMMENT,
    });
    assert.equal(rated.status, 303);

    // 7. The agent's ticket page, inbox and export show "4 of 5" and the comment.
    const final = $((await agent.get('/admin/tickets/ACME-1001')).text);
    assert.equal(spoken(final, '#rating'), 'Rated 4 of 5');
    assert.equal(final('#rating-comment').text(), COMMENT);
    assert.equal(spoken(final, '#current-status'), 'Resolved');

    const inboxAfter = $((await agent.get('/admin/tickets')).text);
    const row = spoken(inboxAfter, 'main table tbody tr');
    assert.match(row, /4 of 5/);
    assert.match(row, new RegExp(COMMENT));

    const csv = await agent.get('/admin/tickets/export.csv');
    assert.equal(csv.status, 200);
    const [record, ...more] = parseCsv(csv.text);
    assert.equal(more.length, 0);
    assert.equal(record!.Reference, 'ACME-1001');
    assert.equal(record!['CSAT rating'], '4');
    assert.equal(record!['CSAT comment'], COMMENT);
    assert.ok(!csv.text.includes(NOTE), 'no internal note in the export');

    // And in the database: two public messages and one internal, nothing else.
    const stored = await rows<{ author_kind: string; internal: boolean }>(
      'select author_kind, internal from messages order by created_at',
    );
    assert.deepEqual(stored, [
      { author_kind: 'requester', internal: false },
      { author_kind: 'agent', internal: false },
      { author_kind: 'agent', internal: true },
    ]);
  });
});
