import assert from 'node:assert/strict';
import { makeTestApp, type TestApp } from '../helpers/app';
import { Browser, csrfTokenOf, signInLinkOf } from '../helpers/client';
import { aWorkspace } from '../helpers/fixtures';

/** Log lines are kept for a long time and read by many: no secrets may reach them. */
describe('what the logs never hold', () => {
  let t: TestApp;
  let browser: Browser;

  beforeEach(async () => {
    t = makeTestApp();
    browser = new Browser(t);
    await aWorkspace('acme');
  });

  async function requestLink(email = 'jo@example.com'): Promise<{ path: string; token: string }> {
    const res = await browser.submit('/tickets/login', '/tickets/login', { email });
    assert.equal(res.status, 200);
    const [mail] = await t.deliverMail();
    const path = new URL(signInLinkOf(mail!.text)).pathname;
    return { path, token: path.split('/').pop()! };
  }

  function logText(): string {
    assert.ok(t.logLines.length > 0, 'the app logged its requests');
    return t.logLines.join('');
  }

  function requestUrls(): string[] {
    return t.logLines
      .map((line) => JSON.parse(line) as { req?: { url?: string } })
      .map((entry) => entry.req?.url)
      .filter((url): url is string => typeof url === 'string');
  }

  it('the sign-in token is not logged when the link is requested, opened and confirmed', async () => {
    const { path, token } = await requestLink();
    const opened = await browser.get(path);
    assert.equal(opened.status, 200);
    const head = await browser.agent.head(path).set('Host', 'acme.localhost');
    assert.equal(head.status, 200);
    const confirmed = await browser.post(path, { _csrf: csrfTokenOf(opened.text) });
    assert.equal(confirmed.status, 303);

    assert.ok(!logText().includes(token), 'no log line holds the token');
    const urls = requestUrls();
    assert.equal(
      urls.filter((url) => url === '/tickets/login/[redacted]').length,
      3,
      'GET, HEAD and POST logged, redacted',
    );
  });

  it('a used, expired or wrong link is not logged either', async () => {
    const { path, token } = await requestLink();
    await browser.submit(path, path);
    const again = await new Browser(t).get(path);
    assert.equal(again.status, 410);
    const madeUp = 'A'.repeat(43);
    await browser.get(`/tickets/login/${madeUp}?utm_source=mail`);
    await browser.get(`/tickets/login/${madeUp}/`);
    const text = logText();
    assert.ok(!text.includes(token));
    assert.ok(!text.includes(madeUp));
    assert.ok(
      requestUrls().includes('/tickets/login/[redacted]?utm_source=mail'),
      'the rest of the URL stays readable',
    );
  });

  it('a link whose path is written in other letter case is redacted too', async () => {
    const { path, token } = await requestLink();
    const shouted = path.replace('/tickets/login/', '/TICKETS/Login/');
    const res = await browser.get(shouted);
    assert.equal(res.status, 404, 'portal paths are case-sensitive');
    assert.ok(!logText().includes(token), 'the token is cut out of the logged URL all the same');
    assert.ok(requestUrls().includes('/TICKETS/Login/[redacted]'));
  });

  it('session cookies and CSRF tokens are not logged', async () => {
    const page = await browser.get('/tickets/login');
    const csrf = csrfTokenOf(page.text);
    const { path } = await requestLink();
    await browser.submit(path, path);
    const cookie = browser.cookie('portal_sid');
    assert.ok(cookie, 'a session cookie was set');
    await browser.get('/tickets');
    await browser.post(
      '/tickets/logout',
      {},
      { 'X-CSRF-Token': csrf, Cookie: `portal_sid=${cookie}` },
    );
    const text = logText();
    assert.ok(!text.includes(cookie), 'no session cookie');
    assert.ok(!text.includes(decodeURIComponent(cookie)), 'no session cookie (decoded)');
    assert.ok(!text.includes(csrf), 'no CSRF token');
    assert.ok(
      !/portal_sid|set-cookie|x-csrf-token|"cookie"/i.test(text),
      'no cookie or CSRF header at all',
    );
  });

  it('form fields are not logged (a refused form neither)', async () => {
    await browser.submit('/tickets/new', '/tickets/new', {
      name: 'Secret Name',
      email: 'secret@example.com',
      subject: 'Secret subject',
      description: '',
    });
    await browser.post('/tickets/login', { email: 'nocsrf@example.com', _csrf: 'made-up-token' });
    const text = logText();
    for (const value of [
      'Secret Name',
      'secret@example.com',
      'Secret subject',
      'nocsrf@example.com',
      'made-up-token',
    ]) {
      assert.ok(!text.includes(value), value);
    }
  });
});
