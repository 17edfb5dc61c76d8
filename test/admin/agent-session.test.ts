import assert from 'node:assert/strict';
import request from 'supertest';
import type { Response } from 'supertest';
import type { Workspace } from '../../src/models/workspaces';
import { hashPassword, verifyPassword } from '../../src/services/passwords';
import { makeTestApp, type TestApp } from '../helpers/app';
import { $, Browser, csrfTokenOf, HttpsBrowser, setCookieLine } from '../helpers/client';
import { aRequester, aTicket, aWorkspace, anAgent, rows } from '../helpers/fixtures';

const PASSWORD = 'correct horse battery staple';

/** The session id inside a signed cookie value (s:<id>.<signature>, URL-encoded). */
function sidOf(cookieValue: string | undefined): string {
  assert.ok(cookieValue, 'a session cookie');
  const match = /^s:([^.]+)\./.exec(decodeURIComponent(cookieValue));
  assert.ok(match, `a signed session cookie: ${cookieValue}`);
  return match[1]!;
}

interface SessionRow {
  sid: string;
  sess: { userId?: string; requesterId?: string; workspaceId?: string };
}

function sessionRows(table: 'admin_sessions' | 'portal_sessions'): Promise<SessionRow[]> {
  return rows<SessionRow>(`select sid, sess from ${table} order by sid`);
}

function setCookieOf(res: Response, name: string): string {
  const header = res.headers['set-cookie'] as unknown as string[] | undefined;
  const cookie = (header ?? []).find((c) => c.startsWith(`${name}=`));
  assert.ok(cookie, `Set-Cookie for ${name}`);
  return cookie;
}

/** A request carrying exactly the given Cookie header, outside any browser's jar. */
function withCookie(t: TestApp, path: string, cookie: string) {
  return request(t.app).get(path).set('Host', 'acme.localhost').set('Cookie', cookie).redirects(0);
}

async function signOutAgent(b: Browser): Promise<Response> {
  const page = await b.get('/admin/tickets');
  return b.post('/admin/logout', { _csrf: csrfTokenOf(page.text) });
}

async function signOutRequester(b: Browser): Promise<Response> {
  const page = await b.get('/tickets');
  return b.post('/tickets/logout', { _csrf: csrfTokenOf(page.text) });
}

/** The main content without the per-request CSRF token, to compare two answers. */
function mainWithoutToken(html: string): string {
  const page = $(html);
  page('input[name=_csrf]').remove();
  return page('main').html() ?? '';
}

