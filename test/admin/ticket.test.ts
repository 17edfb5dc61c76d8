import assert from 'node:assert/strict';
import type { CheerioAPI } from 'cheerio';
import { defaultLimits } from '../../src/config';
import { withScope } from '../../src/db/scopes';
import { NotFoundError } from '../../src/errors';
import * as thread from '../../src/models/ticket-thread';
import type { Requester } from '../../src/models/requesters';
import type { User } from '../../src/models/users';
import type { Workspace } from '../../src/models/workspaces';
import { agentThread, findAgentTicket } from '../../src/services/agent-tickets';
import { hashPassword } from '../../src/services/passwords';
import { MINUTE, makeTestApp, type TestApp } from '../helpers/app';
import { $, Browser } from '../helpers/client';
import { testDatabase } from '../helpers/database';
import {
  aRequester,
  aTicket,
  aWorkspace,
  anAgent,
  anAgentMessage,
  reloadTicket,
  rows,
  tenantRows,
  type TicketFixture,
} from '../helpers/fixtures';

/** An agent's id for scopes over tickets and messages, whose policies do not ask who the agent is. */
const ANY_AGENT = '00000000-0000-4000-8000-000000000000';

const PASSWORD = 'correct horse battery staple';
const NOTE = 'Internal: customer is on the legacy plan, do not offer refunds';

/** Text as a screen reader reads it: aria-hidden parts left out, whitespace collapsed. */
function spoken(page: CheerioAPI, selector: string): string {
  const copy = page(selector).clone();
  copy.find('[aria-hidden=true]').remove();
  return copy.text().replace(/\s+/g, ' ').trim();
}

interface MessageRow {
  author_kind: string;
  author_name: string;
  user_id: string | null;
  requester_id: string | null;
  body: string;
  internal: boolean;
}

function messageRows(ticket: { id: string }): Promise<MessageRow[]> {
  return rows<MessageRow>(
    'select author_kind, author_name, user_id, requester_id, body, internal from messages where ticket_id = ? order by created_at, id',
    [ticket.id],
  );
}

