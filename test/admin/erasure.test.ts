import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { withScope } from '../../src/db/scopes';
import * as loginTokens from '../../src/models/login-tokens';
import * as tickets from '../../src/models/tickets';
import type { Requester } from '../../src/models/requesters';
import type { Workspace } from '../../src/models/workspaces';
import { hashPassword } from '../../src/services/passwords';
import { MINUTE, makeTestApp, type TestApp } from '../helpers/app';
import { $, Browser } from '../helpers/client';
import { testDatabase } from '../helpers/database';
import {
  aRequester,
  aTicket,
  anAgent,
  anAgentMessage,
  anAttachment,
  aWorkspace,
  rows,
  type TicketFixture,
} from '../helpers/fixtures';

const PASSWORD = 'a long enough password';
const LIST = '/admin/settings/erasure-requests';
const erase = (id: string) => `${LIST}/${id}`;

/** Everything of Joanna's that must be gone after erasure: her words, her name, her address. */
const PERSONAL = {
  name: 'Joanna Quibblesworth',
  email: 'joanna.q@example.com',
  subject: 'Bicycle delivered to Quibble Lane',
  body: 'My flat is 4b, ring twice, phone 07700 900123.',
  reply: 'Dear Joanna, the courier will ring twice.',
  note: 'INTERNAL: Joanna complained last year too',
  replyFromHer: 'Thanks, my neighbour Pat will take it.',
  comment: 'Lovely courier, Pat says hi.',
  fileName: 'Quibblesworth passport scan.txt',
};

/**
 * Every text-like column (text, varchar, json, jsonb) of every table, searched for a needle, in
 * the system scope that sees all rows. Tables added later are searched too.
 */
async function whereFound(needle: string): Promise<string[]> {
  const columns = await rows<{ table_name: string; column_name: string }>(
    `select table_name, column_name from information_schema.columns
      where table_schema = 'public'
        and data_type in ('text', 'character varying', 'json', 'jsonb', 'ARRAY')`,
  );
  const found: string[] = [];
  for (const { table_name: table, column_name: column } of columns) {
    const hits = await rows<{ n: string }>(
      `select count(*) as n from "${table}" where "${column}"::text ilike ?`,
      [`%${needle.replace(/[%_\\]/g, '\\$&')}%`],
    );
    if (Number(hits[0]!.n) > 0) found.push(`${table}.${column}`);
  }
  return found;
}

