import assert from 'node:assert/strict';
import type { Requester } from '../../src/models/requesters';
import type { TicketStatus } from '../../src/models/tickets';
import type { Workspace } from '../../src/models/workspaces';
import { DAY, MINUTE, makeTestApp, type TestApp } from '../helpers/app';
import { $, Browser } from '../helpers/client';
import {
  aRequester,
  aTicket,
  acmeWithJo,
  anAgentWithPassword,
  reloadTicket,
  rows,
  type TicketFixture,
} from '../helpers/fixtures';

const PASSWORD = 'correct horse battery staple';

interface EventRow {
  actor_kind: string;
  actor_name: string;
  requester_id: string | null;
  from_status: string;
  to_status: string;
  created_at: Date;
}

function eventsOf(ticket: { id: string }): Promise<EventRow[]> {
  return rows<EventRow>(
    `select actor_kind, actor_name, requester_id, from_status, to_status, created_at
       from ticket_events where ticket_id = ? order by created_at, id`,
    [ticket.id],
  );
}

/** The thread as a reader sees it: each message's body, and each event line's text. */
function threadLines(html: string): string[] {
  const page = $(html);
  return page('ol.thread > li')
    .toArray()
    .map((li) =>
      page(li).hasClass('thread-event')
        ? page(li).text().replace(/\s+/g, ' ').trim()
        : `message: ${page(li).find('.message-body').text().trim()}`,
    );
}

function buttons(html: string): string[] {
  const page = $(html);
  return page('main button')
    .toArray()
    .map((b) => page(b).text().trim());
}