describe('agent ticket page', () => {
  let passwordHash: string;
  let t: TestApp;
  let acme: Workspace;
  let jo: Requester;
  let alex: User;
  let ticket: TicketFixture;
  let browser: Browser;

  before(async () => {
    passwordHash = await hashPassword(PASSWORD);
  });

  beforeEach(async () => {
    t = makeTestApp();
    acme = await aWorkspace('acme');
    jo = await aRequester(acme, 'jo@example.com', 'Jo Bloggs');
    alex = await anAgent(acme, { email: 'alex@acme.test', name: 'Alex Agent', passwordHash });
    ticket = await aTicket(acme, jo, {
      subject: 'Printer on fire',
      body: 'It started this morning.',
    });
    browser = new Browser(t);
  });

  async function signIn(b = browser): Promise<void> {
    const res = await b.signInAgent('alex@acme.test', PASSWORD);
    assert.equal(res.status, 303, 'signed in');
  }

  const page = (ref = ticket.reference) => `/admin/tickets/${ref}`;
  const replyPath = (ref = ticket.reference) => `/admin/tickets/${ref}/replies`;
  const statusPath = (ref = ticket.reference) => `/admin/tickets/${ref}/status`;

  describe('reading', () => {
    it('sends a signed-out visitor to the sign-in page', async () => {
      const res = await browser.get(page());
      assert.equal(res.status, 303);
      assert.equal(res.headers.location, '/admin/login');
    });

    it('shows the whole thread with author names and times, internal notes labelled and bordered', async () => {
      await anAgentMessage(ticket, alex, 'Have you tried turning it off?', {
        at: new Date('2026-11-25T09:30:00Z'),
      });
      await anAgentMessage(ticket, alex, NOTE, {
        internal: true,
        at: new Date('2026-11-25T09:45:00Z'),
      });
      await signIn();
      const res = await browser.get(page());
      assert.equal(res.status, 200);
      const p = $(res.text);
      assert.equal(p('h1').length, 1);
      assert.equal(p('h1').text().trim(), 'Printer on fire');
      assert.match(p('title').text(), /^ACME-1001: Printer on fire/);
      assert.match(spoken(p, 'main'), /Jo Bloggs \(jo@example\.com\)/, 'the requester');
      const items = p('ol.thread > li')
        .toArray()
        .map((li) => ({
          classes: (p(li).attr('class') ?? '').split(/\s+/),
          label: p(li).find('article').attr('aria-label'),
          author: p(li).find('.message-meta strong').not('.internal-label').text().trim(),
          internalLabel: p(li).find('.internal-label').text().trim(),
          time: p(li).find('time').attr('datetime'),
          body: p(li).find('.message-body').text(),
        }));
      assert.deepEqual(items, [
        {
          classes: ['message', 'message-requester'],
          label: 'Message from Jo Bloggs',
          author: 'Jo Bloggs',
          internalLabel: '',
          time: '2026-11-25T09:00:00.000Z',
          body: 'It started this morning.',
        },
        {
          classes: ['message', 'message-agent'],
          label: 'Message from Alex Agent',
          author: 'Alex Agent',
          internalLabel: '',
          time: '2026-11-25T09:30:00.000Z',
          body: 'Have you tried turning it off?',
        },
        {
          classes: ['message', 'message-agent', 'message-internal'],
          label: 'Internal note from Alex Agent',
          author: 'Alex Agent',
          internalLabel: 'Internal note',
          time: '2026-11-25T09:45:00.000Z',
          body: NOTE,
        },
      ]);
    });

    it('marks internal notes with a dashed border in the stylesheet, not by colour alone', async () => {
      const css = await browser.get('/assets/css/app.css');
      assert.match(css.text, /\.message-internal\s*\{[^}]*border-inline-start:[^;}]*dashed/);
    });

    it('offers a reply form: public reply or internal note (public by default), a message and an optional status', async () => {
      await signIn();
      const p = $((await browser.get(page())).text);
      const form = p(`form[action="${replyPath()}"]`);
      assert.equal(form.attr('method'), 'post');
      const fieldset = form.find('fieldset');
      assert.equal(fieldset.children('legend').text().trim(), 'Who can see it');
      const radios = fieldset.find('input[type=radio][name=visibility]').toArray();
      assert.deepEqual(
        radios.map((r) => ({ value: p(r).attr('value'), checked: p(r).is('[checked]') })),
        [
          { value: 'public', checked: true },
          { value: 'internal', checked: false },
        ],
      );
      for (const radio of radios)
        assert.ok(
          p(`label[for="${p(radio).attr('id')}"]`)
            .text()
            .trim(),
          'labelled',
        );
      assert.equal(p('label[for=body]').text().trim(), 'Message');
      assert.equal(form.find('textarea#body[name=body]').length, 1);
      const select = form.find('select#replyStatus[name=replyStatus]');
      assert.deepEqual(
        select
          .find('option')
          .toArray()
          .map((o) => p(o).attr('value')),
        ['', 'open', 'pending', 'resolved', 'closed'],
      );
      assert.equal(
        select.find('option[selected]').length,
        0,
        'the default is the blank first option',
      );
      assert.equal(form.find('button[type=submit]').length, 1);
    });

    it('offers a status control with its own submit, the current status selected', async () => {
      await anAgentMessage(ticket, alex, 'On it');
      await rows("update tickets set status = 'pending' where id = ?", [ticket.id]);
      await signIn();
      const p = $((await browser.get(page())).text);
      const form = p(`form[action="${statusPath()}"]`);
      assert.equal(form.attr('method'), 'post');
      assert.equal(p('label[for=status]').text().trim(), 'Ticket status');
      const options = form.find('select#status[name=status] option').toArray();
      assert.deepEqual(
        options.map((o) => [p(o).attr('value'), p(o).text().trim()]),
        [
          ['open', 'Open'],
          ['pending', 'Pending'],
          ['resolved', 'Resolved'],
          ['closed', 'Closed'],
        ],
      );
      assert.equal(form.find('option[selected]').attr('value'), 'pending');
      assert.equal(form.find('button[type=submit]').text().trim(), 'Change status');
      assert.equal(
        spoken(p, '#current-status'),
        'Pending',
        'agents read Pending, not the portal wording',
      );
    });

    it('shows the CSAT rating and comment when given', async () => {
      await rows(
        "update tickets set status = 'resolved', rating = 4, rating_comment = 'Quick & kind <3', rated_at = now() where id = ?",
        [ticket.id],
      );
      await signIn();
      const res = await browser.get(page());
      const p = $(res.text);
      assert.equal(spoken(p, '#rating'), 'Rated 4 of 5');
      assert.equal(p('#rating .stars').text(), '★★★★☆');
      assert.equal(p('#rating-comment').text(), 'Quick & kind <3');
      assert.ok(res.text.includes('Quick &amp; kind &lt;3'), 'the comment is escaped');
    });

    it('says "Not rated" for a ticket without a rating', async () => {
      await signIn();
      const p = $((await browser.get(page())).text);
      assert.equal(spoken(p, '#rating'), 'Not rated');
      assert.equal(p('#rating-comment').length, 0);
    });

    it('answers 404 for an unknown or garbled reference', async () => {
      await signIn();
      for (const ref of [
        'ACME-9999',
        'ACME-0',
        'ACME-01001',
        'ACME-1001x',
        'acme1001',
        'GLOBEX-1001',
        'ACME-',
        '%E2%80%A8',
        'ACME-1001%00',
      ]) {
        const res = await browser.get(page(ref));
        assert.equal(res.status, 404, `404 for ${ref}`);
        assert.equal($(res.text)('h1').text().trim(), 'Page not found');
      }
    });

    it('accepts a reference in lower case as the same ticket', async () => {
      await signIn();
      const res = await browser.get(page('acme-1001'));
      assert.equal(res.status, 200);
      assert.equal($(res.text)('h1').text().trim(), 'Printer on fire');
    });

    it("never shows another workspace's ticket: its host does not know the agent, and row-level security hides its rows", async () => {
      const globex = await aWorkspace('globex');
      const sam = await aRequester(globex, 'sam@example.com', 'Sam');
      const theirs = await aTicket(globex, sam, { subject: 'Globex secret' });
      await signIn();

      const other = await browser.agent
        .get(page('GLOBEX-1001'))
        .set('Host', 'globex.localhost')
        .redirects(0);
      assert.equal(other.status, 303, 'the acme session is no session on globex');
      assert.equal(other.headers.location, '/admin/login');

      // Even a query that names globex's workspace and number outright finds nothing in acme's scope.
      const { db } = testDatabase();
      await assert.rejects(
        withScope(db, { kind: 'agent', workspaceId: acme.id, userId: ANY_AGENT }, (trx) =>
          findAgentTicket(trx, { workspace: globex, reference: 'GLOBEX-1001' }),
        ),
        NotFoundError,
      );
      const leaked = await withScope(
        db,
        { kind: 'agent', workspaceId: acme.id, userId: ANY_AGENT },
        (trx) =>
          thread.listThreadPage(trx, {
            workspaceId: globex.id,
            ticketId: theirs.id,
            includeInternal: true,
            limit: 30,
          }),
      );
      assert.deepEqual(leaked.entries, []);
      const own = await withScope(
        db,
        { kind: 'agent', workspaceId: globex.id, userId: ANY_AGENT },
        async (trx) =>
          agentThread(
            trx,
            await findAgentTicket(trx, { workspace: globex, reference: 'GLOBEX-1001' }),
            { limit: 30 },
          ),
      );
      assert.equal(own.entries.length, 1, 'globex itself sees it');
    });
  });

  describe('replying', () => {
    it('stores a public reply by the agent, sets the ticket to Pending and redirects 303 to the ticket', async () => {
      await signIn();
      t.clock.advance(5 * MINUTE);
      const res = await browser.submit(page(), replyPath(), {
        visibility: 'public',
        body: '  Try the blue button.  ',
      });
      assert.equal(res.status, 303);
      assert.equal(res.headers.location, page());
      const thread = await messageRows(ticket);
      assert.deepEqual(thread[1], {
        author_kind: 'agent',
        author_name: 'Alex Agent',
        user_id: alex.id,
        requester_id: null,
        body: 'Try the blue button.',
        internal: false,
      });
      const fresh = await reloadTicket(ticket);
      assert.equal(fresh.status, 'pending');
      assert.deepEqual(fresh.lastReplyAt, t.clock.now());
      const after = $((await browser.get(page())).text);
      assert.match(after('[role=status]').text(), /reply was sent to jo@example\.com/);
      assert.equal(spoken(after, '#current-status'), 'Pending');
    });

    it('keeps the status the agent chose in the same form instead of Pending', async () => {
      await signIn();
      const res = await browser.submit(page(), replyPath(), {
        visibility: 'public',
        body: 'Fixed it remotely.',
        replyStatus: 'resolved',
      });
      assert.equal(res.status, 303);
      assert.equal((await reloadTicket(ticket)).status, 'resolved');
    });

    it('mails a public reply to the requester with the reference and a link to the ticket in the portal', async () => {
      await signIn();
      await browser.submit(page(), replyPath(), {
        visibility: 'public',
        body: 'Try the <blue> button & wait.',
      });
      const mails = await t.deliverMail();
      assert.equal(mails.length, 1);
      const mail = mails[0]!;
      assert.equal(mail.to, 'jo@example.com');
      assert.match(mail.subject, /ACME-1001/);
      assert.match(mail.subject, /Printer on fire/);
      assert.ok(
        mail.text.includes('Try the <blue> button & wait.'),
        'the reply, unescaped, in the text part',
      );
      assert.ok(mail.text.includes('ACME-1001'));
      assert.ok(mail.text.includes('Alex Agent'));
      assert.ok(
        mail.text.includes('http://acme.localhost:3000/tickets/ACME-1001'),
        'a link to the ticket',
      );
      const html = $(mail.html);
      assert.ok(html('body').text().includes('Try the <blue> button & wait.'));
      assert.ok(
        mail.html.includes('Try the &lt;blue&gt; button &amp; wait.'),
        'escaped in the HTML part',
      );
      assert.equal(html('a').attr('href'), 'http://acme.localhost:3000/tickets/ACME-1001');
    });

    it('with the portal off, mails the reply and reference alone, without a link', async () => {
      const initech = await aWorkspace('initech', { portal: false });
      const sam = await aRequester(initech, 'sam@example.com', 'Sam');
      const theirs = await aTicket(initech, sam, { subject: 'Stapler missing' });
      await anAgent(initech, { email: 'bill@initech.test', name: 'Bill', passwordHash });
      const b = new Browser(t, 'initech.localhost');
      assert.equal((await b.signInAgent('bill@initech.test', PASSWORD)).status, 303);
      const res = await b.submit(page(theirs.reference), replyPath(theirs.reference), {
        visibility: 'public',
        body: 'We ordered a new red one.',
      });
      assert.equal(res.status, 303);
      const [mail, ...more] = await t.deliverMail();
      assert.equal(more.length, 0);
      assert.equal(mail!.to, 'sam@example.com');
      assert.ok(mail!.text.includes('We ordered a new red one.'));
      assert.ok(mail!.text.includes('INITECH-1001'));
      assert.ok(!/https?:\/\//.test(mail!.text), 'no link in the text part');
      assert.ok(!mail!.text.includes('/tickets'), 'no portal path in the text part');
      assert.equal($(mail!.html)('a').length, 0, 'no link in the HTML part');
    });

    it('stores an internal note without mailing anyone and without changing the status', async () => {
      await signIn();
      t.clock.advance(5 * MINUTE);
      const res = await browser.submit(page(), replyPath(), { visibility: 'internal', body: NOTE });
      assert.equal(res.status, 303);
      assert.equal(res.headers.location, page());
      const thread = await messageRows(ticket);
      assert.equal(thread.length, 2);
      assert.deepEqual(thread[1], {
        author_kind: 'agent',
        author_name: 'Alex Agent',
        user_id: alex.id,
        requester_id: null,
        body: NOTE,
        internal: true,
      });
      const fresh = await reloadTicket(ticket);
      assert.equal(fresh.status, 'open');
      assert.deepEqual(
        fresh.lastReplyAt,
        ticket.lastReplyAt,
        'a note is not a reply to the customer',
      );
      assert.deepEqual(await rows('select id from mail_outbox'), [], 'nothing queued');
      assert.deepEqual(await t.deliverMail(), []);
      const after = $((await browser.get(page())).text);
      assert.match(after('[role=status]').text(), /internal note was added/);
      assert.equal(after('li.message-internal .message-body').text(), NOTE);
    });

    it('changes the status with a note only when the agent chose one', async () => {
      await signIn();
      await browser.submit(page(), replyPath(), {
        visibility: 'internal',
        body: 'Escalated',
        replyStatus: 'pending',
      });
      assert.equal((await reloadTicket(ticket)).status, 'pending');
      assert.deepEqual(await t.deliverMail(), []);
    });

    it('refuses bad input with 422, an error summary and the values kept, and changes nothing', async () => {
      await signIn();
      const before = await tenantRows();
      const cases: { form: Record<string, string>; field: string; message: RegExp }[] = [
        { form: { visibility: 'public', body: '   ' }, field: 'body', message: /Enter a message/ },
        { form: { visibility: 'public' }, field: 'body', message: /Enter a message/ },
        {
          form: { visibility: 'public', body: 'x'.repeat(defaultLimits.body + 1) },
          field: 'body',
          message: /Message must be 10,000 characters or fewer/,
        },
        {
          form: { visibility: 'public', body: 'bell \u0007' },
          field: 'body',
          message: /letters, numbers/,
        },
        {
          form: { visibility: 'shout', body: 'Hello' },
          field: 'visibility',
          message: /public reply or an internal note/,
        },
        {
          form: { body: 'Hello' },
          field: 'visibility',
          message: /public reply or an internal note/,
        },
        {
          form: { visibility: 'public', body: 'Hello', replyStatus: 'deleted' },
          field: 'replyStatus',
          message: /Choose a status/,
        },
      ];
      for (const { form, field, message } of cases) {
        const res = await browser.submit(page(), replyPath(), form);
        assert.equal(res.status, 422, JSON.stringify(form).slice(0, 80));
        const p = $(res.text);
        assert.match(p('title').text(), /^Error: /);
        assert.equal(p('.error-summary a').attr('href'), `#${field}`);
        assert.match(p('.error-summary a').text(), message);
        assert.match(p(`#${field}-error`).text(), message);
        assert.equal(p(`#${field}`).length, 1, 'the summary links to a real control');
        if (field !== 'body' && form.body)
          assert.equal(p('#body').text(), form.body, 'the message is kept');
      }
      assert.deepEqual(await tenantRows(), before);
    });

    it('refuses a public reply to a closed ticket unless the same form reopens it; notes are still allowed', async () => {
      await rows("update tickets set status = 'closed' where id = ?", [ticket.id]);
      await signIn();
      const before = await tenantRows();
      const refused = await browser.submit(page(), replyPath(), {
        visibility: 'public',
        body: 'Hello again',
      });
      assert.equal(refused.status, 422);
      assert.match($(refused.text)('#body-error').text(), /This ticket is closed/);
      assert.equal($(refused.text)('#body').text(), 'Hello again');
      assert.deepEqual(await tenantRows(), before);

      const note = await browser.submit(page(), replyPath(), {
        visibility: 'internal',
        body: 'Customer called back',
      });
      assert.equal(note.status, 303);
      assert.equal((await reloadTicket(ticket)).status, 'closed');

      const reopened = await browser.submit(page(), replyPath(), {
        visibility: 'public',
        body: 'Reopening for you',
        replyStatus: 'open',
      });
      assert.equal(reopened.status, 303);
      assert.equal((await reloadTicket(ticket)).status, 'open');
      assert.equal((await t.deliverMail()).length, 1);
    });

    it('escapes what agents and customers typed on the page', async () => {
      await signIn();
      await browser.submit(page(), replyPath(), {
        visibility: 'internal',
        body: '<script>alert(1)</script>',
      });
      const res = await browser.get(page());
      assert.ok(!res.text.includes('<script>alert(1)</script>'));
      assert.equal(
        $(res.text)('li.message-internal .message-body').text(),
        '<script>alert(1)</script>',
      );
    });

    it('answers 404 to a reply or status change for an unknown ticket, and stores nothing', async () => {
      await signIn();
      const before = await tenantRows();
      for (const action of [
        replyPath('ACME-9999'),
        statusPath('ACME-9999'),
        replyPath('nonsense'),
      ]) {
        const res = await browser.submit(page(), action, {
          visibility: 'public',
          body: 'Hi',
          status: 'closed',
        });
        assert.equal(res.status, 404, action);
      }
      assert.deepEqual(await tenantRows(), before);
    });

    it('refuses a reply without the CSRF token', async () => {
      await signIn();
      const before = await tenantRows();
      const res = await browser.post(replyPath(), { visibility: 'public', body: 'Forged' });
      assert.equal(res.status, 403);
      assert.deepEqual(await tenantRows(), before);
    });
  });

  describe('changing the status', () => {
    for (const status of ['pending', 'resolved', 'closed', 'open'] as const) {
      it(`sets the ticket to ${status} and shows it, without mailing the customer`, async () => {
        await rows("update tickets set status = 'pending' where id = ?", [ticket.id]);
        await signIn();
        const res = await browser.submit(page(), statusPath(), { status });
        assert.equal(res.status, 303);
        assert.equal(res.headers.location, page());
        assert.equal((await reloadTicket(ticket)).status, status);
        const p = $((await browser.get(page())).text);
        assert.match(p('[role=status]').text(), /Status changed to/);
        assert.equal(p('#status option[selected]').attr('value'), status);
        assert.deepEqual(await t.deliverMail(), []);
      });
    }

    it('refuses an unknown status with 422 and changes nothing', async () => {
      await signIn();
      const before = await tenantRows();
      for (const status of ['deleted', '', 'OPEN']) {
        const res = await browser.submit(page(), statusPath(), { status });
        assert.equal(res.status, 422, `refused: ${status}`);
        const p = $(res.text);
        assert.equal(p('.error-summary a').attr('href'), '#status');
        assert.match(p('#status-error').text(), /Choose a status from the list/);
        assert.match(p('#status').attr('aria-describedby') ?? '', /status-error/);
      }
      const res = await browser.submit(page(), statusPath(), {});
      assert.equal(res.status, 422, 'missing');
      assert.deepEqual(await tenantRows(), before);
    });
  });
});

