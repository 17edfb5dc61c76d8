import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Response } from 'supertest';
import { withScope } from '../../src/db/scopes';
import { brandVersion } from '../../src/services/branding';
import { setPortalEnabled } from '../../src/services/workspaces';
import { makeTestApp, type TestApp } from '../helpers/app';
import { $, Browser, csrfTokenOf } from '../helpers/client';
import { testDatabase } from '../helpers/database';
import { aRequester, aTicket, aWorkspace, rows } from '../helpers/fixtures';
import type { Workspace } from '../../src/models/workspaces';

const BRAND_COLOUR = '#5a2d82';
/** The real stylesheet URL of workspace acme (colour above, no logo yet: logo version 0). */
const STYLESHEET = `/tickets/brand/${brandVersion(BRAND_COLOUR, 0)}.css`;

function switchPortal(slug: string, enabled: boolean): Promise<Workspace> {
  return withScope(testDatabase().db, { kind: 'system' }, (trx) =>
    setPortalEnabled(trx, slug, enabled),
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

  it('switching the module off shuts out a signed-in session; switching it on lets it back in', async () => {
    const acme = await switchPortal('acme', true);
    const jo = await aRequester(acme, 'jo@example.com', 'Jo');
    await aTicket(acme, jo, { subject: 'Printer on fire' });
    const browser = new Browser(t);
    await browser.signIn('jo@example.com');
    const list = await browser.get('/tickets');
    assert.match($(list.text)('h1').text(), /Your tickets/);
    const token = csrfTokenOf(list.text);

    await switchPortal('acme', false);
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
    assert.equal((await rows('select 1 from messages')).length, 1, 'no reply stored');
    assert.equal((await rows('select 1 from tickets')).length, 1, 'no ticket opened');

    await switchPortal('acme', true);
    const back = await browser.get('/tickets');
    assert.equal(back.status, 200);
    assert.match($(back.text)('h1').text(), /Your tickets/, 'the session survived');
    assert.equal((await browser.get('/tickets/ACME-1001')).status, 200);
  });
});