describe('agent sign-in', () => {
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
  });

  it('shows a form with labelled email and password fields', async () => {
    const res = await browser.get('/admin/login');
    assert.equal(res.status, 200);
    const page = $(res.text);
    assert.equal(page('h1').length, 1);
    const form = page('form[action="/admin/login"]');
    assert.equal(form.attr('method'), 'post');
    assert.equal(page('label[for=email]').text().trim(), 'Email address');
    assert.equal(page('label[for=password]').text().trim(), 'Password');
    assert.equal(form.find('#email').attr('type'), 'email');
    assert.equal(form.find('#password').attr('type'), 'password');
    assert.equal(form.find('#password').attr('autocomplete'), 'current-password');
  });

  it('signs in with the right password: 303 to the inbox and a session made at sign-in, none before', async () => {
    await browser.get('/admin/login');
    assert.equal(
      browser.cookie('admin_sid', '/admin'),
      undefined,
      'the form page starts no session',
    );
    const res = await browser.signInAgent('Alex@ACME.test ', PASSWORD);
    assert.equal(res.status, 303);
    assert.equal(res.headers.location, '/admin/tickets');
    const after = sidOf(browser.cookie('admin_sid', '/admin'));
    const sessions = await sessionRows('admin_sessions');
    assert.deepEqual(
      sessions.map((s) => s.sid),
      [after],
      'one session row: the one made at sign-in',
    );
    const [user] = await rows<{ id: string }>('select id from users');
    assert.equal(sessions[0]!.sess.userId, user!.id);
    assert.equal(sessions[0]!.sess.workspaceId, acme.id);
    const inbox = await browser.get('/admin/tickets');
    assert.equal(inbox.status, 200);
    assert.match($(inbox.text)('footer').text(), /Signed in as Alex Agent/);
  });

  it('answers a wrong password and an unknown address with the same status and the same page', async function () {
    this.timeout(60_000);
    const wrongPassword = await browser.signInAgent('alex@acme.test', 'not the password');
    const unknownAddress = await new Browser(t).signInAgent('nobody@acme.test', PASSWORD);
    assert.equal(wrongPassword.status, 422);
    assert.equal(unknownAddress.status, 422);
    assert.equal(
      mainWithoutToken(wrongPassword.text),
      mainWithoutToken(unknownAddress.text).replace('nobody@acme.test', 'alex@acme.test'),
    );
    const page = $(wrongPassword.text);
    assert.match(page('title').text(), /^Error: /);
    assert.match(page('#email-error').text(), /email address or password is not right/);
    assert.equal(page('#password').attr('value'), '', 'the password is not sent back');

    // The same address, known in one workspace and unknown in another: not one character differs.
    await aWorkspace('globex');
    const unknownThere = await new Browser(t, 'globex.localhost').signInAgent(
      'alex@acme.test',
      'not the password',
    );
    assert.equal(unknownThere.status, wrongPassword.status);
    assert.equal(mainWithoutToken(unknownThere.text), mainWithoutToken(wrongPassword.text));

    assert.equal((await browser.get('/admin/tickets')).status, 303, 'not signed in');
    assert.ok((await sessionRows('admin_sessions')).every((s) => s.sess.userId === undefined));
  });

  it('refuses an empty form with 422 and a message by each field', async () => {
    const res = await browser.signInAgent('', '');
    assert.equal(res.status, 422);
    const page = $(res.text);
    assert.deepEqual(
      page('.error-summary a')
        .toArray()
        .map((a) => page(a).attr('href')),
      ['#email', '#password'],
    );
    assert.match(page('#password-error').text(), /Enter your password/);
  });

  it('locks an account after 5 failed attempts: the 6th gets the 429 page even with the right password', async function () {
    this.timeout(60_000);
    await anAgent(acme, { email: 'sam@acme.test', name: 'Sam', passwordHash });
    for (let i = 0; i < 5; i++) {
      assert.equal(
        (await browser.signInAgent('alex@acme.test', `wrong ${i}`)).status,
        422,
        `attempt ${i + 1}`,
      );
    }
    const locked = await browser.signInAgent('alex@acme.test', PASSWORD);
    assert.equal(locked.status, 429);
    assert.equal($(locked.text)('h1').text().trim(), 'Too many attempts');
    assert.ok(Number(locked.headers['retry-after']) > 0, 'Retry-After');
    assert.ok(Number(locked.headers['retry-after']) <= 15 * 60, 'within 15 minutes');
    assert.ok(
      (await sessionRows('admin_sessions')).every((s) => s.sess.userId === undefined),
      'no session',
    );
    // The limit is per account: another account from the same address still signs in.
    assert.equal((await new Browser(t).signInAgent('sam@acme.test', PASSWORD)).status, 303);
  });

  it('a successful sign-in clears the failures counted against the account', async function () {
    this.timeout(60_000);
    for (let i = 0; i < 4; i++) await browser.signInAgent('alex@acme.test', `wrong ${i}`);
    assert.equal((await browser.signInAgent('alex@acme.test', PASSWORD)).status, 303);
    const other = new Browser(t);
    for (let i = 0; i < 4; i++) {
      assert.equal((await other.signInAgent('alex@acme.test', `wrong again ${i}`)).status, 422);
    }
    assert.equal((await other.signInAgent('alex@acme.test', PASSWORD)).status, 303);
  });

  it('locks a client IP after 20 failed attempts on any accounts; other IPs still sign in', async function () {
    this.timeout(120_000);
    t = makeTestApp({ env: { TRUST_PROXY: 'true' } });
    const from = (ip: string) => ({ 'X-Forwarded-For': ip });
    const b = new Browser(t);
    for (let i = 0; i < 20; i++) {
      // Four tries on each of five addresses: no single account reaches its own limit.
      const res = await b.submit(
        '/admin/login',
        '/admin/login',
        { email: `guess${i % 5}@acme.test`, password: 'x' },
        from('203.0.113.7'),
      );
      assert.equal(res.status, 422, `attempt ${i + 1}`);
    }
    const blocked = await b.submit(
      '/admin/login',
      '/admin/login',
      { email: 'alex@acme.test', password: PASSWORD },
      from('203.0.113.7'),
    );
    assert.equal(blocked.status, 429);
    const elsewhere = await new Browser(t).submit(
      '/admin/login',
      '/admin/login',
      { email: 'alex@acme.test', password: PASSWORD },
      from('198.51.100.9'),
    );
    assert.equal(elsewhere.status, 303);
  });

  it('sets the cookie admin_sid with Path=/admin, HttpOnly and SameSite=Lax, not Secure over plain HTTP in tests', async () => {
    const page = await browser.get('/admin/login');
    const res = await browser.post('/admin/login', {
      _csrf: csrfTokenOf(page.text),
      email: 'alex@acme.test',
      password: PASSWORD,
    });
    assert.equal(res.status, 303);
    const cookie = setCookieOf(res, 'admin_sid');
    assert.match(cookie, /; Path=\/admin(;|$)/);
    assert.match(cookie, /; HttpOnly/);
    assert.match(cookie, /; SameSite=Lax/);
    assert.doesNotMatch(cookie, /; Secure/);
  });

  it('marks the cookie Secure in production, and its CSRF cookie is a __Host- cookie', async () => {
    const prod = makeTestApp({ env: { NODE_ENV: 'production', TRUST_PROXY: 'true' } });
    const https = new HttpsBrowser(prod);
    const page = await https.get('/admin/login');
    assert.equal(page.status, 200);
    assert.equal(setCookieLine(page, 'admin_sid'), undefined, 'no session before sign-in');
    const csrf = setCookieOf(page, '__Host-admin_csrf');
    assert.match(csrf, /; Path=\/(;|$)/);
    assert.match(csrf, /; Secure/);
    assert.doesNotMatch(csrf, /; Domain=/i);
    const res = await https.submit('/admin/login', '/admin/login', {
      email: 'alex@acme.test',
      password: PASSWORD,
    });
    assert.equal(res.status, 303);
    const cookie = setCookieOf(res, 'admin_sid');
    assert.match(cookie, /; Path=\/admin(;|$)/);
    assert.match(cookie, /; HttpOnly/);
    assert.match(cookie, /; Secure/);
    assert.match(cookie, /; SameSite=Lax/);
  });

  it('signing out destroys the session row and the next page asks to sign in', async () => {
    await browser.signInAgent('alex@acme.test', PASSWORD);
    const sid = sidOf(browser.cookie('admin_sid', '/admin'));
    assert.equal((await sessionRows('admin_sessions')).filter((s) => s.sid === sid).length, 1);
    const res = await signOutAgent(browser);
    assert.equal(res.status, 303);
    assert.equal(res.headers.location, '/admin/login');
    assert.deepEqual(
      (await sessionRows('admin_sessions')).filter((s) => s.sid === sid),
      [],
      'row gone',
    );
    const after = await browser.get('/admin/tickets');
    assert.equal(after.status, 303);
    assert.equal(after.headers.location, '/admin/login');
    // Replaying the old cookie opens nothing either.
    const replay = await withCookie(
      t,
      '/admin/tickets',
      `admin_sid=${encodeURIComponent(`s:${sid}`)}`,
    );
    assert.equal(replay.status, 303);
  });
});

