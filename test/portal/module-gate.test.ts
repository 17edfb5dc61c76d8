import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Response } from 'supertest';
import { withScope } from '../../src/db/scopes';
import { brandVersion } from '../../src/services/branding';
import { setPortalEnabled } from '../../src/services/workspaces';
import { makeTestApp, MINUTE, type TestApp } from '../helpers/app';
import { $, Browser, csrfTokenOf } from '../helpers/client';
import { testDatabase } from '../helpers/database';
import { anAgentWithPassword, aRequester, aTicket, aWorkspace, rows } from '../helpers/fixtures';
import type { Workspace } from '../../src/models/workspaces';

const BRAND_COLOUR = '#5a2d82';
/** The real stylesheet URL of workspace acme (colour above, no logo yet: logo version 0). */
const STYLESHEET = `/tickets/brand/${brandVersion(BRAND_COLOUR, 0)}.css`;

function switchPortal(slug: string, enabled: boolean, at = new Date()): Promise<Workspace> {
  return withScope(testDatabase().db, { kind: 'system' }, (trx) =>
    setPortalEnabled(trx, slug, enabled, at),
  );
}

interface PortalRequest {
  method: 'GET' | 'POST';
  path: string;
  form?: Record<string, string>;
}

/** Every kind of /tickets URL. */
function portalRequests(): PortalRequest[] {
  return [
    { method: 'GET', path: '/tickets' },
    { method: 'GET', path: '/tickets/login' },
    { method: 'GET', path: '/tickets/new' },
    { method: 'GET', path: '/tickets/ACME-1001' },
    { method: 'GET', path: `/tickets/login/${randomBytes(32).toString('base64url')}` },
    { method: 'GET', path: STYLESHEET },
    { method: 'POST', path: '/tickets/login', form: { email: 'jo@example.com' } },
    {
      method: 'POST',
      path: '/tickets/new',
      form: { name: 'Sam', email: 'sam@example.com', subject: 'Help', description: 'Please.' },
    },
    { method: 'POST', path: '/tickets/logout' },
  ];
}

function send(browser: Browser, r: PortalRequest): Promise<Response> {
  return r.method === 'GET' ? browser.get(r.path) : browser.post(r.path, r.form);
}

function assertPlainNotFound(res: Response, what: string): void {
  assert.equal(res.status, 404, what);
  assert.equal(res.headers.location, undefined, `${what}: no redirect`);
  assert.equal(res.headers['set-cookie'], undefined, `${what}: no cookie`);
  const page = $(res.text);
  assert.equal(page('h1').text().trim(), 'Page not found', `${what}: the plain 404 page`);
  assert.equal(page('form').length, 0, `${what}: no portal forms`);
}

