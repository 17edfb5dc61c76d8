import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { HOUR, makeTestApp, type TestApp } from '../helpers/app';
import { $, Browser, csrfTokenOf, signInLinkOf } from '../helpers/client';
import { aRequester, aTicket, aWorkspace, rows } from '../helpers/fixtures';

describe('portal sign-in by magic link', () => {
  let t: TestApp;
  let browser: Browser;

  beforeEach(async () => {
    t = makeTestApp();
    browser = new Browser(t);
    await aWorkspace('acme');
  });

  async function requestLink(email: string, b = browser): Promise<string> {
    const res = await b.submit('/tickets/login', '/tickets/login', { email });
    assert.equal(res.status, 200);
    const mails = await t.deliverMail();
    assert.equal(mails.length, 1, 'exactly one mail');
    return new URL(signInLinkOf(mails[0]!.text)).pathname;
  }

  it('shows a page with one labelled email field', async () => {
    const res = await browser.get('/tickets/login');
    assert.equal(res.status, 200);
    const page = $(res.text);
    assert.equal(page('h1').length, 1);
    assert.equal(page('form input[type=email]').length, 1);
    assert.equal(page('label[for=email]').text(), 'Email address');
  });

  it('answers the same page for a known and an unknown address, and mails each one link', async () => {
    const workspace = await aWorkspace('other');
    await aRequester(workspace, 'known@example.com');
    const known = await browser.submit('/tickets/login', '/tickets/login', {
      email: 'known@example.com',
    });
    const unknown = await browser.submit('/tickets/login', '/tickets/login', {
      email: 'nobody@example.com',
    });
    assert.equal(known.status, unknown.status);
    const main = (html: string) =>
      $(html)('main')
        .text()
        .replace(/\S+@example\.com/, 'ADDRESS');
    assert.equal(main(known.text), main(unknown.text));
    assert.match($(known.text)('h1').text(), /Check your email/);
    const mails = await t.deliverMail();
    assert.deepEqual(mails.map((m) => m.to).sort(), ['known@example.com', 'nobody@example.com']);
    assert.ok(
      mails.every((m) => m.text.length > 0 && m.html.length > 0),
      'text and HTML parts',
    );
  });

  it('stores only a SHA-256 hash of a 32-byte token, bound to workspace and address, valid one hour', async () => {
    const path = await requestLink('Jo@Example.COM ');
    const token = path.split('/').pop()!;
    assert.ok(Buffer.from(token, 'base64url').length >= 32);
    const [row] = await rows<{
      email: string;
      token_hash: Buffer;
      expires_at: Date;
      created_at: Date;
      workspace_id: string;
    }>('select email, token_hash, expires_at, workspace_id from login_tokens');
    assert.equal(row!.email, 'jo@example.com', 'stored normalised');
    assert.deepEqual(row!.token_hash, createHash('sha256').update(token).digest());
    assert.equal(row!.expires_at.getTime() - t.clock.now().getTime(), HOUR);
    const dump = JSON.stringify(await rows('select * from login_tokens'));
    assert.ok(!dump.includes(token), 'the token itself is not stored');
  });

  it('refuses malformed addresses with a message and sends nothing', async () => {
    for (const email of [
      '',
      'no-at-sign',
      'a@b.com, c@d.com',
      'a@b.com;c@d.com',
      '"quoted"@example.com',
      'Jo <jo@example.com>',
      'jo @example.com',
      'jo@exa\u0000mple.com',
      `${'a'.repeat(250)}@example.com`,
    ]) {
      const res = await browser.submit('/tickets/login', '/tickets/login', { email });
      assert.equal(res.status, 422, `refused: ${JSON.stringify(email)}`);
      const page = $(res.text);
      assert.match(page('title').text(), /^Error: /);
      assert.equal(page('.error-summary a').attr('href'), '#email');
      const message = page('#email-error').text().replace('Error:', '').trim();
      assert.ok(message.length > 10, 'a message by the field');
      assert.equal(
        page('.error-summary a').text().trim(),
        message,
        'the same words in the summary',
      );
      assert.match(page('#email').attr('aria-describedby') ?? '', /email-error/);
    }
    assert.equal((await t.deliverMail()).length, 0);
    assert.equal((await rows('select id from login_tokens')).length, 0);
  });

  it('opening the link (GET or HEAD) shows a confirm button and does not spend the token', async () => {
    const path = await requestLink('jo@example.com');
    const head = await browser.agent.head(path).set('Host', 'acme.localhost');
    assert.equal(head.status, 200);
    const first = await browser.get(path);
    const second = await browser.get(path);
    assert.equal(first.status, 200);
    assert.equal(second.status, 200);
    assert.equal($(second.text)('form button').text().trim(), 'Sign in');
    const [token] = await rows<{ used_at: Date | null }>('select used_at from login_tokens');
    assert.equal(token!.used_at, null);
  });

  it('confirming signs in with a new session id, creates the requester and redirects to the list', async () => {
    const path = await requestLink('new@example.com');
    const page = await browser.get(path);
    assert.equal(browser.cookie('portal_sid'), undefined, 'reading pages starts no session');
    // A session from before (here a visitor's, from a ticket opened without an account) is
    // never carried into the signed-in one.
    await browser.submit('/tickets/new', '/tickets/new', {
      name: 'Newcomer',
      email: 'someone-else@example.com',
      subject: 'Before signing in',
      description: 'Opened without an account.',
    });
    const before = browser.cookie('portal_sid');
    assert.ok(before, 'a visitor session exists before sign-in');
    const res = await browser.post(path, { _csrf: csrfTokenOf(page.text) });
    assert.equal(res.status, 303);
    assert.equal(res.headers.location, '/tickets');
    const after = browser.cookie('portal_sid');
    assert.ok(after && after !== before, 'session id regenerated');
    const list = await browser.get('/tickets');
    assert.match($(list.text)('h1').text(), /Your tickets/);
    const sessions = await rows<{ sid: string }>('select sid from portal_sessions');
    assert.equal(sessions.length, 1, 'the visitor session row is gone');
    const requesters = await rows<{ email: string }>('select email from requesters order by email');
    assert.deepEqual(
      requesters.map((r) => r.email),
      ['new@example.com', 'someone-else@example.com'],
    );
    const [token] = await rows<{ used_at: Date | null; token_hash: Buffer | null }>(
      'select used_at, token_hash from login_tokens',
    );
    assert.ok(token!.used_at);
    assert.equal(token!.token_hash, null, 'the hash is cleared when used');
  });

  it('a used sign-in link gives no session', async () => {
    const path = await requestLink('jo@example.com');
    await browser.submit(path, path);
    const other = new Browser(t);
    const page = await other.get(path);
    assert.equal(page.status, 410);
    assert.match($(page.text)('h1').text(), /expired or was already used/);
    const res = await other.post(path, { _csrf: csrfTokenOf(page.text) });
    assert.equal(res.status, 410);
    assert.equal($(res.text)('form input[type=email]').length, 1, 'offers a new link');
    const list = await other.get('/tickets');
    assert.match($(list.text)('h1').text(), /Get help/, 'still signed out');
  });

  it('of two simultaneous confirmations exactly one wins', async () => {
    const path = await requestLink('jo@example.com');
    const a = new Browser(t);
    const b = new Browser(t);
    const [pageA, pageB] = await Promise.all([a.get(path), b.get(path)]);
    const results = await Promise.all([
      a.post(path, { _csrf: csrfTokenOf(pageA.text) }),
      b.post(path, { _csrf: csrfTokenOf(pageB.text) }),
    ]);
    assert.deepEqual(results.map((r) => r.status).sort(), [303, 410]);
  });

  it('an expired link gives no session', async () => {
    const path = await requestLink('jo@example.com');
    t.clock.advance(HOUR + 1);
    const page = await browser.get(path);
    assert.equal(page.status, 410);
    const res = await browser.post(path, { _csrf: csrfTokenOf(page.text) });
    assert.equal(res.status, 410);
  });

  it('a link from another workspace gives no session there', async () => {
    await aWorkspace('globex');
    const path = await requestLink('jo@example.com');
    const elsewhere = new Browser(t, 'globex.localhost');
    const page = await elsewhere.get(path);
    assert.equal(page.status, 410);
    const res = await elsewhere.post(path, { _csrf: csrfTokenOf(page.text) });
    assert.equal(res.status, 410);
    const [token] = await rows<{ used_at: Date | null }>('select used_at from login_tokens');
    assert.equal(token!.used_at, null, 'still usable in its own workspace');
  });

  it('a malformed link answers the expired page', async () => {
    for (const bad of [
      '/tickets/login/abc',
      `/tickets/login/${'x'.repeat(43)}!`,
      '/tickets/login/%00',
    ]) {
      const res = await browser.get(bad);
      assert.ok([404, 410].includes(res.status), `${bad}: ${res.status}`);
    }
  });

  it('signing in as an existing requester reaches their tickets', async () => {
    const workspace = (
      await rows<{ id: string }>("select id from workspaces where slug = 'acme'")
    )[0]!;
    const jo = await aRequester(
      { id: workspace.id, slug: 'acme' } as never,
      'jo@example.com',
      'Jo',
    );
    await aTicket({ id: workspace.id, slug: 'acme' } as never, jo, {
      subject: 'Old printer problem',
    });
    await browser.signIn('JO@example.com');
    const list = await browser.get('/tickets');
    assert.match(list.text, /Old printer problem/);
  });

  describe('rate limits', () => {
    it('a second request inside a minute answers the same page and sends nothing', async () => {
      await requestLink('jo@example.com');
      const res = await browser.submit('/tickets/login', '/tickets/login', {
        email: 'jo@example.com',
      });
      assert.equal(res.status, 200);
      assert.match($(res.text)('h1').text(), /Check your email/);
      assert.equal((await t.deliverMail()).length, 0);
      assert.equal((await rows('select id from login_tokens')).length, 1);
    });

    it('over five requests an hour for one address answers 429, known or not', async () => {
      const workspace = (
        await rows<{ id: string }>("select id from workspaces where slug = 'acme'")
      )[0]!;
      await aRequester({ id: workspace.id } as never, 'known@example.com');
      for (const email of ['known@example.com', 'unknown@example.com']) {
        for (let i = 0; i < 5; i += 1) {
          const ok = await browser.submit('/tickets/login', '/tickets/login', { email });
          assert.equal(ok.status, 200);
        }
        const res = await browser.submit('/tickets/login', '/tickets/login', { email });
        assert.equal(res.status, 429);
        assert.match($(res.text)('h1').text(), /Too many attempts/);
        assert.ok(res.headers['retry-after']);
      }
    });

    it('over twenty requests an hour from one IP answers 429', async () => {
      for (let i = 0; i < 20; i += 1) {
        const ok = await browser.submit('/tickets/login', '/tickets/login', {
          email: `p${i}@example.com`,
        });
        assert.equal(ok.status, 200);
      }
      const res = await browser.submit('/tickets/login', '/tickets/login', {
        email: 'p21@example.com',
      });
      assert.equal(res.status, 429);
    });

    it('requests an IP is refused do not use up an address’s hourly budget', async () => {
      t = makeTestApp({ env: { TRUST_PROXY: 'true' } });
      const from = (ip: string) => ({ 'X-Forwarded-For': ip });
      const attacker = new Browser(t);
      for (let i = 0; i < 20; i += 1) {
        const ok = await attacker.submit(
          '/tickets/login',
          '/tickets/login',
          { email: `p${i}@example.com` },
          from('203.0.113.7'),
        );
        assert.equal(ok.status, 200);
      }
      for (let i = 0; i < 10; i += 1) {
        const refused = await attacker.submit(
          '/tickets/login',
          '/tickets/login',
          { email: 'victim@example.com' },
          from('203.0.113.7'),
        );
        assert.equal(refused.status, 429);
      }
      // The address's five an hour are all still there for its owner, elsewhere.
      const owner = new Browser(t);
      for (let i = 0; i < 5; i += 1) {
        const ok = await owner.submit(
          '/tickets/login',
          '/tickets/login',
          { email: 'victim@example.com' },
          from('198.51.100.9'),
        );
        assert.equal(ok.status, 200, `request ${i + 1}`);
      }
    });
  });
});
