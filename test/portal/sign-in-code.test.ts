import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { smtpTransport } from '../../src/services/mail-transport';
import { groupCode, newCode, normaliseCode } from '../../src/services/sign-in-codes';
import { MINUTE, makeTestApp, type TestApp } from '../helpers/app';
import { $, Browser, csrfTokenOf, signInCodeOf, signInLinkOf } from '../helpers/client';
import { aWorkspace, rows } from '../helpers/fixtures';
import { parseMime, partOf, TestSmtpServer } from '../helpers/smtp';

const UNAMBIGUOUS = /^[ABCDEFGHJKMNPQRSTVWXYZ23456789]{4}-[ABCDEFGHJKMNPQRSTVWXYZ23456789]{4}$/;
const COOKIE = 'portal_signin_code';

interface TokenRow {
  used_at: Date | null;
  token_hash: Buffer | null;
  code_hash: Buffer | null;
  code_browser: Buffer | null;
  code_attempts: number;
  code_expires_at: Date | null;
}

const tokenRows = () =>
  rows<TokenRow>(
    'select used_at, token_hash, code_hash, code_browser, code_attempts, code_expires_at from login_tokens order by created_at',
  );

describe('portal sign-in by the code in the mail', () => {
  let t: TestApp;
  let browser: Browser;

  beforeEach(async () => {
    t = makeTestApp();
    browser = new Browser(t);
    await aWorkspace('acme');
  });

  /** Asks for a sign-in mail in `b`; answers the link's path and the code the mail shows. */
  async function requestMail(
    email: string,
    b = browser,
  ): Promise<{ link: string; code: string; page: string }> {
    const res = await b.submit('/tickets/login', '/tickets/login', { email });
    assert.equal(res.status, 200);
    // Only this address's mail: an earlier step may have queued another (a ticket's acknowledgement).
    const mails = (await t.deliverMail()).filter((m) => m.to === email);
    assert.equal(mails.length, 1, 'exactly one mail');
    return {
      link: new URL(signInLinkOf(mails[0]!.text)).pathname,
      code: signInCodeOf(mails[0]!.text),
      page: res.text,
    };
  }

  /** Types a code into the "check your email" page this browser shows. */
  async function enterCode(code: string, b = browser): Promise<ReturnType<Browser['post']>> {
    const page = await b.get('/tickets/login/code');
    const token = page.status === 200 ? csrfTokenOf(page.text) : await loginPageToken(b);
    return b.post('/tickets/login/code', { _csrf: token, code });
  }

  async function loginPageToken(b: Browser): Promise<string> {
    return csrfTokenOf((await b.get('/tickets/login')).text);
  }

  function codeError(html: string): string {
    return $(html)('#code-error').text().replace('Error:', '').trim();
  }

  async function isSignedIn(b: Browser): Promise<boolean> {
    return /Your tickets/.test($((await b.get('/tickets')).text)('h1').text());
  }

  /** The browser's key, from its signed cookie (`s:<key>.<signature>`). */
  function browserKeyOf(b: Browser): string {
    const cookie = decodeURIComponent(b.cookie(COOKIE, '/tickets/login') ?? '');
    const match = /^s:([A-Za-z0-9_-]{43})\./.exec(cookie);
    assert.ok(match, 'the browser holds a signed key');
    return match[1]!;
  }

  describe('the code', () => {
    it('has 8 characters from an alphabet without 0, O, 1, I, L, U or V look-alikes, grouped in fours', () => {
      const seen = new Set<string>();
      for (let i = 0; i < 500; i += 1) {
        const grouped = groupCode(newCode());
        assert.match(grouped, UNAMBIGUOUS);
        for (const c of grouped.replace('-', '')) seen.add(c);
      }
      assert.ok(seen.size >= 25, 'drawn from the whole alphabet');
    });

    it('is read with or without the dash, in any case, with spaces around or between', () => {
      for (const typed of ['ABCD-EFGH', 'abcdefgh', ' abcd-EFGH ', 'ABCD EFGH', 'AbCd\u2013eFgH']) {
        assert.equal(normaliseCode(typed), 'ABCDEFGH', JSON.stringify(typed));
      }
      for (const typed of ['', 'ABCD-EFG', 'ABCD-EFGHJ', 'ABCD-EFG0', 'OBCD-EFGH', 'ABC!-EFGH']) {
        assert.equal(normaliseCode(typed), undefined, JSON.stringify(typed));
      }
    });
  });

  describe('the mail', () => {
    let smtp: TestSmtpServer;

    beforeEach(async () => {
      smtp = new TestSmtpServer();
      const port = await smtp.listen();
      t = makeTestApp({
        transport: smtpTransport(`smtp://127.0.0.1:${port}`, 'Support <support@example.com>'),
      });
      browser = new Browser(t);
    });

    afterEach(async () => {
      await smtp.close();
    });

    it('carries the same grouped code in its text and HTML parts, next to the link', async () => {
      await browser.submit('/tickets/login', '/tickets/login', { email: 'jo@example.com' });
      await t.deliverMail();
      assert.equal(smtp.received.length, 1);
      const parts = parseMime(smtp.received[0]!.raw);
      const text = partOf(parts, 'text/plain')!.body;
      const html = partOf(parts, 'text/html')!.body;
      const code = signInCodeOf(text);
      assert.match(code, UNAMBIGUOUS);
      assert.equal(signInCodeOf(html), code);
      assert.match(text, /works only in the browser where you asked to sign in, for 15 minutes/);
      assert.ok(signInLinkOf(text), 'the link is still there');
      assert.ok(!/ABCD-EFGH/.test(text), 'no example code to confuse with the real one');
    });
  });

  describe('the "check your email" page', () => {
    it('has a labelled code field with a hint, one-time-code autocomplete and text input mode', async () => {
      const { page } = await requestMail('jo@example.com');
      const form = $(page)('form[action="/tickets/login/code"]');
      assert.equal(form.attr('method'), 'post');
      const field = form.find('input#code');
      assert.equal(form.find('label[for=code]').text().trim(), 'Sign-in code');
      assert.equal(field.attr('name'), 'code');
      assert.equal(field.attr('autocomplete'), 'one-time-code');
      assert.equal(field.attr('inputmode'), 'text');
      assert.equal(field.attr('aria-describedby'), 'code-hint');
      assert.match($(page)('#code-hint').text(), /8 letters and numbers, like ABCD-EFGH/);
      assert.match($(page)('#code-hint').text(), /only in this browser, for 15 minutes/);
      assert.equal(form.find('button').text().trim(), 'Sign in with the code');
    });

    it('can be shown again in the browser that asked, and sends any other to ask first', async () => {
      await requestMail('jo@example.com');
      const again = await browser.get('/tickets/login/code');
      assert.equal(again.status, 200);
      assert.equal($(again.text)('h1').text(), 'Check your email');
      assert.equal($(again.text)('input#code').length, 1);
      const stranger = await new Browser(t).get('/tickets/login/code');
      assert.equal(stranger.status, 303);
      assert.equal(stranger.headers.location, '/tickets/login');
    });

    it('sets the key in a signed, HttpOnly, SameSite=Strict cookie for the sign-in pages, for 15 minutes', async () => {
      const res = await browser.submit('/tickets/login', '/tickets/login', {
        email: 'jo@example.com',
      });
      const header = (res.headers['set-cookie'] as unknown as string[]).find((c) =>
        c.startsWith(`${COOKIE}=`),
      );
      assert.ok(header, 'the key is set');
      assert.match(header, /; Path=\/tickets\/login(;|$)/);
      assert.match(header, /; HttpOnly/);
      assert.match(header, /; SameSite=Strict/);
      assert.match(header, /; Max-Age=900(;|$)/);
      assert.equal(browser.cookie('portal_sid'), undefined, 'no session is started');
    });
  });

  describe('signing in', () => {
    it('the right code signs in the browser that asked: with the dash, without it, lower case, spaced', async () => {
      const variants = [
        (c: string) => c,
        (c: string) => c.replace('-', ''),
        (c: string) => c.toLowerCase(),
        (c: string) => `  ${c.replace('-', ' ').toLowerCase()} `,
      ];
      for (const [i, variant] of variants.entries()) {
        const b = new Browser(t);
        const { code } = await requestMail(`person${i}@example.com`, b);
        const res = await enterCode(variant(code), b);
        assert.equal(res.status, 303, `variant ${i}`);
        assert.equal(res.headers.location, '/tickets');
        assert.ok(b.cookie('portal_sid'), 'a session');
        assert.equal(b.cookie(COOKIE, '/tickets/login'), undefined, 'the key is cleared');
        assert.ok(await isSignedIn(b));
      }
      const requesters = await rows<{ email: string }>('select email from requesters order by 1');
      assert.deepEqual(
        requesters.map((r) => r.email),
        [0, 1, 2, 3].map((i) => `person${i}@example.com`),
      );
      for (const row of await tokenRows()) {
        assert.ok(row.used_at, 'spent');
        assert.equal(row.token_hash, null, 'the link hash is gone');
        assert.equal(row.code_hash, null, 'the code hash is gone');
      }
    });

    it('a new session replaces one from before, as with the link', async () => {
      await browser.submit('/tickets/new', '/tickets/new', {
        name: 'Newcomer',
        email: 'visitor@example.com',
        subject: 'Before signing in',
        description: 'Opened without an account.',
      });
      const before = browser.cookie('portal_sid');
      assert.ok(before);
      const { code } = await requestMail('jo@example.com');
      assert.equal((await enterCode(code)).status, 303);
      assert.notEqual(browser.cookie('portal_sid'), before, 'session id regenerated');
      assert.equal((await rows('select sid from portal_sessions')).length, 1);
    });

    it('the right code in another browser is refused, and still works where it was asked', async () => {
      const { code } = await requestMail('jo@example.com');
      // A browser with no key at all, and one holding the key of its own request.
      const bare = new Browser(t);
      const own = new Browser(t);
      await requestMail('mallory@example.com', own);
      const refusals = [
        [bare, /can no longer be used here/],
        // To the other browser it is a wrong guess at its own code.
        [own, /not right/],
      ] as const;
      for (const [other, message] of refusals) {
        const res = await enterCode(code, other);
        assert.equal(res.status, 422);
        assert.match(codeError(res.text), message);
        assert.equal(await isSignedIn(other), false);
      }
      const [jo] = await tokenRows();
      assert.equal(jo!.code_attempts, 0, 'tries elsewhere do not count against it');
      assert.equal((await enterCode(code)).status, 303);
    });

    it('a copied cookie with a forged signature is no key', async () => {
      const { code } = await requestMail('jo@example.com');
      const key = browserKeyOf(browser);
      const thief = new Browser(t);
      thief.agent.jar.setCookie(
        `${COOKIE}=${encodeURIComponent(`s:${key}.forged`)}; Path=/tickets/login`,
        '127.0.0.1',
        '/tickets/login',
      );
      const res = await enterCode(code, thief);
      assert.equal(res.status, 422);
      assert.equal(await isSignedIn(thief), false);
    });

    it('wrong tries are counted; after five the code is dead, even when right', async () => {
      const { code, link } = await requestMail('jo@example.com');
      const wrong = code.startsWith('A') ? 'BBBB-BBBB' : 'AAAA-AAAA';
      for (let i = 1; i <= 5; i += 1) {
        const res = await enterCode(wrong);
        assert.equal(res.status, 422);
        const page = $(res.text);
        assert.match(page('title').text(), /^Error: /);
        assert.equal(page('.error-summary a').attr('href'), '#code');
        assert.equal(page('.error-summary a').text().trim(), codeError(res.text));
        assert.match(page('#code').attr('aria-describedby') ?? '', /code-error/);
        assert.equal(page('#code').val(), wrong, 'the typed code is kept');
        if (i < 4) assert.match(codeError(res.text), new RegExp(`you have ${5 - i} more tries`));
        if (i === 4) assert.match(codeError(res.text), /you have 1 more try$/);
        if (i === 5) assert.match(codeError(res.text), /can no longer be used here/);
        assert.equal((await tokenRows())[0]!.code_attempts, i);
      }
      const sixth = await enterCode(code);
      assert.equal(sixth.status, 422);
      assert.match(codeError(sixth.text), /can no longer be used here/);
      assert.equal(await isSignedIn(browser), false);
      assert.equal((await tokenRows())[0]!.code_attempts, 5, 'a dead code counts no more');
      // Guessing at the short code says nothing about the link, which is 256 random bits.
      const confirm = await browser.get(link);
      assert.equal(confirm.status, 200);
    });

    it('a right code on the fifth try still signs in', async () => {
      const { code } = await requestMail('jo@example.com');
      const wrong = code.startsWith('A') ? 'BBBB-BBBB' : 'AAAA-AAAA';
      for (let i = 1; i <= 4; i += 1) assert.equal((await enterCode(wrong)).status, 422);
      assert.equal((await enterCode(code)).status, 303);
    });

    it('a malformed code gets a message and counts no try', async () => {
      const { code } = await requestMail('jo@example.com');
      const cases: [string, RegExp][] = [
        ['', /^Enter the sign-in code from the email$/],
        ['   ', /^Enter the sign-in code from the email$/],
        ['ABCD-EFG', /8 letters and numbers, like ABCD-EFGH/],
        ['0OIL-1111', /8 letters and numbers, like ABCD-EFGH/],
        ['x'.repeat(5000), /like ABCD-EFGH/],
        ['ABCD\u0000EFGH', /8 letters and numbers/],
      ];
      for (const [typed, message] of cases) {
        const res = await enterCode(typed);
        assert.equal(res.status, 422, JSON.stringify(typed.slice(0, 20)));
        assert.match(codeError(res.text), message);
      }
      const noField = await browser.post('/tickets/login/code', {
        _csrf: await loginPageToken(browser),
      });
      assert.equal(noField.status, 422);
      assert.equal((await tokenRows())[0]!.code_attempts, 0);
      assert.equal((await enterCode(code)).status, 303);
    });

    it('works for 15 minutes by the app clock, not a moment longer', async () => {
      const first = await requestMail('jo@example.com');
      t.clock.advance(15 * MINUTE - 1);
      assert.equal((await enterCode(first.code)).status, 303);

      const late = new Browser(t);
      const second = await requestMail('ann@example.com', late);
      t.clock.advance(15 * MINUTE);
      const res = await enterCode(second.code, late);
      assert.equal(res.status, 422);
      assert.match(codeError(res.text), /has expired/);
      assert.equal(await isSignedIn(late), false);
      assert.equal((await late.get(second.link)).status, 200, 'the link lives its hour');
    });

    it('the link, once used, kills the code', async () => {
      const { code, link } = await requestMail('jo@example.com');
      const phone = new Browser(t);
      assert.equal((await phone.submit(link, link)).status, 303);
      const res = await enterCode(code);
      assert.equal(res.status, 422);
      assert.equal(await isSignedIn(browser), false);
      assert.equal((await tokenRows())[0]!.code_hash, null);
    });

    it('the code, once used, kills the link', async () => {
      const { code, link } = await requestMail('jo@example.com');
      const phone = new Browser(t);
      const confirm = await phone.get(link);
      assert.equal((await enterCode(code)).status, 303);
      const res = await phone.post(link, { _csrf: csrfTokenOf(confirm.text) });
      assert.equal(res.status, 410);
      assert.equal((await phone.get(link)).status, 410);
      assert.equal(await isSignedIn(phone), false);
    });

    it('of simultaneous uses (the code several times, and the link) exactly one signs in', async () => {
      const { code, link } = await requestMail('jo@example.com');
      const phone = new Browser(t);
      const confirm = await phone.get(link);
      const codePage = await browser.get('/tickets/login/code');
      const token = csrfTokenOf(codePage.text);
      const results = await Promise.all([
        ...[1, 2, 3, 4].map(() => browser.post('/tickets/login/code', { _csrf: token, code })),
        phone.post(link, { _csrf: csrfTokenOf(confirm.text) }),
      ]);
      const wins = results.filter((r) => r.status === 303);
      assert.equal(wins.length, 1, results.map((r) => r.status).join(', '));
      const sessions = await rows<{ sess: { requesterId?: string } }>(
        'select sess from portal_sessions',
      );
      assert.equal(sessions.filter((s) => s.sess.requesterId).length, 1, 'one signed-in session');
      assert.equal((await tokenRows())[0]!.code_attempts <= 5, true);
    });

    it('a request dropped inside the minute keeps the key, so the mail already sent still works', async () => {
      const { code } = await requestMail('jo@example.com');
      const key = browserKeyOf(browser);
      await browser.submit('/tickets/login', '/tickets/login', { email: 'jo@example.com' });
      assert.equal((await t.deliverMail()).length, 0, 'no second mail');
      assert.equal(browserKeyOf(browser), key);
      assert.equal((await enterCode(code)).status, 303);
    });

    it('a second mail replaces the first code in that browser', async () => {
      const first = await requestMail('jo@example.com');
      const second = await requestMail('jo.work@example.com');
      assert.equal((await enterCode(first.code)).status, 422);
      assert.equal((await enterCode(second.code)).status, 303);
    });
  });

  describe('what is stored', () => {
    it('only hashes: the code and the browser key are in no column of any table', async () => {
      const { code } = await requestMail('jo@example.com');
      const key = browserKeyOf(browser);
      const [row] = await tokenRows();
      const plain = code.replace('-', '');
      assert.deepEqual(row!.code_browser, createHash('sha256').update(key).digest());
      assert.deepEqual(row!.code_hash, createHmac('sha256', key).update(plain).digest());
      assert.notDeepEqual(row!.code_hash, createHash('sha256').update(plain).digest());
      assert.equal(row!.code_expires_at!.getTime() - t.clock.now().getTime(), 15 * MINUTE);
      // One wrong try, so the rate-limit, audit and outbox tables all hold something of this sign-in.
      await enterCode(code.startsWith('A') ? 'BBBB-BBBB' : 'AAAA-AAAA');
      const tables = await rows<{ table_name: string }>(
        "select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'",
      );
      for (const { table_name: table } of tables) {
        const dump = (await rows<{ row: string }>(`select t::text as row from ${table} t`))
          .map((r) => r.row)
          .join('\n');
        for (const secret of [code, plain, code.toLowerCase(), plain.toLowerCase(), key]) {
          assert.ok(!dump.includes(secret), `${table} holds no ${secret}`);
        }
      }
      assert.ok(t.logLines.length > 0, 'the app logged its requests');
      const log = t.logLines.join('');
      assert.ok(!log.includes(plain) && !log.includes(code) && !log.includes(key), 'nor the log');
    });
  });

  describe('the audit trail', () => {
    it('records a sign-in by code as a sign-in from the mail, saying it was the code', async () => {
      const { code } = await requestMail('jo@example.com');
      await enterCode(code.startsWith('A') ? 'BBBB-BBBB' : 'AAAA-AAAA');
      await enterCode(code);
      const events = await rows<{ action: string; actor_kind: string; details: object }>(
        'select action, actor_kind, details from audit_events order by occurred_at, action',
      );
      assert.deepEqual(events, [
        { action: 'portal.signin_link_requested', actor_kind: 'visitor', details: {} },
        { action: 'portal.signin_link_used', actor_kind: 'requester', details: { method: 'code' } },
      ]);
    });

    it('records a code given up after its last wrong try, once, naming the address and not the code', async () => {
      const { code } = await requestMail('jo@example.com');
      const wrong = code.startsWith('A') ? 'BBBB-BBBB' : 'AAAA-AAAA';
      const exhausted = () =>
        rows<{ actor_kind: string; actor_label: string; details: object }>(
          `select actor_kind, actor_label, details from audit_events
            where action = 'portal.signin_code_exhausted'`,
        );
      for (let i = 1; i <= 4; i += 1) await enterCode(wrong);
      assert.deepEqual(await exhausted(), [], 'not while tries are left');
      await enterCode(wrong);
      await enterCode(wrong); // a dead code counts no more, and is no new event
      assert.deepEqual(await exhausted(), [
        { actor_kind: 'visitor', actor_label: 'jo@example.com', details: { tries: 5 } },
      ]);
      const trail = await rows<{ row: string }>('select a::text as row from audit_events a');
      for (const { row } of trail) assert.ok(!row.includes(code) && !row.includes(wrong), row);
    });
  });
});