describe('close and reopen in the portal', () => {
  let t: TestApp;
  let browser: Browser;
  let acme: Workspace;
  let jo: Requester;

  beforeEach(async () => {
    ({ t, browser, acme, jo } = await acmeWithJo());
  });

  // The fixtures' tickets start at 09:00 on the test clock's day; the clock stands at 10:00.
  const myTicket = (status: TicketStatus = 'open') =>
    aTicket(acme, jo, { subject: 'Printer on fire', status });
  const ticketPath = (ticket: TicketFixture) => `/tickets/${ticket.reference}`;
  const solvePath = (ticket: TicketFixture) => `/tickets/${ticket.reference}/solve`;
  const reopenPath = (ticket: TicketFixture) => `/tickets/${ticket.reference}/reopen`;
  const solved = (ticket: TicketFixture) => browser.submit(ticketPath(ticket), solvePath(ticket));
  const reopened = (ticket: TicketFixture) =>
    browser.submit(ticketPath(ticket), reopenPath(ticket));

  /** Time passes while Jo looks in every few days, so the session (idle limit: a week) lives. */
  async function later(ms: number): Promise<void> {
    for (let left = ms; left > 0; left -= 5 * DAY) {
      t.clock.advance(Math.min(left, 5 * DAY));
      assert.equal((await browser.get('/tickets')).status, 200);
    }
  }

  /** A refusal: 422, the page again with an error summary that links to the status line. */
  function assertRefused(res: { status: number; text: string }, message: RegExp): void {
    assert.equal(res.status, 422);
    const page = $(res.text);
    assert.match(page('title').text(), /^Error: /);
    const link = page('.error-summary a');
    assert.match(link.text(), message);
    assert.equal(link.attr('href'), '#status');
    assert.equal(page('#status').length, 1, 'the summary links to something on the page');
  }

  for (const status of ['open', 'pending'] as const) {
    it(`marks ${status === 'open' ? 'an open' : 'a pending'} ticket as solved: 303, Resolved, an event line, the rating form and a way back`, async () => {
      const ticket = await myTicket(status);
      await browser.signIn('jo@example.com');
      const before = $((await browser.get(ticketPath(ticket))).text);
      const form = before(`form[action="${solvePath(ticket)}"]`);
      assert.equal(form.attr('method'), 'post');
      assert.equal(form.find('button').text().trim(), 'My problem is solved');
      assert.ok(form.find('input[name=_csrf]').val(), 'the form carries its CSRF token');
      assert.equal(before(`form[action="${reopenPath(ticket)}"]`).length, 0);

      t.clock.advance(5 * MINUTE);
      const res = await solved(ticket);
      assert.equal(res.status, 303);
      assert.equal(res.headers.location, ticketPath(ticket));
      const stored = await reloadTicket(ticket);
      assert.equal(stored.status, 'resolved');
      assert.deepEqual(stored.resolvedAt, t.clock.now());
      assert.deepEqual(stored.lastActivityAt, t.clock.now(), 'it moves up the list');
      assert.deepEqual(await eventsOf(ticket), [
        {
          actor_kind: 'requester',
          actor_name: 'Jo Bloggs',
          requester_id: jo.id,
          from_status: status,
          to_status: 'resolved',
          created_at: t.clock.now(),
        },
      ]);
      assert.equal(
        (await rows('select id from messages where ticket_id = ?', [ticket.id])).length,
        1,
        'an event, not a message',
      );

      const page = $((await browser.get(ticketPath(ticket))).text);
      assert.match(page('[role=status]').text(), /Ticket marked as solved/);
      assert.match(page('[role=status]').text(), /reopen this ticket until 9 Dec 2026, 10:05 UTC/);
      assert.match(page('#status').text(), /Resolved/);
      assert.deepEqual(threadLines(page.html()), [
        'message: It started this morning.',
        'Marked as solved by you on 25 Nov 2026, 10:05 UTC',
      ]);
      assert.equal(
        page('ol.thread > li.thread-event time').attr('datetime'),
        t.clock.now().toISOString(),
      );
      assert.equal(page('ol.thread article').length, 1, 'the event line is no message');
      assert.equal(page('input[name=rating]').length, 5, 'the rating form appears');
      assert.deepEqual(buttons(page.html()), ['Send feedback', 'Reopen this ticket', 'Send reply']);
    });
  }

  it('reopens a resolved ticket within the window: Open again, an event line, and the solve button back', async () => {
    const ticket = await myTicket();
    await browser.signIn('jo@example.com');
    await solved(ticket);
    await later(14 * DAY - MINUTE);
    const res = await reopened(ticket);
    assert.equal(res.status, 303);
    assert.equal(res.headers.location, ticketPath(ticket));
    const stored = await reloadTicket(ticket);
    assert.equal(stored.status, 'open');
    assert.equal(stored.resolvedAt, null);
    assert.deepEqual(
      (await eventsOf(ticket)).map((e) => [e.from_status, e.to_status]),
      [
        ['open', 'resolved'],
        ['resolved', 'open'],
      ],
    );
    const page = $((await browser.get(ticketPath(ticket))).text);
    assert.match(page('[role=status]').text(), /Ticket reopened/);
    assert.deepEqual(threadLines(page.html()), [
      'message: It started this morning.',
      'Marked as solved by you on 25 Nov 2026, 10:00 UTC',
      'Reopened by you on 9 Dec 2026, 09:59 UTC',
    ]);
    assert.deepEqual(buttons(page.html()), ['My problem is solved', 'Send reply']);
  });

  it('after the window refuses to reopen, changes nothing, and offers a follow-up ticket naming the old one', async () => {
    const ticket = await myTicket();
    await browser.signIn('jo@example.com');
    await solved(ticket);
    await later(14 * DAY);
    const page = $((await browser.get(ticketPath(ticket))).text);
    assert.equal(page(`form[action="${reopenPath(ticket)}"]`).length, 0, 'no reopen button');
    assert.equal(page('textarea[name=body]').length, 0, 'no reply form either');
    assert.equal(page('#follow-up').text().trim(), 'This ticket can no longer be reopened');
    const offer = page('main a').filter(
      (_, a) => page(a).text().trim() === 'open a follow-up ticket',
    );
    assert.equal(offer.attr('href'), `/tickets/new?followUp=${ticket.reference}`);
    assert.equal(page('input[name=rating]').length, 5, 'it can still be rated');

    const refused = await browser.submit(ticketPath(ticket), reopenPath(ticket));
    assertRefused(refused, /resolved more than 14 days ago and cannot be reopened/);
    assert.equal(
      $(refused.text)('a').filter((_, a) => $(refused.text)(a).text() === 'open a follow-up ticket')
        .length,
      1,
      'the refusal still offers the follow-up',
    );
    const reply = await browser.submit(ticketPath(ticket), `${ticketPath(ticket)}/replies`, {
      body: 'Still broken',
    });
    assert.equal(reply.status, 422, 'a reply cannot reopen it either');
    assert.equal($(reply.text)('.error-summary a').attr('href'), '#follow-up');
    assert.equal((await reloadTicket(ticket)).status, 'resolved');
    assert.equal((await eventsOf(ticket)).length, 1);
    assert.equal(
      (await rows('select id from messages where ticket_id = ?', [ticket.id])).length,
      1,
    );

    const form = $((await browser.get(offer.attr('href')!)).text);
    assert.equal(form('h1').text().trim(), 'Open a new ticket');
    assert.equal(form('#subject').val(), `Follow-up to ${ticket.reference}`);
    const opened = await browser.submit(offer.attr('href')!, '/tickets/new', {
      subject: String(form('#subject').val()),
      description: 'The printer is on fire again.',
    });
    assert.equal(opened.status, 303);
    const [followUp] = await rows<{ subject: string }>(
      'select subject from tickets where number = ?',
      [ticket.number + 1],
    );
    assert.equal(followUp!.subject, `Follow-up to ${ticket.reference}`);
  });

  it('the new-ticket form ignores a follow-up that is not one of this workspace’s references', async () => {
    await browser.signIn('jo@example.com');
    for (const followUp of ['GLOBEX-1001', 'nonsense', '<script>', '']) {
      const res = await browser.get(`/tickets/new?followUp=${encodeURIComponent(followUp)}`);
      assert.equal(res.status, 200);
      assert.equal($(res.text)('#subject').val(), '', followUp);
    }
    const res = await browser.get('/tickets/new?followUp=acme-1042');
    assert.equal(
      $(res.text)('#subject').val(),
      'Follow-up to ACME-1042',
      'the reference normalised',
    );
  });

  it('REOPEN_WINDOW_DAYS sets the window', async () => {
    t = makeTestApp({ env: { REOPEN_WINDOW_DAYS: '2' } });
    browser = new Browser(t);
    const ticket = await myTicket();
    await browser.signIn('jo@example.com');
    await solved(ticket);
    assert.match(
      $((await browser.get(ticketPath(ticket))).text)('main').text(),
      /reopen this ticket until 27 Nov 2026, 10:00 UTC/,
    );
    t.clock.advance(2 * DAY);
    assertRefused(await reopened(ticket), /more than 2 days ago/);
    assert.equal((await reloadTicket(ticket)).status, 'resolved');
  });

  it('a closed ticket offers neither button, and forged requests to reopen or solve it are refused with 422 and change nothing', async () => {
    const ticket = await myTicket('closed');
    await browser.signIn('jo@example.com');
    const page = $((await browser.get(ticketPath(ticket))).text);
    assert.equal(page(`form[action="${reopenPath(ticket)}"]`).length, 0);
    assert.equal(page(`form[action="${solvePath(ticket)}"]`).length, 0);
    assert.deepEqual(buttons(page.html()), ['Send feedback']);
    assert.equal(
      page('main a')
        .filter((_, a) => page(a).text().trim() === 'open a follow-up ticket')
        .attr('href'),
      `/tickets/new?followUp=${ticket.reference}`,
    );

    assertRefused(await reopened(ticket), /This ticket is closed and cannot be reopened/);
    assertRefused(await solved(ticket), /already closed/);
    assert.equal((await reloadTicket(ticket)).status, 'closed');
    assert.deepEqual(await eventsOf(ticket), []);
  });

  it('refuses to solve a resolved ticket or reopen an open one, with 422, changing nothing', async () => {
    const resolved = await myTicket('resolved');
    const open = await aTicket(acme, jo, { subject: 'Another' });
    await browser.signIn('jo@example.com');
    assertRefused(await solved(resolved), /already resolved/);
    assertRefused(await reopened(open), /already open/);
    assert.equal((await reloadTicket(resolved)).status, 'resolved');
    assert.equal((await reloadTicket(open)).status, 'open');
    assert.deepEqual(await rows('select id from ticket_events'), []);
  });

  it('two tabs solving at once: one wins, the other is told it is already resolved, one event', async () => {
    const ticket = await myTicket();
    await browser.signIn('jo@example.com');
    const token = $((await browser.get(ticketPath(ticket))).text)('input[name=_csrf]').val();
    const post = () => browser.post(solvePath(ticket), { _csrf: String(token) });
    const answers = await Promise.all([post(), post(), post()]);
    assert.deepEqual(answers.map((r) => r.status).sort(), [303, 422, 422]);
    assert.equal((await eventsOf(ticket)).length, 1);
  });

  it('answers 404 for someone else’s ticket and sends a signed-out browser to sign in, changing nothing', async () => {
    const sam = await aRequester(acme, 'sam@example.com', 'Sam');
    const samsOpen = await aTicket(acme, sam, { subject: 'Sam’s secret' });
    const samsResolved = await aTicket(acme, sam, { subject: 'Sam’s other', status: 'resolved' });
    const signedOut = await browser.submit('/tickets', solvePath(samsOpen));
    assert.equal(signedOut.status, 303);
    assert.equal(signedOut.headers.location, '/tickets/login');
    await browser.signIn('jo@example.com');
    for (const res of [
      await browser.submit('/tickets', solvePath(samsOpen)),
      await browser.submit('/tickets', reopenPath(samsResolved)),
    ]) {
      assert.equal(res.status, 404);
      assert.ok(!res.text.includes('Sam’s'));
    }
    assert.equal((await reloadTicket(samsOpen)).status, 'open');
    assert.equal((await reloadTicket(samsResolved)).status, 'resolved');
    assert.deepEqual(await rows('select id from ticket_events'), []);
  });

  it('needs the CSRF token: without it 403, and nothing changes', async () => {
    const open = await myTicket();
    const resolved = await aTicket(acme, jo, { subject: 'Done', status: 'resolved' });
    await browser.signIn('jo@example.com');
    assert.equal((await browser.post(solvePath(open))).status, 403);
    assert.equal((await browser.post(reopenPath(resolved), { _csrf: 'forged' })).status, 403);
    assert.equal((await reloadTicket(open)).status, 'open');
    assert.equal((await reloadTicket(resolved)).status, 'resolved');
    assert.deepEqual(await rows('select id from ticket_events'), []);
  });

  it('a visitor who opened the ticket without signing in can solve and reopen it, as its requester', async () => {
    const res = await browser.submit('/tickets/new', '/tickets/new', {
      name: 'Vera Visitor',
      email: 'vera@example.com',
      subject: 'Cannot log in',
      description: 'The button does nothing.',
    });
    assert.equal(res.status, 303);
    const path = res.headers.location as string;
    const ref = path.split('/').pop()!;
    t.clock.advance(MINUTE);
    assert.equal((await browser.submit(path, `${path}/solve`)).status, 303);
    t.clock.advance(MINUTE);
    assert.equal((await browser.submit(path, `${path}/reopen`)).status, 303);
    const [ticket] = await rows<{ id: string; status: string }>(
      'select id, status from tickets where subject = ?',
      ['Cannot log in'],
    );
    assert.equal(ticket!.status, 'open');
    const events = await eventsOf(ticket!);
    assert.deepEqual(
      events.map((e) => [e.actor_kind, e.actor_name, e.to_status]),
      [
        ['requester', 'Vera Visitor', 'resolved'],
        ['requester', 'Vera Visitor', 'open'],
      ],
    );
    assert.deepEqual(threadLines((await browser.get(path)).text).slice(1), [
      'Marked as solved by you on 25 Nov 2026, 10:01 UTC',
      'Reopened by you on 25 Nov 2026, 10:02 UTC',
    ]);
    assert.match(ref, /^ACME-\d+$/);
  });

  it('a reply reopens a resolved ticket within the window, and the thread shows the reopening before the reply', async () => {
    const ticket = await myTicket();
    await browser.signIn('jo@example.com');
    await solved(ticket);
    t.clock.advance(DAY);
    const res = await browser.submit(ticketPath(ticket), `${ticketPath(ticket)}/replies`, {
      body: 'It is on fire again.',
    });
    assert.equal(res.status, 303);
    assert.equal((await reloadTicket(ticket)).status, 'open');
    assert.deepEqual(threadLines((await browser.get(ticketPath(ticket))).text), [
      'message: It started this morning.',
      'Marked as solved by you on 25 Nov 2026, 10:00 UTC',
      'Reopened by you on 26 Nov 2026, 09:59 UTC',
      'message: It is on fire again.',
    ]);
  });

  it('both apps show the customer’s and the agents’ status changes as event lines, in order', async () => {
    const ticket = await myTicket();
    await anAgentWithPassword(acme, { email: 'alex@acme.test', password: PASSWORD });
    const agent = new Browser(t);
    assert.equal((await agent.signInAgent('alex@acme.test', PASSWORD)).status, 303);
    const agentPage = `/admin/tickets/${ticket.reference}`;
    await browser.signIn('jo@example.com');

    t.clock.advance(MINUTE);
    await agent.submit(agentPage, `${agentPage}/replies`, {
      visibility: 'public',
      body: 'Have you tried turning it off?',
    });
    t.clock.advance(MINUTE);
    await solved(ticket);
    t.clock.advance(MINUTE);
    await reopened(ticket);
    t.clock.advance(MINUTE);
    await agent.submit(agentPage, `${agentPage}/replies`, {
      visibility: 'internal',
      body: 'Escalating to hardware.',
      replyStatus: 'pending',
    });
    t.clock.advance(MINUTE);
    await agent.submit(agentPage, `${agentPage}/status`, { status: 'closed' });
    t.clock.advance(MINUTE);
    await agent.submit(agentPage, `${agentPage}/status`, { status: 'closed' });

    assert.deepEqual(threadLines((await agent.get(agentPage)).text), [
      'message: It started this morning.',
      'message: Have you tried turning it off?',
      'Marked as solved by Jo Bloggs (requester) on 25 Nov 2026, 10:02 UTC',
      'Reopened by Jo Bloggs (requester) on 25 Nov 2026, 10:03 UTC',
      'Status changed to Pending by Alex Agent on 25 Nov 2026, 10:03 UTC',
      'message: Escalating to hardware.',
      'Closed by Alex Agent on 25 Nov 2026, 10:05 UTC',
    ]);
    const portal = (await browser.get(ticketPath(ticket))).text;
    assert.deepEqual(threadLines(portal), [
      'message: It started this morning.',
      'message: Have you tried turning it off?',
      'Marked as solved by you on 25 Nov 2026, 10:02 UTC',
      'Reopened by you on 25 Nov 2026, 10:03 UTC',
      'Status changed to Waiting for you by Alex Agent (support team) on 25 Nov 2026, 10:03 UTC',
      'Closed by Alex Agent (support team) on 25 Nov 2026, 10:05 UTC',
    ]);
    assert.ok(!portal.includes('Escalating'), 'never the internal note');
  });
});

