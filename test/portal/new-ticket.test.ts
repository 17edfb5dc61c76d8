import assert from 'node:assert/strict';
import { defaultLimits } from '../../src/config';
import { makeTestApp, type TestApp } from '../helpers/app';
import { $, Browser } from '../helpers/client';
import { aRequester, aTicket, aWorkspace, rows } from '../helpers/fixtures';
import type { Workspace } from '../../src/models/workspaces';

interface TicketRow {
  number: number;
  subject: string;
  requester_id: string;
  email: string;
}

function storedTickets(): Promise<TicketRow[]> {
  return rows<TicketRow>(
    `select t.number, t.subject, t.requester_id, r.email
       from tickets t join requesters r on r.workspace_id = t.workspace_id and r.id = t.requester_id
      order by t.number`,
  );
}

async function countOf(table: string): Promise<number> {
  const [row] = await rows<{ n: number }>(`select count(*)::int as n from ${table}`);
  return row!.n;
}

/** Nothing a refused form could have written: no ticket, message, requester, token or mail. */
async function assertNothingStored(): Promise<void> {
  for (const table of ['tickets', 'messages', 'requesters', 'login_tokens', 'mail_outbox']) {
    assert.equal(await countOf(table), 0, `nothing in ${table}`);
  }
}

const anonymous = {
  name: 'Sam Visitor',
  email: 'sam@example.com',
  subject: 'Cannot download my invoice',
  description: 'The download button does nothing.',
};