describe('agent opens a ticket for a requester', () => {
  let passwordHash: string;
  let t: TestApp;
  let acme: Workspace;
  let browser: Browser;

  before(async () => {
    passwordHash = await hashPassword(PASSWORD);
  });

  beforeEach(async () => {
    t = makeTestApp();
    acme = await aWorkspace('acme');
    await anAgent(acme, { email: 'alex@acme.test', name: 'Alex Agent', passwordHash });
    browser = new Browser(t);
    assert.equal((await browser.signInAgent('alex@acme.test', PASSWORD)).status, 303);
  });

  const form = {
    email: ' New.Person@Example.com ',
    name: 'New Person',
    subject: 'Phoned about invoices',
    body: 'Cannot download the October invoice.',
  };

  it('shows a form with labelled fields for email, name, subject and first message', async () => {
    const res = await browser.get('/admin/tickets/new');
    assert.equal(res.status, 200);
    const p = $(res.text);
    assert.equal(p('h1').length, 1);
    const f = p('form[action="/admin/tickets/new"]');
    assert.equal(f.attr('method'), 'post');
    for (const [id, label] of [
      ['email', "Requester's email address"],
      ['name', "Requester's name"],
      ['subject', 'Subject'],
      ['body', 'First message'],
    ]) {
      assert.equal(p(`label[for=${id}]`).text().trim(), label);
      assert.equal(f.find(`#${id}[name=${id}]`).length, 1, id);
    }
  });

  it('sends a signed-out visitor to the sign-in page', async () => {
    const res = await new Browser(t).get('/admin/tickets/new');
    assert.equal(res.status, 303);
    assert.equal(res.headers.location, '/admin/login');
  });

  it("creates the requester, files the first message as the requester's public message and redirects 303 to the ticket", async () => {
    const res = await browser.submit('/admin/tickets/new', '/admin/tickets/new', form);
    assert.equal(res.status, 303);
    assert.equal(res.headers.location, '/admin/tickets/ACME-1001');
    const [requester, ...others] = await rows<{ id: string; email: string; name: string }>(
      'select id, email, name from requesters',
    );
    assert.equal(others.length, 0);
    assert.deepEqual(
      { email: requester!.email, name: requester!.name },
      { email: 'new.person@example.com', name: 'New Person' },
    );
    const [ticket] = await rows<{
      id: string;
      subject: string;
      status: string;
      requester_id: string;
    }>('select id, subject, status, requester_id from tickets');
    assert.deepEqual(
      { subject: ticket!.subject, status: ticket!.status, requester: ticket!.requester_id },
      { subject: 'Phoned about invoices', status: 'open', requester: requester!.id },
    );
    assert.deepEqual(await messageRows(ticket!), [
      {
        author_kind: 'requester',
        author_name: 'New Person',
        user_id: null,
        requester_id: requester!.id,
        body: 'Cannot download the October invoice.',
        internal: false,
      },
    ]);
    const p = $((await browser.get(res.headers.location)).text);
    assert.match(p('[role=status]').text(), /ACME-1001 opened/);
    assert.equal(p('h1').text().trim(), 'Phoned about invoices');
  });

  it('files the ticket under an existing requester, keeping their name, and it shows in their portal', async () => {
    const existing = await aRequester(acme, 'new.person@example.com', 'Known Name');
    const res = await browser.submit('/admin/tickets/new', '/admin/tickets/new', form);
    assert.equal(res.status, 303);
    const requesters = await rows<{ id: string; name: string }>('select id, name from requesters');
    assert.deepEqual(requesters, [{ id: existing.id, name: 'Known Name' }]);
    assert.equal(
      (await messageRows((await rows<{ id: string }>('select id from tickets'))[0]!))[0]!
        .author_name,
      'Known Name',
    );

    const customer = new Browser(t);
    await customer.signIn('new.person@example.com');
    const ticketPage = await customer.get('/tickets/ACME-1001');
    assert.equal(ticketPage.status, 200);
    assert.equal(
      $(ticketPage.text)('.message-body').text(),
      'Cannot download the October invoice.',
    );
  });

  it('fills in the name of a requester who had none yet', async () => {
    await aRequester(acme, 'new.person@example.com', '');
    await browser.submit('/admin/tickets/new', '/admin/tickets/new', form);
    assert.deepEqual(await rows('select name from requesters'), [{ name: 'New Person' }]);
  });

  it('refuses bad input with 422, every problem in the summary, values kept, nothing stored', async () => {
    const before = await tenantRows();
    const res = await browser.submit('/admin/tickets/new', '/admin/tickets/new', {
      email: 'not an address',
      name: '',
      subject: 'x'.repeat(defaultLimits.subject + 1),
      body: '',
    });
    assert.equal(res.status, 422);
    const p = $(res.text);
    assert.match(p('title').text(), /^Error: /);
    assert.deepEqual(
      p('.error-summary a')
        .toArray()
        .map((a) => p(a).attr('href')),
      ['#email', '#name', '#subject', '#body'],
    );
    for (const id of ['email', 'name', 'subject', 'body']) {
      assert.match(p(`#${id}`).attr('aria-describedby') ?? '', new RegExp(`${id}-error`));
    }
    assert.equal(p('#email').attr('value'), 'not an address');
    assert.deepEqual(await tenantRows(), before);
  });
});