describe('paging a thread with status changes in it', () => {
  let t: TestApp;
  let acme: Workspace;
  let ticket: TicketFixture;

  /**
   * The ticket's first message at 09:00, then 64 public messages a minute apart from 10:01, an
   * internal note after every tenth, and status changes between them: some half a minute after a
   * message, and one at exactly the time of message 35, the oldest on the first page if events
   * were not counted, so the keyset's tie-break on id is exercised.
   */
  beforeEach(async () => {
    let jo: Requester;
    ({ t, acme, jo } = await acmeWithJo());
    ticket = await aTicket(acme, jo, { body: 'The first message' });
    const agent = await anAgentWithPassword(acme, { email: 'alex@acme.test', password: PASSWORD });
    await rows(
      `insert into messages (workspace_id, ticket_id, author_kind, requester_id, user_id,
                             author_name, body, internal, created_at)
       select ?::uuid, ?::uuid, 'requester', ?::uuid, null, 'Jo', 'Message ' || g, false,
              timestamptz '2026-11-25T10:00:00Z' + g * interval '1 minute'
         from generate_series(1, 64) g
       union all
       select ?::uuid, ?::uuid, 'agent', null, ?::uuid, 'Alex Agent', 'INTERNAL note ' || g, true,
              timestamptz '2026-11-25T10:00:20Z' + g * interval '1 minute'
         from generate_series(10, 60, 10) g`,
      [acme.id, ticket.id, jo.id, acme.id, ticket.id, agent.id],
    );
    await rows(
      `insert into ticket_events (workspace_id, ticket_id, actor_kind, requester_id, user_id,
                                  actor_name, from_status, to_status, created_at)
       select ?::uuid, ?::uuid, 'requester', ?::uuid, null, 'Jo', s.from_status, s.to_status,
              timestamptz '2026-11-25T10:00:00Z' + s.minute * interval '1 minute'
         from (values (5.5, 'open', 'resolved'), (20.5, 'resolved', 'open'),
                      (33.5, 'open', 'resolved'), (35, 'resolved', 'open'),
                      (50.5, 'open', 'resolved'), (64.5, 'resolved', 'open'))
              as s (minute, from_status, to_status)`,
      [acme.id, ticket.id, jo.id],
    );
  });

  /** Every entry of the thread in order, straight from the tables: what the pages must add up to. */
  async function wholeThread(includeInternal: boolean): Promise<string[]> {
    const entries = await rows<{ line: string }>(
      `select line from (
         select created_at, id, 'message: ' || body as line from messages
          where ticket_id = ? and (? or not internal)
         union all
         select created_at, id, 'event ' || to_status from ticket_events where ticket_id = ?
       ) entries order by created_at, id`,
      [ticket.id, includeInternal, ticket.id],
    );
    return entries.map((e) => e.line);
  }

  /** Follows "Show earlier messages" from the latest page back to the first. */
  async function readBackwards(browser: Browser, path: string): Promise<string[][]> {
    const pages: string[][] = [];
    let href: string | undefined = path;
    while (href) {
      const res = await browser.get(href);
      assert.equal(res.status, 200, href);
      const page = $(res.text);
      pages.unshift(
        threadLines(res.text).map((line) =>
          line.startsWith('message: ')
            ? line
            : `event ${/^Reopened/.test(line) ? 'open' : 'resolved'}`,
        ),
      );
      href = page('a')
        .filter((_, a) => page(a).text().trim() === 'Show earlier messages')
        .attr('href');
    }
    return pages;
  }

  it('the portal pages messages and events together, 30 entries a page, none lost or repeated', async () => {
    const browser = new Browser(t);
    await browser.signIn('jo@example.com');
    const pages = await readBackwards(browser, `/tickets/${ticket.reference}`);
    assert.deepEqual(
      pages.map((p) => p.length),
      [11, 30, 30],
    );
    const expected = await wholeThread(false);
    assert.equal(expected.length, 1 + 64 + 6);
    assert.deepEqual(pages.flat(), expected);
    assert.equal(pages[2]!.at(-2), 'message: Message 64');
    assert.equal(pages[2]!.at(-1), 'event open', 'the newest status change is last');
  });

  it('the agent app pages them the same way, internal notes included', async () => {
    const agent = new Browser(t);
    await agent.signInAgent('alex@acme.test', PASSWORD);
    const pages = await readBackwards(agent, `/admin/tickets/${ticket.reference}`);
    const expected = await wholeThread(true);
    assert.equal(expected.length, 1 + 64 + 6 + 6);
    assert.deepEqual(pages.flat(), expected);
    assert.deepEqual(
      pages.map((p) => p.length),
      [17, 30, 30],
    );
  });
});