describe('agent and portal sessions are separate', () => {
  let passwordHash: string;
  let t: TestApp;
  let acme: Workspace;

  before(async () => {
    passwordHash = await hashPassword(PASSWORD);
  });

  beforeEach(async () => {
    t = makeTestApp();
    acme = await aWorkspace('acme');
    const jo = await aRequester(acme, 'jo@example.com', 'Jo');
    await aTicket(acme, jo, { subject: 'Printer on fire' });
    // The same address is a requester in the portal and a user of the agent app.
    await anAgent(acme, { email: 'jo@example.com', name: 'Jo Agent', passwordHash });
  });

  it('a portal cookie opens nothing under /admin, whatever name it is sent under', async () => {
    const customer = new Browser(t);
    await customer.signIn('jo@example.com');
    const value = customer.cookie('portal_sid', '/tickets')!;
    assert.equal((await customer.get('/tickets')).status, 200);
    for (const cookie of [
      `admin_sid=${value}`,
      `portal_sid=${value}`,
      `admin_sid=${value}; portal_sid=${value}`,
    ]) {
      const res = await withCookie(t, '/admin/tickets', cookie);
      assert.equal(res.status, 303, cookie.slice(0, 12));
      assert.equal(res.headers.location, '/admin/login');
      const ticket = await withCookie(t, '/admin/tickets/ACME-1001', cookie);
      assert.equal(ticket.status, 303);
      assert.equal(ticket.headers.location, '/admin/login');
    }
    assert.ok((await sessionRows('admin_sessions')).every((s) => s.sess.userId === undefined));
  });

  it('an agent cookie opens nothing under /tickets', async () => {
    const agent = new Browser(t);
    assert.equal((await agent.signInAgent('jo@example.com', PASSWORD)).status, 303);
    const value = agent.cookie('admin_sid', '/admin')!;
    for (const cookie of [`portal_sid=${value}`, `admin_sid=${value}`]) {
      const home = await withCookie(t, '/tickets', cookie);
      assert.equal(home.status, 200);
      assert.match($(home.text)('h1').text(), /Get help/, 'the signed-out landing page');
      assert.ok(!home.text.includes('Printer on fire'));
      const ticket = await withCookie(t, '/tickets/ACME-1001', cookie);
      assert.equal(ticket.status, 303);
      assert.equal(ticket.headers.location, '/tickets/login');
    }
  });

  it('the same address signed in on both sides holds two independent sessions; signing out of the portal keeps the agent in', async () => {
    const b = new Browser(t);
    await b.signIn('jo@example.com');
    assert.equal((await b.signInAgent('jo@example.com', PASSWORD)).status, 303);

    const [requester] = await rows<{ id: string }>('select id from requesters');
    const [user] = await rows<{ id: string }>('select id from users');
    const portalSid = sidOf(b.cookie('portal_sid', '/tickets'));
    const adminSid = sidOf(b.cookie('admin_sid', '/admin'));
    assert.notEqual(portalSid, adminSid);
    const portalRows = await sessionRows('portal_sessions');
    const adminRows = await sessionRows('admin_sessions');
    assert.deepEqual(
      portalRows.map((r) => r.sid),
      [portalSid],
    );
    assert.deepEqual(
      adminRows.map((r) => r.sid),
      [adminSid],
    );
    assert.equal(portalRows[0]!.sess.requesterId, requester!.id, 'a Requester in the portal');
    assert.equal(portalRows[0]!.sess.userId, undefined);
    assert.equal(adminRows[0]!.sess.userId, user!.id, 'a User in the agent app');
    assert.equal(adminRows[0]!.sess.requesterId, undefined);

    assert.match($((await b.get('/tickets')).text)('h1').text(), /Your tickets/);
    assert.equal((await b.get('/admin/tickets')).status, 200);

    assert.equal((await signOutRequester(b)).status, 303);
    assert.deepEqual(await sessionRows('portal_sessions'), [], 'the portal session is gone');
    assert.match(
      $((await b.get('/tickets')).text)('h1').text(),
      /Get help/,
      'signed out of the portal',
    );
    const admin = await b.get('/admin/tickets');
    assert.equal(admin.status, 200, 'still signed in to the agent app');
    assert.match($(admin.text)('footer').text(), /Signed in as Jo Agent/);
    assert.deepEqual(
      (await sessionRows('admin_sessions')).map((r) => r.sid),
      [adminSid],
    );
  });

  it('signing out of the agent app keeps the same address signed in to the portal', async () => {
    const b = new Browser(t);
    await b.signIn('jo@example.com');
    await b.signInAgent('jo@example.com', PASSWORD);
    const portalSid = sidOf(b.cookie('portal_sid', '/tickets'));

    assert.equal((await signOutAgent(b)).status, 303);
    assert.ok(
      (await sessionRows('admin_sessions')).every((r) => r.sess.userId === undefined),
      'no agent session',
    );
    assert.equal((await b.get('/admin/tickets')).status, 303, 'signed out of the agent app');
    const portal = await b.get('/tickets');
    assert.match($(portal.text)('h1').text(), /Your tickets/, 'still signed in to the portal');
    assert.deepEqual(
      (await sessionRows('portal_sessions')).map((r) => r.sid),
      [portalSid],
    );
  });
});

describe('agent passwords', () => {
  it('are stored as scrypt hashes with a random salt, and only the right password verifies', async function () {
    this.timeout(60_000);
    const a = await hashPassword(PASSWORD);
    const b = await hashPassword(PASSWORD);
    assert.match(a, /^scrypt\$131072\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    assert.notEqual(a, b, 'a fresh salt each time');
    assert.ok(!a.includes(PASSWORD));
    assert.equal(await verifyPassword(PASSWORD, a), true);
    assert.equal(await verifyPassword(`${PASSWORD} `, a), false);
    assert.equal(await verifyPassword('', a), false);
  });

  it('never verifies against a malformed or foreign hash', async () => {
    for (const stored of [
      '',
      'scrypt$unusable',
      'bcrypt$2b$10$abc',
      PASSWORD,
      'scrypt$131072$8$1$$',
    ]) {
      assert.equal(await verifyPassword(PASSWORD, stored), false, stored);
    }
  });
});
