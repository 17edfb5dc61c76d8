import assert from 'node:assert/strict';
import type { Response } from 'supertest';
import { makeTestApp, type TestApp } from '../helpers/app';
import { $, Browser, csrfTokenOf, signInLinkOf } from '../helpers/client';
import {
  aRequester,
  aTicket,
  aWorkspace,
  rows,
  tenantRows,
  type TicketFixture,
} from '../helpers/fixtures';

/**
 * Every state-changing portal request needs the session's CSRF token, from the form field or
 * the X-CSRF-Token header, and must come from the workspace's own origin.
 */
describe('CSRF protection of the portal', () => {
  let t: TestApp;
  let ticket: TicketFixture;
  let openTicket: TicketFixture;
  /** Jo, signed in, owner of a resolved ticket and an open one. */
  let jo: Browser;
  /** Someone without an account who has loaded a portal page (so has a session and a token). */
  let anon: Browser;
  /** A sign-in link for new@example.com that has not been used. */
  let linkPath: string;

  beforeEach(async () => {
    t = makeTestApp();
    const workspace = await aWorkspace('acme');
    const requester = await aRequester(workspace, 'jo@example.com', 'Jo');
    ticket = await aTicket(workspace, requester, { status: 'resolved' });
    openTicket = await aTicket(workspace, requester, { subject: 'Still open' });
    jo = new Browser(t);
    await jo.signIn('jo@example.com');
    anon = new Browser(t);
    await anon.submit('/tickets/login', '/tickets/login', { email: 'new@example.com' });
    const [mail] = await t.deliverMail();
    linkPath = new URL(signInLinkOf(mail!.text)).pathname;
  });

  interface FormCase {
    what: string;
    who: () => Browser;
    page: () => string;
    action: () => string;
    form: () => Record<string, string>;
  }

  const cases: FormCase[] = [
    {
      what: 'asking for a sign-in link',
      who: () => anon,
      page: () => '/tickets/login',
      action: () => '/tickets/login',
      form: () => ({ email: 'someone@example.com' }),
    },
    {
      what: 'opening a ticket without an account',
      who: () => anon,
      page: () => '/tickets/new',
      action: () => '/tickets/new',
      form: () => ({
        name: 'Sam',
        email: 'sam@example.com',
        subject: 'Help',
        description: 'Please.',
      }),
    },
    {
      what: 'opening a ticket signed in',
      who: () => jo,
      page: () => '/tickets/new',
      action: () => '/tickets/new',
      form: () => ({ subject: 'Help', description: 'Please.' }),
    },
    {
      what: 'signing out',
      who: () => jo,
      page: () => '/tickets',
      action: () => '/tickets/logout',
      form: () => ({}),
    },
    {
      what: 'confirming a sign-in link',
      who: () => anon,
      page: () => linkPath,
      action: () => linkPath,
      form: () => ({}),
    },
    {
      what: 'replying to a ticket',
      who: () => jo,
      page: () => `/tickets/${ticket.reference}`,
      action: () => `/tickets/${ticket.reference}/replies`,
      form: () => ({ body: 'Any news?' }),
    },
    {
      what: 'rating a ticket',
      who: () => jo,
      page: () => `/tickets/${ticket.reference}`,
      action: () => `/tickets/${ticket.reference}/rating`,
      form: () => ({ rating: '4', comment: 'Quick help' }),
    },
    {
      what: 'marking a ticket as solved',
      who: () => jo,
      page: () => `/tickets/${openTicket.reference}`,
      action: () => `/tickets/${openTicket.reference}/solve`,
      form: () => ({}),
    },
    {
      what: 'reopening a ticket',
      who: () => jo,
      page: () => `/tickets/${ticket.reference}`,
      action: () => `/tickets/${ticket.reference}/reopen`,
      form: () => ({}),
    },
  ];

  function assertExpiredPage(res: Response): void {
    assert.equal(res.status, 403);
    const page = $(res.text);
    assert.equal(page('h1').text().trim(), 'This form has expired');
    assert.match(page('title').text(), /This form has expired/);
    assert.match(page('main').text(), /Nothing was changed/);
  }

  function assertRefused(res: Response): void {
    assert.equal(res.status, 403);
    assert.match($(res.text)('h1').text(), /This form has expired|You cannot do that here/);
  }

  /** What the refused request must not have touched: rows, Jo's session, the link. */
  async function state(): Promise<unknown> {
    const list = await jo.get('/tickets');
    const anonHome = await anon.get('/tickets');
    return {
      rows: await tenantRows(),
      joSignedIn: $(list.text)('h1').text(),
      anonSignedOut: $(anonHome.text)('h1').text(),
      sessions: (await rows<{ sid: string }>('select sid from portal_sessions order by sid')).map(
        (r) => r.sid,
      ),
    };
  }

  for (const c of cases) {
    describe(c.what, () => {
      it('without a token is refused with the "form has expired" page and changes nothing', async () => {
        const before = await state();
        const res = await c.who().post(c.action(), c.form());
        assertExpiredPage(res);
        assert.deepEqual(await state(), before);
      });

      it('with an empty, a made-up or another session’s token is refused and changes nothing', async () => {
        const other = new Browser(t);
        const othersToken = csrfTokenOf((await other.get('/tickets/login')).text);
        const before = await state();
        for (const token of ['', 'not-a-token', othersToken]) {
          const res = await c.who().post(c.action(), { ...c.form(), _csrf: token });
          assertExpiredPage(res);
        }
        assert.deepEqual(await state(), before);
      });

      it('with a valid token only in the query string is refused and changes nothing', async () => {
        const token = csrfTokenOf((await c.who().get(c.page())).text);
        const before = await state();
        const res = await c
          .who()
          .post(`${c.action()}?_csrf=${encodeURIComponent(token)}`, c.form());
        assertExpiredPage(res);
        assert.deepEqual(await state(), before);
      });

      it('with the valid token is accepted', async () => {
        const before = await state();
        const res = await c.who().submit(c.page(), c.action(), c.form());
        assert.ok([200, 303].includes(res.status), `answered ${res.status}`);
        assert.notDeepEqual(await state(), before, 'the accepted request changed something');
      });
    });
  }

  it('accepts a valid token in the X-CSRF-Token header', async () => {
    const token = csrfTokenOf((await jo.get(`/tickets/${ticket.reference}`)).text);
    const res = await jo.post(
      `/tickets/${ticket.reference}/replies`,
      { body: 'Sent with the header' },
      { 'X-CSRF-Token': token },
    );
    assert.equal(res.status, 303);
    const bodies = await rows<{ body: string }>('select body from messages where body = ?', [
      'Sent with the header',
    ]);
    assert.equal(bodies.length, 1);
  });

  it('refuses a wrong token in the X-CSRF-Token header', async () => {
    const other = new Browser(t);
    const token = csrfTokenOf((await other.get('/tickets')).text);
    const before = await tenantRows();
    const res = await jo.post(
      `/tickets/${ticket.reference}/replies`,
      { body: 'Forged' },
      { 'X-CSRF-Token': token },
    );
    assertExpiredPage(res);
    assert.deepEqual(await tenantRows(), before);
  });

  it('a field token that is not a single string (repeated _csrf) is refused, not an error', async () => {
    const token = csrfTokenOf((await anon.get('/tickets/login')).text);
    const before = await tenantRows();
    const res = await anon.agent
      .post('/tickets/login')
      .set('Host', 'acme.localhost')
      .type('form')
      .send(
        `_csrf=${encodeURIComponent(token)}&_csrf=${encodeURIComponent(token)}&email=a%40example.com`,
      )
      .redirects(0);
    assertExpiredPage(res);
    assert.deepEqual(await tenantRows(), before);
  });

  describe('cross-site requests', () => {
    async function signInRequest(headers: Record<string, string>): Promise<Response> {
      return anon.submit(
        '/tickets/login',
        '/tickets/login',
        { email: 'someone@example.com' },
        headers,
      );
    }

    it('a request marked Sec-Fetch-Site: cross-site is refused even with a valid token', async () => {
      const before = await tenantRows();
      assertRefused(await signInRequest({ 'Sec-Fetch-Site': 'cross-site' }));
      const token = csrfTokenOf((await jo.get(`/tickets/${ticket.reference}`)).text);
      const reply = await jo.post(
        `/tickets/${ticket.reference}/replies`,
        { _csrf: token, body: 'From elsewhere' },
        { 'Sec-Fetch-Site': 'cross-site' },
      );
      assertRefused(reply);
      assert.deepEqual(await tenantRows(), before);
    });

    for (const origin of [
      'http://evil.example',
      'http://globex.localhost:3000',
      'http://acme.localhost',
      'https://acme.localhost:3000',
    ]) {
      it(`a request with Origin ${origin} is refused even with a valid token`, async () => {
        await aWorkspace('globex');
        const before = await tenantRows();
        assertRefused(await signInRequest({ Origin: origin }));
        assert.deepEqual(await tenantRows(), before);
      });
    }

    it('Origin null (sent under Referrer-Policy: no-referrer) is refused when Fetch Metadata says same-site', async () => {
      const before = await tenantRows();
      assertRefused(await signInRequest({ Origin: 'null', 'Sec-Fetch-Site': 'same-site' }));
      assert.deepEqual(await tenantRows(), before);
    });

    it('Origin null is accepted from the same origin (Fetch Metadata) and from browsers without Fetch Metadata', async () => {
      const cases: Record<string, string>[] = [
        { Origin: 'null', 'Sec-Fetch-Site': 'same-origin' },
        { Origin: 'null' },
      ];
      for (const headers of cases) {
        const res = await signInRequest(headers);
        assert.equal(res.status, 200, JSON.stringify(headers));
      }
      assert.equal(
        (await rows("select id from login_tokens where email = 'someone@example.com'")).length,
        1,
      );
    });

    it('Origin null without a valid token is still refused', async () => {
      const before = await tenantRows();
      const res = await new Browser(t).post(
        '/tickets/login',
        { email: 'someone@example.com', _csrf: 'forged' },
        { Origin: 'null' },
      );
      assertRefused(res);
      assert.deepEqual(await tenantRows(), before);
    });

    it('a foreign Origin cannot sign anybody out', async () => {
      const token = csrfTokenOf((await jo.get('/tickets')).text);
      assertRefused(
        await jo.post('/tickets/logout', { _csrf: token }, { Origin: 'http://evil.example' }),
      );
      assert.match($((await jo.get('/tickets')).text)('h1').text(), /Your tickets/);
    });

    it('a request from the workspace’s own origin is accepted', async () => {
      const res = await signInRequest({
        Origin: 'http://acme.localhost:3000',
        'Sec-Fetch-Site': 'same-origin',
      });
      assert.equal(res.status, 200);
      assert.match($(res.text)('h1').text(), /Check your email/);
      assert.equal(
        (await rows("select id from login_tokens where email = 'someone@example.com'")).length,
        1,
      );
    });

    it('a request without Origin or Fetch Metadata (an older browser) is judged by its token alone', async () => {
      const res = await signInRequest({});
      assert.equal(res.status, 200);
      assert.equal(
        (await rows("select id from login_tokens where email = 'someone@example.com'")).length,
        1,
      );
    });
  });

  it('reading pages needs no token', async () => {
    for (const path of ['/tickets', '/tickets/login', '/tickets/new', linkPath]) {
      const res = await anon.get(path);
      assert.equal(res.status, 200, path);
    }
    const head = await anon.agent.head('/tickets/login').set('Host', 'acme.localhost');
    assert.equal(head.status, 200);
  });
});