describe('portal new ticket', () => {
  let t: TestApp;
  let browser: Browser;
  let acme: Workspace;

  beforeEach(async () => {
    t = makeTestApp();
    browser = new Browser(t);
    acme = await aWorkspace('acme');
  });

  function openAnonymously(form: Record<string, string> = {}, b = browser) {
    return b.submit('/tickets/new', '/tickets/new', { ...anonymous, ...form });
  }

  describe('signed in', () => {
    beforeEach(async () => {
      await browser.signIn('jo@example.com');
      await t.deliverMail();
    });

    it('shows a form with subject, description and files only', async () => {
      const res = await browser.get('/tickets/new');
      assert.equal(res.status, 200);
      const form = $(res.text)('main form[action="/tickets/new"]');
      assert.equal(form.length, 1);
      const names = form
        .find('input, textarea')
        .map((_i, el) => $(res.text)(el).attr('name'))
        .get()
        .filter((n) => n !== '_csrf');
      assert.deepEqual(names, ['subject', 'description', 'attachments']);
      assert.equal(form.find('label[for=subject]').length, 1);
      assert.equal(form.find('label[for=description]').length, 1);
    });

    it('creates the ticket with the description as its first public message and redirects 303 to it', async () => {
      const res = await browser.submit('/tickets/new', '/tickets/new', {
        subject: 'Printer on fire',
        description: 'Smoke everywhere.',
      });
      assert.equal(res.status, 303);
      assert.equal(res.headers.location, '/tickets/ACME-1001');

      const [ticket] = await storedTickets();
      assert.equal(ticket!.subject, 'Printer on fire');
      assert.equal(ticket!.email, 'jo@example.com', 'filed under the signed-in requester');
      const messages = await rows<{
        body: string;
        internal: boolean;
        author_kind: string;
        requester_id: string;
      }>('select body, internal, author_kind, requester_id from messages');
      assert.deepEqual(messages, [
        {
          body: 'Smoke everywhere.',
          internal: false,
          author_kind: 'requester',
          requester_id: ticket!.requester_id,
        },
      ]);

      const page = await browser.get('/tickets/ACME-1001');
      assert.equal(page.status, 200);
      const $page = $(page.text);
      assert.equal($page('h1').text().trim(), 'Printer on fire');
      assert.match($page('[role=status]').text(), /Ticket ACME-1001 opened/);
      assert.equal($page('.thread .message-body').first().text().trim(), 'Smoke everywhere.');
    });

    it('numbers tickets per workspace: ACME-1001, ACME-1002, and GLOBEX-1001 independently', async () => {
      const first = await browser.submit('/tickets/new', '/tickets/new', {
        subject: 'One',
        description: 'First.',
      });
      const second = await browser.submit('/tickets/new', '/tickets/new', {
        subject: 'Two',
        description: 'Second.',
      });
      assert.equal(first.headers.location, '/tickets/ACME-1001');
      assert.equal(second.headers.location, '/tickets/ACME-1002');

      await aWorkspace('globex');
      const elsewhere = new Browser(t, 'globex.localhost');
      await elsewhere.signIn('kim@example.com');
      const third = await elsewhere.submit('/tickets/new', '/tickets/new', {
        subject: 'Three',
        description: 'Third.',
      });
      assert.equal(third.status, 303);
      assert.equal(third.headers.location, '/tickets/GLOBEX-1001');

      const fourth = await browser.submit('/tickets/new', '/tickets/new', {
        subject: 'Four',
        description: 'Fourth.',
      });
      assert.equal(fourth.headers.location, '/tickets/ACME-1003');
      assert.deepEqual(
        (await storedTickets()).map((r) => `${r.number} ${r.subject}`),
        ['1001 One', '1001 Three', '1002 Two', '1003 Four'],
      );
    });

    it('refuses an empty form with 422 and stores nothing', async () => {
      const res = await browser.submit('/tickets/new', '/tickets/new', {
        subject: ' ',
        description: '',
      });
      assert.equal(res.status, 422);
      const page = $(res.text);
      assert.deepEqual(
        page('.error-summary a')
          .map((_i, a) => page(a).attr('href'))
          .get(),
        ['#subject', '#description'],
      );
      assert.equal(await countOf('tickets'), 0);
      assert.equal(await countOf('messages'), 0);
    });
  });

  describe('signed out', () => {
    it('shows name, email, subject, description, files and a hidden "website" honeypot', async () => {
      const res = await browser.get('/tickets/new');
      assert.equal(res.status, 200);
      const page = $(res.text);
      const form = page('main form[action="/tickets/new"]');
      const names = form
        .find('input, textarea')
        .map((_i, el) => page(el).attr('name'))
        .get()
        .filter((n) => n !== '_csrf');
      assert.deepEqual(names, [
        'name',
        'email',
        'website',
        'subject',
        'description',
        'attachments',
      ]);
      for (const id of ['name', 'email', 'subject', 'description']) {
        assert.equal(form.find(`label[for=${id}]`).length, 1, `${id} is labelled`);
      }
      const honeypot = form.find('input[name=website]');
      assert.equal(honeypot.attr('tabindex'), '-1');
      assert.equal(honeypot.attr('autocomplete'), 'off');
      assert.ok(honeypot.closest('.hp').length, 'inside the hidden .hp container');
    });

    it('creates the requester and the ticket, mails only the acknowledgement (no sign-in link) and redirects 303 to the ticket', async () => {
      const res = await openAnonymously({ email: 'Sam@Example.com' });
      assert.equal(res.status, 303);
      assert.equal(res.headers.location, '/tickets/ACME-1001');

      const requesters = await rows<{ email: string; name: string }>(
        'select email, name from requesters',
      );
      assert.deepEqual(requesters, [{ email: 'sam@example.com', name: 'Sam Visitor' }]);
      const [ticket] = await storedTickets();
      assert.equal(ticket!.subject, anonymous.subject);
      assert.equal(ticket!.email, 'sam@example.com');
      const messages = await rows<{ body: string; internal: boolean; author_kind: string }>(
        'select body, internal, author_kind from messages',
      );
      assert.deepEqual(messages, [
        { body: anonymous.description, internal: false, author_kind: 'requester' },
      ]);

      const mails = await t.deliverMail();
      assert.deepEqual(
        mails.map((m) => [m.to, m.subject]),
        [['sam@example.com', `We have your ticket ACME-1001: ${anonymous.subject}`]],
        'the acknowledgement only',
      );
      assert.doesNotMatch(mails[0]!.text, /\/tickets\/login\//, 'no sign-in link in it');
      assert.equal(await countOf('login_tokens'), 0, 'no sign-in link made');
    });

    it('lets the visitor see the new ticket, says it is not signed in and offers a sign-in form', async () => {
      const res = await openAnonymously();
      assert.equal(res.headers.location, '/tickets/ACME-1001');
      const page = await browser.get('/tickets/ACME-1001');
      assert.equal(page.status, 200);
      const $page = $(page.text);
      assert.equal($page('h1').text().trim(), anonymous.subject);
      assert.match($page('[role=status]').text(), /Ticket ACME-1001 opened/);
      assert.equal($page('.thread .message-body').first().text().trim(), anonymous.description);
      const notice = $page('.panel-notice');
      assert.match(notice.text(), /You are not signed in/);
      assert.match(notice.text(), /only the tickets you opened in it/);
      const signIn = notice.find('form[action="/tickets/login"]');
      assert.equal(signIn.length, 1, 'a sign-in form on the page');
      assert.equal(signIn.find('input[type=email][name=email]').length, 1);
      assert.ok(signIn.find('input[name=_csrf]').val(), 'with a CSRF token');
    });

    it("reaches only the tickets opened in this session, never the address's older tickets", async () => {
      const sam = await aRequester(acme, 'sam@example.com', 'Sam');
      const older = await aTicket(acme, sam, { subject: 'Older private matter' });
      assert.equal(older.reference, 'ACME-1001');

      const res = await openAnonymously();
      assert.equal(res.headers.location, '/tickets/ACME-1002');
      assert.equal((await browser.get('/tickets/ACME-1002')).status, 200);

      const hidden = await browser.get('/tickets/ACME-1001');
      assert.equal(hidden.status, 404);
      assert.doesNotMatch(hidden.text, /Older private matter/);

      const list = await browser.get('/tickets');
      assert.equal(list.status, 200);
      const $list = $(list.text);
      assert.match($list('h1').text(), /Get help/, 'still the signed-out landing page');
      const links = $list('#session-tickets').closest('section').find('a');
      assert.deepEqual(links.map((_i, a) => $list(a).attr('href')).get(), ['/tickets/ACME-1002']);
      assert.doesNotMatch(list.text, /Older private matter/);
      assert.equal(await countOf('requesters'), 1, 'the existing requester was reused');
    });

    it('a second ticket in the same browser session is reachable too, alongside the first', async () => {
      const first = await openAnonymously({ subject: 'First question' });
      const second = await openAnonymously({ subject: 'Second question' });
      assert.equal(first.headers.location, '/tickets/ACME-1001');
      assert.equal(second.headers.location, '/tickets/ACME-1002');
      assert.equal((await browser.get('/tickets/ACME-1001')).status, 200);
      assert.equal((await browser.get('/tickets/ACME-1002')).status, 200);

      const list = $((await browser.get('/tickets')).text);
      const hrefs = list('#session-tickets')
        .closest('section')
        .find('a')
        .map((_i, a) => list(a).attr('href'))
        .get();
      assert.deepEqual([...hrefs].sort(), ['/tickets/ACME-1001', '/tickets/ACME-1002']);

      const stranger = new Browser(t);
      await openAnonymously({ subject: 'Stranger question' }, stranger);
      assert.equal(
        (await stranger.get('/tickets/ACME-1001')).status,
        404,
        'another visitor cannot see them',
      );
      assert.equal(
        (await browser.get('/tickets/ACME-1003')).status,
        404,
        "nor they the other visitor's",
      );
    });

    it('never overwrites the name of an existing requester', async () => {
      await aRequester(acme, 'sam@example.com', 'Samantha Original');
      const res = await openAnonymously({ name: 'Somebody Else' });
      assert.equal(res.status, 303);
      const requesters = await rows<{ email: string; name: string }>(
        'select email, name from requesters',
      );
      assert.deepEqual(requesters, [{ email: 'sam@example.com', name: 'Samantha Original' }]);
    });

    it('a filled "website" honeypot answers 422 and creates nothing', async () => {
      const res = await openAnonymously({ website: 'http://spam.example' });
      assert.equal(res.status, 422);
      assert.equal(res.headers.location, undefined);
      await assertNothingStored();
      assert.deepEqual(await t.deliverMail(), []);
    });

    describe('rate limit per IP', () => {
      it('answers the 11th anonymous ticket in an hour with 429 and creates nothing', async () => {
        for (let i = 1; i <= 10; i += 1) {
          const ok = await openAnonymously({ subject: `Question ${i}` });
          assert.equal(ok.status, 303, `ticket ${i} accepted`);
        }
        const res = await openAnonymously({ subject: 'Question 11', email: 'other@example.com' });
        assert.equal(res.status, 429);
        assert.match($(res.text)('h1').text(), /Too many/);
        assert.ok(res.headers['retry-after'], 'says when to try again');
        const tickets = await storedTickets();
        assert.equal(tickets.length, 10);
        assert.ok(!tickets.some((r) => r.subject === 'Question 11'));
        assert.deepEqual(
          (await rows<{ email: string }>('select email from requesters')).map((r) => r.email),
          ['sam@example.com'],
        );
      });

      it('follows the configured newTicketPerIpPerHour', async () => {
        t = makeTestApp({ env: { NEW_TICKET_PER_IP_PER_HOUR: '2' } });
        assert.equal(t.deps.config.rateLimits.newTicketPerIpPerHour, 2);
        const b = new Browser(t);
        assert.equal((await openAnonymously({}, b)).status, 303);
        assert.equal((await openAnonymously({}, b)).status, 303);
        assert.equal((await openAnonymously({}, b)).status, 429);
        assert.equal(await countOf('tickets'), 2);
      });
    });

    describe('validation', () => {
      async function assertRefused(
        form: Record<string, string>,
        expectedLinks: string[],
      ): Promise<ReturnType<typeof $>> {
        const res = await openAnonymously(form);
        assert.equal(res.status, 422, JSON.stringify(expectedLinks));
        const page = $(res.text);
        assert.match(page('title').text(), /^Error: /);
        assert.deepEqual(
          page('.error-summary a')
            .map((_i, a) => page(a).attr('href'))
            .get(),
          expectedLinks,
        );
        for (const href of expectedLinks) {
          const id = href.slice(1);
          const message = page(`#${id}-error`).text().replace('Error:', '').trim();
          assert.ok(message.length > 5, `a message by ${id}`);
          assert.equal(
            page(`.error-summary a[href="${href}"]`).text().trim(),
            message,
            'same words in the summary',
          );
          assert.match(page(`#${id}`).attr('aria-describedby') ?? '', new RegExp(`${id}-error`));
        }
        await assertNothingStored();
        assert.deepEqual(await t.deliverMail(), []);
        return page;
      }

      it('refuses missing fields with a summary linking to each of them', async () => {
        await assertRefused({ name: '', email: '', subject: '', description: '' }, [
          '#name',
          '#email',
          '#subject',
          '#description',
        ]);
      });

      it('refuses fields that are only spaces', async () => {
        await assertRefused({ name: '   ', subject: ' \t ', description: '\n\n' }, [
          '#name',
          '#subject',
          '#description',
        ]);
      });

      it('refuses an invalid email address and keeps every submitted value', async () => {
        const page = await assertRefused({ email: 'sam at example.com' }, ['#email']);
        assert.equal(page('#name').val(), anonymous.name);
        assert.equal(page('#email').val(), 'sam at example.com');
        assert.equal(page('#subject').val(), anonymous.subject);
        assert.equal(page('#description').text(), anonymous.description);
      });

      it('refuses an over-long subject and description (limits from config)', async () => {
        const subject = 's'.repeat(defaultLimits.subject + 1);
        const description = 'd'.repeat(defaultLimits.body + 1);
        const page = await assertRefused({ subject, description }, ['#subject', '#description']);
        assert.match(page('#subject-error').text(), new RegExp(`${defaultLimits.subject}`));
        assert.equal(page('#subject').val(), subject, 'values kept');
        assert.equal(page('#description').text(), description);
      });

      it('refuses an over-long name and email', async () => {
        await assertRefused(
          {
            name: 'n'.repeat(defaultLimits.name + 1),
            email: `${'e'.repeat(defaultLimits.email)}@example.com`,
          },
          ['#name', '#email'],
        );
      });

      it('accepts fields exactly at their limits', async () => {
        const res = await openAnonymously({
          name: 'n'.repeat(defaultLimits.name),
          subject: 's'.repeat(defaultLimits.subject),
          description: 'd'.repeat(defaultLimits.body),
        });
        assert.equal(res.status, 303);
        assert.equal(await countOf('tickets'), 1);
      });
    });
  });
});
