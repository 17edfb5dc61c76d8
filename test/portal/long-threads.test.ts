import assert from 'node:assert/strict';
import type { Requester } from '../../src/models/requesters';
import type { Workspace } from '../../src/models/workspaces';
import type { TestApp } from '../helpers/app';
import { $, Browser } from '../helpers/client';
import {
  acmeWithJo,
  anAgent,
  anAgentWithPassword,
  rows,
  type TicketFixture,
  aTicket,
} from '../helpers/fixtures';

/**
 * Adds `count` public messages after the ticket's first, one a minute, alternating customer and
 * agent, and an internal note after every tenth: message i's body is "Message i".
 */
async function lengthen(workspace: Workspace, ticket: TicketFixture, count: number): Promise<void> {
  const agent = await anAgent(workspace, { email: 'ivy@acme.test', name: 'Ivy Agent' });
  await rows(
    `insert into messages (workspace_id, ticket_id, author_kind, requester_id, user_id, author_name,
                           body, internal, created_at)
     select ?::uuid, ?::uuid, case when g % 2 = 0 then 'agent' else 'requester' end,
            case when g % 2 = 0 then null else ?::uuid end, case when g % 2 = 0 then ?::uuid end,
            case when g % 2 = 0 then 'Ivy Agent' else 'Jo' end, 'Message ' || g, false,
            timestamptz '2026-11-25T10:00:00Z' + g * interval '1 minute'
       from generate_series(1, ?::int) g
     union all
     select ?::uuid, ?::uuid, 'agent', null, ?::uuid, 'Ivy Agent', 'INTERNAL note ' || g, true,
            timestamptz '2026-11-25T10:00:30Z' + g * interval '1 minute'
       from generate_series(10, ?::int, 10) g`,
    [
      workspace.id,
      ticket.id,
      ticket.requesterId,
      agent.id,
      count,
      workspace.id,
      ticket.id,
      agent.id,
      count,
    ],
  );
}

function bodies(html: string): string[] {
  const page = $(html);
  return page('ol.thread .message-body')
    .toArray()
    .map((el) => page(el).text().trim());
}

function earlierLink(html: string): string | undefined {
  const page = $(html);
  return page('a')
    .filter((_, a) => page(a).text().trim() === 'Show earlier messages')
    .attr('href');
}

describe('long threads', () => {
  let t: TestApp;
  let browser: Browser;
  let acme: Workspace;
  let ticket: TicketFixture;

  beforeEach(async () => {
    let jo: Requester;
    ({ t, browser, acme, jo } = await acmeWithJo());
    ticket = await aTicket(acme, jo, { body: 'The first message' });
    await lengthen(acme, ticket, 64);
  });

  it('the portal shows the newest 30 messages with the reply form, and pages back to the first without gaps', async () => {
    await browser.signIn('jo@example.com');
    const latest = await browser.get(`/tickets/${ticket.reference}`);
    assert.equal(latest.status, 200);
    const first = bodies(latest.text);
    assert.equal(first.length, 30);
    assert.equal(first[29], 'Message 64', 'the newest message last');
    assert.equal(first[0], 'Message 35');
    assert.ok($(latest.text)('#body').length, 'the reply form is on the latest page');

    const seen = [...first];
    let href = earlierLink(latest.text);
    const titles = new Set([$(latest.text)('title').text()]);
    while (href) {
      const page = await browser.get(href);
      assert.equal(page.status, 200, href);
      const doc = $(page.text);
      titles.add(doc('title').text());
      assert.match(doc('title').text(), /^Earlier messages – /);
      assert.equal(doc('#body').length, 0, 'no reply form on an earlier page');
      assert.equal(
        doc('a')
          .filter((_, a) => /Go to the latest messages/.test(doc(a).text()))
          .attr('href'),
        `/tickets/${ticket.reference}#conversation`,
      );
      seen.unshift(...bodies(page.text));
      href = earlierLink(page.text);
    }
    assert.deepEqual(seen, [
      'The first message',
      ...Array.from({ length: 64 }, (_, i) => `Message ${i + 1}`),
    ]);
    assert.ok(!seen.some((b) => b.startsWith('INTERNAL')), 'never an internal note');
    assert.equal(titles.size, 2, 'the latest page and earlier pages have different titles');
  });

  it('a garbled page link answers 400, not a 500', async () => {
    await browser.signIn('jo@example.com');
    for (const before of ['nonsense', Buffer.from('2026-01-01|x').toString('base64url')]) {
      const res = await browser.get(`/tickets/${ticket.reference}?before=${before}`);
      assert.equal(res.status, 400);
    }
  });

  it('the agent app pages the thread the same way, internal notes included', async () => {
    await anAgentWithPassword(acme, {
      email: 'alex@acme.test',
      password: 'correct horse battery staple',
    });
    const agent = new Browser(t);
    await agent.signInAgent('alex@acme.test', 'correct horse battery staple');
    const latest = await agent.get(`/admin/tickets/${ticket.reference}`);
    const first = bodies(latest.text);
    assert.equal(first.length, 30);
    assert.equal(first[29], 'Message 64');
    assert.ok(first.includes('INTERNAL note 60'));
    assert.ok($(latest.text)('#body').length, 'the reply form is on the latest page');
    const seen = [...first];
    let href = earlierLink(latest.text);
    while (href) {
      const page = await agent.get(href);
      assert.equal($(page.text)('#body').length, 0);
      seen.unshift(...bodies(page.text));
      href = earlierLink(page.text);
    }
    assert.equal(seen.length, 1 + 64 + 6);
    assert.equal(seen[0], 'The first message');
  });
});