describe('portal module gate', () => {
  let t: TestApp;

  beforeEach(async () => {
    t = makeTestApp();
    const acme = await aWorkspace('acme', { portal: false, color: BRAND_COLOUR });
    assert.equal(
      `/tickets/brand/${brandVersion(acme.primaryColor, acme.logoVersion)}.css`,
      STYLESHEET,
    );
  });

  function labelOf(r: PortalRequest): string {
    return `${r.method} ${r.path.startsWith('/tickets/login/') ? '/tickets/login/<token>' : r.path}`;
  }

  const cases: { title: string; host: string }[] = [
    { title: 'an unknown workspace host', host: 'nope.localhost' },
    { title: 'a host that is not a workspace host (localhost)', host: 'localhost' },
    { title: 'a foreign host (evil.com)', host: 'evil.com' },
    { title: 'a workspace with the portal module off', host: 'acme.localhost' },
  ];

  for (const { title, host } of cases) {
    describe(`for ${title}`, () => {
      for (const r of portalRequests()) {
        it(`${labelOf(r)} answers the plain 404 page`, async () => {
          assertPlainNotFound(await send(new Browser(t, host), r), `${host} ${labelOf(r)}`);
        });
      }

      it('changes nothing: no requester, ticket, sign-in token, mail or session', async () => {
        const browser = new Browser(t, host);
        for (const r of portalRequests()) await send(browser, r);
        for (const table of [
          'requesters',
          'tickets',
          'login_tokens',
          'mail_outbox',
          'portal_sessions',
        ]) {
          assert.deepEqual(await rows(`select 1 from ${table}`), [], `nothing in ${table}`);
        }
        assert.deepEqual(await t.deliverMail(), []);
      });
    });
  }

  it('with the module on, the same URLs are served (the 404s come from the gate)', async () => {
    await switchPortal('acme', true);
    const browser = new Browser(t);
    const statuses: Record<string, number> = {};
    for (const r of portalRequests()) statuses[labelOf(r)] = (await send(browser, r)).status;
    assert.deepEqual(statuses, {
      'GET /tickets': 200,
      'GET /tickets/login': 200,
      'GET /tickets/new': 200,
      'GET /tickets/ACME-1001': 303,
      'GET /tickets/login/<token>': 410,
      [`GET ${STYLESHEET}`]: 200,
      // No CSRF token was sent: the forms exist but refuse.
      'POST /tickets/login': 403,
      'POST /tickets/new': 403,
      'POST /tickets/logout': 403,
    });
  });

  it('switching the module off ends every portal session: switched on again, everyone starts signed out', async () => {
    const acme = await switchPortal('acme', true);
    const jo = await aRequester(acme, 'jo@example.com', 'Jo');
    await aTicket(acme, jo, { subject: 'Printer on fire' });
    const browser = new Browser(t);
    await browser.signIn('jo@example.com');
    const list = await browser.get('/tickets');
    assert.match($(list.text)('h1').text(), /Your tickets/);
    const token = csrfTokenOf(list.text);
    // An anonymous visitor's session (a ticket opened without signing in) ends too.
    const visitor = new Browser(t);
    const form = await visitor.get('/tickets/new');
    await visitor.post('/tickets/new', {
      _csrf: csrfTokenOf(form.text),
      name: 'Sam',
      email: 'sam@example.com',
      subject: 'Lost parcel',
      description: 'Where is it?',
    });
    assert.equal((await visitor.get('/tickets/ACME-1002')).status, 200, 'the visitor sees it');
    // Another workspace's portal sessions are not touched.
    const other = await aWorkspace('globex', { portal: true });
    await aRequester(other, 'jo@example.com', 'Jo');
    const globex = new Browser(t, 'globex.localhost');
    await globex.signIn('jo@example.com');
    const sessionsBefore = await rows<{ sid: string; sess: unknown; expire: Date }>(
      'select sid, sess, expire from portal_sessions',
    );
    assert.equal(sessionsBefore.length, 3);

    await switchPortal('acme', false, t.clock.now());
    assertPlainNotFound(await browser.get('/tickets'), 'the list');
    assertPlainNotFound(await browser.get('/tickets/ACME-1001'), 'the ticket');
    assertPlainNotFound(await browser.get('/tickets/new'), 'the new-ticket form');
    assertPlainNotFound(
      await browser.post('/tickets/ACME-1001/replies', { _csrf: token, body: 'Anyone there?' }),
      'a reply',
    );
    assertPlainNotFound(
      await browser.post('/tickets/new', {
        _csrf: token,
        subject: 'More',
        description: 'Trouble.',
      }),
      'a new ticket',
    );
    assert.equal((await rows('select 1 from messages')).length, 2, 'no reply stored');
    assert.equal((await rows('select 1 from tickets')).length, 2, 'no ticket opened');
    assert.deepEqual(
      (await rows<{ ws: string }>(`select sess->>'workspaceId' as ws from portal_sessions`)).map(
        (r) => r.ws,
      ),
      [other.id],
      "acme's session rows are gone; globex's remains",
    );
    assert.equal((await globex.get('/tickets')).status, 200, 'globex is still signed in');

    // A request in flight at the switch could write its session row back: it still counts as
    // signed out, because it began before the portal was switched off.
    for (const row of sessionsBefore) {
      await testDatabase().db.raw(
        'insert into portal_sessions (sid, sess, expire) values (?, ?, ?) on conflict do nothing',
        [row.sid, JSON.stringify(row.sess), row.expire],
      );
    }

    t.clock.advance(MINUTE);
    await switchPortal('acme', true);
    for (const [who, b] of [
      ['jo', browser],
      ['the visitor', visitor],
    ] as const) {
      const back = await b.get('/tickets');
      assert.equal(back.status, 200, who);
      assert.doesNotMatch($(back.text)('h1').text(), /Your tickets/, `${who} is signed out`);
      const ticket = await b.get(who === 'jo' ? '/tickets/ACME-1001' : '/tickets/ACME-1002');
      assert.equal(ticket.status, 303, `${who}: the ticket page sends to sign-in`);
      assert.equal(ticket.headers.location, '/tickets/login');
    }
  });

  it("the agent app's Modules page switch ends portal sessions too", async () => {
    const acme = await switchPortal('acme', true);
    await aRequester(acme, 'jo@example.com', 'Jo');
    const customer = new Browser(t);
    await customer.signIn('jo@example.com');
    await anAgentWithPassword(acme, {
      email: 'admin@acme.test',
      password: 'correct horse battery staple',
      role: 'admin',
    });
    const agent = new Browser(t);
    await agent.signInAgent('admin@acme.test', 'correct horse battery staple');
    const page = await agent.get('/admin/settings/modules');
    const off = await agent.post('/admin/settings/modules', { _csrf: csrfTokenOf(page.text) });
    assert.equal(off.status, 303);
    assert.deepEqual(await rows('select 1 from portal_sessions'), [], 'portal sessions ended');
    assert.equal((await rows('select 1 from admin_sessions')).length, 1, "the agent's stays");
    const on = await agent.post('/admin/settings/modules', {
      _csrf: csrfTokenOf(page.text),
      portal: 'on',
    });
    assert.equal(on.status, 303);
    const back = await customer.get('/tickets/ACME-1001');
    assert.equal(back.status, 303, 'signed out');
  });
});
