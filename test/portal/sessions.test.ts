import assert from 'node:assert/strict';
import request from 'supertest';
import type { Response } from 'supertest';
import { DAY, MINUTE, makeTestApp, type TestApp } from '../helpers/app';
import { $, Browser, HttpsBrowser, setCookieLine, signInLinkOf } from '../helpers/client';
import { aRequester, aTicket, aWorkspace, rows } from '../helpers/fixtures';

/** The store's session id inside a signed cookie value (s:<sid>.<signature>, URL-encoded). */
function sidOf(cookieValue: string): string {
  const decoded = decodeURIComponent(cookieValue);
  assert.ok(decoded.startsWith('s:'), 'a signed cookie');
  return decoded.slice(2, decoded.lastIndexOf('.'));
}

function portalCookieOf(res: Response): string | undefined {
  const header = res.headers['set-cookie'] as unknown as string[] | undefined;
  return header?.find((c) => c.startsWith('portal_sid='));
}

function isSignedIn(res: Response): boolean {
  const page = $(res.text);
  const heading = page('h1').text();
  if (/Your tickets/.test(heading)) return true;
  assert.match(heading, /Get help/, 'either the list or the signed-out landing page');
  return false;
}

describe('portal sessions', () => {
  let t: TestApp;
  let browser: Browser;

  beforeEach(async () => {
    t = makeTestApp();
    browser = new Browser(t);
    const acme = await aWorkspace('acme');
    const jo = await aRequester(acme, 'jo@example.com', 'Jo');
    await aTicket(acme, jo, { subject: 'Printer on fire' });
  });

  /** A request from another client that carries exactly the given Cookie header. */
  function withCookie(path: string, cookie: string): Promise<Response> {
    return request(t.app)
      .get(path)
      .set('Host', 'acme.localhost')
      .set('Cookie', cookie)
      .redirects(0);
  }

  describe('signing out', () => {
    it('destroys the session: its row is gone and the old cookie reaches nothing', async () => {
      await browser.signIn('jo@example.com');
      const cookie = browser.cookie('portal_sid')!;
      const sid = sidOf(cookie);
      assert.equal((await rows('select sid from portal_sessions where sid = ?', [sid])).length, 1);
      assert.ok(isSignedIn(await browser.get('/tickets')));

      const res = await browser.submit('/tickets', '/tickets/logout');
      assert.equal(res.status, 303);
      assert.equal(res.headers.location, '/tickets');
      assert.equal(
        (await rows('select sid from portal_sessions where sid = ?', [sid])).length,
        0,
        'row deleted',
      );

      const replayed = await withCookie('/tickets', `portal_sid=${cookie}`);
      assert.equal(replayed.status, 200);
      assert.equal(isSignedIn(replayed), false, 'the old cookie shows the signed-out landing page');
      const ticket = await withCookie('/tickets/ACME-1001', `portal_sid=${cookie}`);
      assert.equal(ticket.status, 303);
      assert.equal(ticket.headers.location, '/tickets/login');
      assert.equal(
        isSignedIn(await browser.get('/tickets')),
        false,
        'the browser itself is signed out',
      );
    });

    it('needs the CSRF token: without it the answer is 403 and the session lives on', async () => {
      await browser.signIn('jo@example.com');
      const sid = sidOf(browser.cookie('portal_sid')!);
      const res = await browser.post('/tickets/logout');
      assert.equal(res.status, 403);
      assert.equal((await rows('select sid from portal_sessions where sid = ?', [sid])).length, 1);
      assert.ok(isSignedIn(await browser.get('/tickets')));
    });

    it("ends an anonymous visitor's session as well: the ticket opened in it is out of reach", async () => {
      const opened = await browser.submit('/tickets/new', '/tickets/new', {
        name: 'Sam',
        email: 'sam@example.com',
        subject: 'A question',
        description: 'Details.',
      });
      assert.equal(opened.headers.location, '/tickets/ACME-1002');
      const cookie = browser.cookie('portal_sid')!;
      assert.equal((await browser.get('/tickets/ACME-1002')).status, 200);

      const res = await browser.submit('/tickets/ACME-1002', '/tickets/logout');
      assert.equal(res.status, 303);
      assert.equal(
        (await rows('select sid from portal_sessions where sid = ?', [sidOf(cookie)])).length,
        0,
      );
      const replayed = await withCookie('/tickets/ACME-1002', `portal_sid=${cookie}`);
      assert.equal(replayed.status, 303);
      assert.equal(replayed.headers.location, '/tickets/login');
    });
  });

  describe('expiry', () => {
    it('a session survives 6 days without use', async () => {
      await browser.signIn('jo@example.com');
      t.clock.advance(6 * DAY);
      assert.ok(isSignedIn(await browser.get('/tickets')));
      assert.equal((await browser.get('/tickets/ACME-1001')).status, 200);
    });

    it('a session ends after 7 days without use', async () => {
      await browser.signIn('jo@example.com');
      t.clock.advance(7 * DAY + MINUTE);
      assert.equal(isSignedIn(await browser.get('/tickets')), false);
      const ticket = await browser.get('/tickets/ACME-1001');
      assert.equal(ticket.status, 303);
      assert.equal(ticket.headers.location, '/tickets/login');
    });

    it('use keeps a session alive, but never longer than 30 days after sign-in', async () => {
      await browser.signIn('jo@example.com');
      for (let days = 5; days < 30; days += 5) {
        t.clock.advance(5 * DAY);
        assert.ok(isSignedIn(await browser.get('/tickets')), `still signed in after ${days} days`);
      }
      t.clock.advance(5 * DAY);
      assert.equal(isSignedIn(await browser.get('/tickets')), false, 'signed out after 30 days');
      assert.equal((await browser.get('/tickets/ACME-1001')).status, 303);
    });
  });

  describe('the cookies', () => {
    it('a form page sets only the CSRF cookie (Path=/, HttpOnly, SameSite=Lax); signing in sets portal_sid (Path=/tickets)', async () => {
      const res = await browser.get('/tickets/login');
      assert.equal(portalCookieOf(res), undefined, 'no session before sign-in');
      const csrf = setCookieLine(res, 'portal_csrf');
      assert.ok(csrf, 'the form page sets the CSRF cookie');
      const csrfAttributes = csrf.split(';').map((a) => a.trim().toLowerCase());
      for (const a of ['path=/', 'httponly', 'samesite=lax'])
        assert.ok(csrfAttributes.includes(a), csrf);
      assert.ok(!csrfAttributes.includes('secure'), 'not Secure over plain http in tests');

      const signedIn = await browser.signIn('jo@example.com');
      const session = portalCookieOf(signedIn);
      assert.ok(session, 'signing in sets the session cookie');
      const attributes = session.split(';').map((a) => a.trim().toLowerCase());
      for (const a of ['path=/tickets', 'httponly', 'samesite=lax'])
        assert.ok(attributes.includes(a), session);
      assert.ok(!attributes.includes('secure'), session);
    });

    it('are Secure in production: the CSRF cookie is a __Host- cookie and the session cookie Secure', async () => {
      // Production sits behind a TLS-terminating proxy; Secure cookies are sent only over https.
      const prod = makeTestApp({ env: { NODE_ENV: 'production', TRUST_PROXY: '1' } });
      assert.equal(prod.deps.config.secureCookies, true);
      const https = new HttpsBrowser(prod);
      const page = await https.get('/tickets/login');
      assert.equal(page.status, 200);
      assert.equal(portalCookieOf(page), undefined, 'no session before sign-in');
      const csrf = setCookieLine(page, '__Host-portal_csrf');
      assert.ok(csrf, 'a __Host- CSRF cookie');
      const csrfAttributes = csrf.split(';').map((a) => a.trim().toLowerCase());
      for (const a of ['secure', 'path=/', 'httponly', 'samesite=lax'])
        assert.ok(csrfAttributes.includes(a), csrf);
      assert.ok(
        !csrfAttributes.some((a) => a.startsWith('domain=')),
        'a __Host- cookie has no Domain',
      );

      await https.submit('/tickets/login', '/tickets/login', { email: 'jo@example.com' });
      const [mail] = await prod.deliverMail();
      const link = new URL(signInLinkOf(mail!.text)).pathname;
      const signedIn = await https.submit(link, link);
      assert.equal(signedIn.status, 303);
      const session = portalCookieOf(signedIn);
      assert.ok(session, 'signing in sets the session cookie');
      const attributes = session.split(';').map((a) => a.trim().toLowerCase());
      for (const a of ['secure', 'httponly', 'samesite=lax', 'path=/tickets'])
        assert.ok(attributes.includes(a), session);
      assert.match((await https.get('/tickets')).text, /Signed in as jo@example.com/);
    });
  });

  describe('separation from the agent app', () => {
    it('keeps the portal session in portal_sessions and never in admin_sessions', async () => {
      await browser.signIn('jo@example.com');
      const sid = sidOf(browser.cookie('portal_sid')!);
      const [jo] = await rows<{ id: string }>(
        "select id from requesters where email = 'jo@example.com'",
      );
      const stored = await rows<{ sess: { requesterId?: string } }>(
        'select sess from portal_sessions where sid = ?',
        [sid],
      );
      assert.equal(stored.length, 1);
      assert.equal(stored[0]!.sess.requesterId, jo!.id);
      assert.deepEqual(await rows('select sid from admin_sessions'), []);
    });

    it('a cookie named admin_sid carrying a portal session id gets no portal identity', async () => {
      await browser.signIn('jo@example.com');
      const value = browser.cookie('portal_sid')!;
      assert.ok(
        isSignedIn(await withCookie('/tickets', `portal_sid=${value}`)),
        'the value itself is valid',
      );

      const list = await withCookie('/tickets', `admin_sid=${value}`);
      assert.equal(list.status, 200);
      assert.equal(isSignedIn(list), false);
      const ticket = await withCookie('/tickets/ACME-1001', `admin_sid=${value}`);
      assert.equal(ticket.status, 303);
      assert.equal(ticket.headers.location, '/tickets/login');
    });
  });
});