describe('agent app: erasure requests', () => {
  let t: TestApp;
  let acme: Workspace;
  let joanna: Requester;
  let delivery: TicketFixture;
  let second: TicketFixture;
  let passwordHash: string;

  before(async () => {
    passwordHash = await hashPassword(PASSWORD);
  });

  beforeEach(async () => {
    t = makeTestApp();
    acme = await aWorkspace('acme');
    joanna = await aRequester(acme, PERSONAL.email, PERSONAL.name);
    const agent = await anAgent(acme, { email: 'alex@acme.test', name: 'Alex Agent' });
    delivery = await aTicket(acme, joanna, { subject: PERSONAL.subject, body: PERSONAL.body });
    await anAgentMessage(delivery, agent, PERSONAL.reply);
    await anAgentMessage(delivery, agent, PERSONAL.note, { internal: true });
    second = await aTicket(acme, joanna, {
      subject: 'Second question',
      body: 'Second body',
      status: 'resolved',
    });
    await withScope(testDatabase().db, { kind: 'system' }, (trx) =>
      tickets.setRating(trx, {
        workspaceId: acme.id,
        id: second.id,
        rating: 5,
        comment: PERSONAL.comment,
        at: new Date('2026-11-25T09:45:00Z'),
      }),
    );
  });

  async function signedInAgent(
    workspace: Workspace,
    role: 'admin' | 'agent',
    email = `${role}@${workspace.slug}.test`,
  ): Promise<Browser> {
    await anAgent(workspace, { email, name: `${role} of ${workspace.slug}`, role, passwordHash });
    const browser = new Browser(t, `${workspace.slug}.localhost`);
    assert.equal((await browser.signInAgent(email, PASSWORD)).status, 303);
    return browser;
  }

  /** Joanna signs in, replies, marks her ticket solved, and asks for erasure through the portal. */
  async function joannaAsks(): Promise<Browser> {
    const browser = new Browser(t);
    await browser.signIn(PERSONAL.email);
    const reply = await browser.submit(
      `/tickets/${delivery.reference}`,
      `/tickets/${delivery.reference}/replies`,
      { body: PERSONAL.replyFromHer },
    );
    assert.equal(reply.status, 303);
    // Marking it solved writes her name into the thread's status change.
    const solved = await browser.submit(
      `/tickets/${delivery.reference}`,
      `/tickets/${delivery.reference}/solve`,
    );
    assert.equal(solved.status, 303);
    // A second sign-in link, never used: its row holds her address too.
    await withScope(testDatabase().db, { kind: 'system' }, (trx) =>
      loginTokens.insert(trx, {
        workspaceId: acme.id,
        email: PERSONAL.email,
        tokenHash: randomBytes(32),
        expiresAt: new Date(t.clock.now().getTime() + 60 * MINUTE),
      }),
    );
    t.clock.advance(MINUTE);
    const asked = await browser.submit('/tickets/your-data/erasure', '/tickets/your-data/erasure');
    assert.equal(asked.status, 303);
    return browser;
  }

  it('lists pending requests with the customer, the date asked and the ticket count, and nobody else', async () => {
    await aRequester(acme, 'never.asked@example.com', 'Never Asked');
    const admin = await signedInAgent(acme, 'admin');
    const empty = $((await admin.get(LIST)).text);
    assert.equal(
      empty('.erasure-empty').text().trim(),
      'No customer is waiting for their data to be erased.',
    );

    await joannaAsks();
    const res = await admin.get(LIST);
    assert.equal(res.status, 200);
    const page = $(res.text);
    assert.equal(page('h1').text().trim(), 'Erasure requests');
    assert.equal(page('nav.sub-nav a[aria-current=page]').text().trim(), 'Erasure requests');
    const cells = page('tbody tr')
      .toArray()
      .map((tr) =>
        page(tr)
          .find('td')
          .toArray()
          .map((td) => page(td).text().replace(/\s+/g, ' ').trim()),
      );
    assert.deepEqual(cells, [
      [
        `${PERSONAL.name}${PERSONAL.email}`,
        '25 Nov 2026, 10:01 UTC',
        '2',
        `Erase the data of ${PERSONAL.email}`,
      ],
    ]);
    assert.equal(page(`form[action="${erase(joanna.id)}"]`).attr('method'), 'post');
    assert.ok(!res.text.includes('never.asked@example.com'));
  });

  it('erases every personal text and file from the database and keeps numbers, statuses, dates and stars', async () => {
    await anAttachment(delivery, {
      name: PERSONAL.fileName,
      content: Buffer.from('Passport 123456789\n'),
    });
    const joannaBrowser = await joannaAsks();
    const before = await rows<Record<string, unknown>>(
      'select number, status, created_at, last_activity_at, rating, rated_at from tickets where requester_id = ? order by number',
      [joanna.id],
    );
    for (const needle of Object.values(PERSONAL)) {
      assert.notDeepEqual(await whereFound(needle), [], `"${needle}" is stored before erasure`);
    }
    assert.equal(
      (await rows('select id from login_tokens')).length,
      2,
      'a used and an unused link',
    );

    const admin = await signedInAgent(acme, 'admin');
    const res = await admin.submit(LIST, erase(joanna.id));
    assert.equal(res.status, 303);
    assert.equal(res.headers.location, LIST);
    const after = $((await admin.get(LIST)).text);
    assert.equal(after('[role=status]').text().trim(), 'The customer’s data was erased.');
    assert.equal(after('tbody tr').length, 0, 'no longer pending');

    for (const needle of Object.values(PERSONAL)) {
      assert.deepEqual(await whereFound(needle), [], `"${needle}" is nowhere`);
    }
    for (const needle of ['Joanna', 'Quibble', 'joanna.q']) {
      assert.deepEqual(await whereFound(needle), [], `not even "${needle}"`);
    }
    // Bytes are not text: looked for by their own table.
    assert.deepEqual(await rows('select id from attachments'), [], 'her files are gone');
    assert.deepEqual(await rows('select seq from attachment_chunks'), [], 'and their bytes');

    assert.deepEqual(
      await rows(
        'select number, status, created_at, last_activity_at, rating, rated_at from tickets where requester_id = ? order by number',
        [joanna.id],
      ),
      before,
      'numbers, statuses, dates and stars stay',
    );
    assert.deepEqual(
      await rows(
        'select subject, rating_comment from tickets where requester_id = ? order by number',
        [joanna.id],
      ),
      [
        { subject: '[erased]', rating_comment: null },
        { subject: '[erased]', rating_comment: '[erased]' },
      ],
    );
    const [record] = await rows<{ name: string; email: string; erased_at: Date }>(
      'select name, email, erased_at from requesters where id = ?',
      [joanna.id],
    );
    assert.deepEqual(record, {
      name: '[erased]',
      email: `erased-${joanna.id}@invalid`,
      erased_at: t.clock.now(),
    });
    const bodies = await rows<{ body: string; author_name: string; author_kind: string }>(
      `select body, author_name, author_kind from messages where ticket_id = any (?::uuid[])
        order by created_at, id`,
      [[delivery.id, second.id]],
    );
    assert.equal(bodies.length, 5, 'the messages stay, as placeholders');
    assert.ok(bodies.every((m) => m.body === '[erased]'));
    assert.ok(
      bodies.every(
        (m) => m.author_name === (m.author_kind === 'agent' ? 'Alex Agent' : '[erased]'),
      ),
    );

    assert.deepEqual(await rows('select id from login_tokens'), [], 'her sign-in tokens are gone');
    assert.deepEqual(
      await rows(`select sid from portal_sessions where sess->>'requesterId' = ?`, [joanna.id]),
      [],
    );
    const landing = $((await joannaBrowser.get('/tickets')).text);
    assert.ok(!/Signed in as/.test(landing('footer').text()), 'her browser is signed out');

    const events = await rows<{
      action: string;
      actor_label: string;
      subject_label: string;
      ip: string | null;
      details: unknown;
    }>(
      `select action, actor_label, subject_label, ip, details from audit_events
        where action in ('portal.erasure_requested', 'requester.erased') order by occurred_at`,
    );
    assert.deepEqual(events, [
      {
        action: 'portal.erasure_requested',
        actor_label: `erased-${joanna.id}@invalid`,
        subject_label: '',
        ip: null,
        details: {},
      },
      {
        action: 'requester.erased',
        actor_label: 'admin@acme.test',
        subject_label: `erased-${joanna.id}@invalid`,
        ip: '127.0.0.1',
        details: { tickets: 2 },
      },
    ]);
  });

  it('signing in again with the old address gives a fresh requester with no tickets', async () => {
    await joannaAsks();
    const admin = await signedInAgent(acme, 'admin');
    assert.equal((await admin.submit(LIST, erase(joanna.id))).status, 303);

    // The rate limits count real time (one link a minute per address): start them afresh.
    await testDatabase().db.raw('truncate rate_limits');
    const back = new Browser(t);
    await back.signIn(PERSONAL.email);
    const list = $((await back.get('/tickets')).text);
    assert.match(list('main').text(), /You have no tickets yet\./);
    const fresh = await rows<{ id: string; name: string }>(
      'select id, name from requesters where email = ?',
      [PERSONAL.email],
    );
    assert.equal(fresh.length, 1);
    assert.notEqual(fresh[0]!.id, joanna.id);
    assert.equal(fresh[0]!.name, '');
    assert.equal((await back.get(`/tickets/${delivery.reference}`)).status, 404);
  });

  it('a second confirmation, a requester who never asked and a malformed id are 404 and change nothing', async () => {
    await joannaAsks();
    const other = await aRequester(acme, 'other@example.com', 'Other Person');
    const admin = await signedInAgent(acme, 'admin');
    assert.equal((await admin.submit(LIST, erase(other.id))).status, 404);
    assert.equal((await admin.submit(LIST, erase('not-a-uuid'))).status, 404);
    assert.equal((await admin.submit(LIST, erase(joanna.id))).status, 303);
    assert.equal((await admin.submit(LIST, erase(joanna.id))).status, 404);
    const [kept] = await rows<{ name: string }>('select name from requesters where id = ?', [
      other.id,
    ]);
    assert.equal(kept!.name, 'Other Person');
    assert.equal(
      (await rows(`select id from audit_events where action = 'requester.erased'`)).length,
      1,
    );
  });

  it('an agent who is not an admin gets 403 for the list and the confirmation, and nothing changes', async () => {
    await joannaAsks();
    const agent = await signedInAgent(acme, 'agent');
    assert.equal((await agent.get(LIST)).status, 403);
    const token = /name="_csrf" value="([^"]+)"/.exec(
      (await agent.get('/admin/tickets')).text,
    )![1]!;
    assert.equal((await agent.post(erase(joanna.id), { _csrf: token })).status, 403);
    const nav = $((await agent.get('/admin/tickets')).text);
    assert.equal(nav(`a[href="${LIST}"]`).length, 0);
    assert.deepEqual(await whereFound(PERSONAL.body), ['messages.body']);
    assert.deepEqual(await rows('select name from requesters where id = ?', [joanna.id]), [
      { name: PERSONAL.name },
    ]);
  });

  it('another workspace’s admin neither sees nor can confirm the request (404)', async () => {
    await joannaAsks();
    const globex = await aWorkspace('globex');
    const globexAdmin = await signedInAgent(globex, 'admin');
    const list = await globexAdmin.get(LIST);
    assert.equal(list.status, 200);
    assert.ok(!list.text.includes(PERSONAL.email));
    assert.equal($(list.text)('tbody tr').length, 0);
    assert.equal((await globexAdmin.submit(LIST, erase(joanna.id))).status, 404);
    assert.deepEqual(
      await rows('select name, erased_at from requesters where id = ?', [joanna.id]),
      [{ name: PERSONAL.name, erased_at: null }],
    );
  });

  it('a signed-out browser is sent to sign in and erases nothing', async () => {
    await joannaAsks();
    const nobody = new Browser(t);
    const res = await nobody.submit('/admin/login', erase(joanna.id));
    assert.equal(res.status, 303);
    assert.equal(res.headers.location, '/admin/login');
    assert.deepEqual(await rows('select erased_at from requesters where id = ?', [joanna.id]), [
      { erased_at: null },
    ]);
  });
});
