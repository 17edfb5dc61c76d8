import assert from 'node:assert/strict';
import type { Response } from 'supertest';
import { makeTestApp, type TestApp } from '../helpers/app';
import { $, Browser, csrfTokenOf, signInLinkOf } from '../helpers/client';
import { aRequester, aTicket, aWorkspace, anAgent, anAgentMessage } from '../helpers/fixtures';

/** Every main portal page, as its viewer sees it. */
interface PortalPage {
  name: string;
  status: number;
  res: Response;
}

describe('security headers and markup without inline code', () => {
  let t: TestApp;

  beforeEach(() => {
    t = makeTestApp();
  });

  async function everyPortalPage(): Promise<PortalPage[]> {
    const workspace = await aWorkspace('acme');
    const jo = await aRequester(workspace, 'jo@example.com', 'Jo');
    const ticket = await aTicket(workspace, jo, { status: 'resolved' });
    await anAgentMessage(ticket, await anAgent(workspace), 'We fixed it.');

    const anon = new Browser(t);
    const pages: PortalPage[] = [];
    const visit = async (
      name: string,
      status: number,
      res: Promise<Response>,
    ): Promise<Response> => {
      const r = await res;
      pages.push({ name, status, res: r });
      return r;
    };
    await visit('landing', 200, anon.get('/tickets'));
    await visit('login', 200, anon.get('/tickets/login'));
    await visit(
      'login with errors',
      422,
      anon.submit('/tickets/login', '/tickets/login', { email: 'nope' }),
    );
    await visit(
      'check email',
      200,
      anon.submit('/tickets/login', '/tickets/login', { email: 'jo@example.com' }),
    );
    const [mail] = await t.deliverMail();
    const link = new URL(signInLinkOf(mail!.text)).pathname;
    await visit('code page', 200, anon.get('/tickets/login/code'));
    await visit(
      'code page with errors',
      422,
      anon.submit('/tickets/login/code', '/tickets/login/code', { code: 'nope' }),
    );
    await visit('confirm sign-in', 200, anon.get(link));
    await visit('link invalid', 410, anon.get(`/tickets/login/${'A'.repeat(43)}`));
    await visit('new ticket', 200, anon.get('/tickets/new'));
    await visit('new ticket with errors', 422, anon.submit('/tickets/new', '/tickets/new', {}));
    await visit('404', 404, anon.get('/tickets/no/such/page'));
    const confirmed = await anon.post(link, { _csrf: csrfTokenOf((await anon.get(link)).text) });
    assert.equal(confirmed.status, 303, 'signed in');
    await visit('ticket list', 200, anon.get('/tickets'));
    await visit('ticket', 200, anon.get(`/tickets/${ticket.reference}`));
    await visit(
      'ticket with errors',
      422,
      anon.submit(`/tickets/${ticket.reference}`, `/tickets/${ticket.reference}/replies`, {
        body: '',
      }),
    );
    await visit('new ticket signed in', 200, anon.get('/tickets/new'));
    await visit('403', 403, anon.post('/tickets/logout'));
    return pages;
  }

  function directives(res: Response): Map<string, string[]> {
    const header = res.headers['content-security-policy'];
    assert.equal(typeof header, 'string', 'a Content-Security-Policy header');
    const map = new Map<string, string[]>();
    for (const part of (header as string).split(';')) {
      const [name, ...values] = part.trim().split(/\s+/);
      if (name) map.set(name, values);
    }
    return map;
  }

  it('every portal page answers with its expected status', async () => {
    for (const page of await everyPortalPage()) {
      assert.equal(page.res.status, page.status, page.name);
      assert.match(
        page.res.headers['content-type'] ?? '',
        /^text\/html; charset=utf-8/i,
        page.name,
      );
    }
  });

  it('every portal page sends a strict Content-Security-Policy without unsafe-inline', async () => {
    for (const { name, res } of await everyPortalPage()) {
      const csp = directives(res);
      assert.ok(
        !(res.headers['content-security-policy'] as string).includes('unsafe-'),
        `${name}: no unsafe-*`,
      );
      assert.deepEqual(csp.get('default-src'), ["'self'"], name);
      assert.deepEqual(csp.get('script-src'), ["'self'"], name);
      assert.deepEqual(csp.get('style-src'), ["'self'"], name);
      assert.deepEqual(csp.get('frame-ancestors'), ["'none'"], name);
      assert.deepEqual(csp.get('form-action'), ["'self'"], name);
      assert.deepEqual(csp.get('object-src'), ["'none'"], name);
      assert.deepEqual(csp.get('base-uri'), ["'none'"], name);
    }
  });

  it('every portal page sends Referrer-Policy: no-referrer, nosniff and no X-Powered-By', async () => {
    for (const { name, res } of await everyPortalPage()) {
      assert.equal(res.headers['referrer-policy'], 'no-referrer', name);
      assert.equal(res.headers['x-content-type-options'], 'nosniff', name);
      assert.equal(res.headers['x-powered-by'], undefined, name);
    }
  });

  it('the sign-in confirmation page, whose URL holds the token, sends no Referer anywhere', async () => {
    const pages = await everyPortalPage();
    const confirm = pages.find((p) => p.name === 'confirm sign-in')!;
    assert.equal(confirm.res.headers['referrer-policy'], 'no-referrer');
    const page = $(confirm.res.text);
    // No third-party resource could receive the URL either: everything is our own.
    page('[src], link[href]').each((_i, el) => {
      const url = page(el).attr('src') ?? page(el).attr('href') ?? '';
      assert.ok(url.startsWith('/') && !url.startsWith('//'), `own resource: ${url}`);
    });
  });

  it('no portal page has inline scripts, inline styles or event-handler attributes', async () => {
    for (const { name, res } of await everyPortalPage()) {
      const page = $(res.text);
      assert.ok(page('main').length === 1 || res.status >= 400, `${name}: a real page was checked`);
      assert.equal(page('style').length, 0, `${name}: no <style>`);
      assert.equal(page('[style]').length, 0, `${name}: no style= attribute`);
      page('script').each((_i, el) => {
        assert.ok(page(el).attr('src'), `${name}: scripts come from files`);
        assert.equal(page(el).text().trim(), '', `${name}: no inline script body`);
      });
      page('*').each((_i, el) => {
        for (const attribute of Object.keys(
          (el as { attribs?: Record<string, string> }).attribs ?? {},
        )) {
          assert.ok(!/^on/i.test(attribute), `${name}: no ${attribute}= handler`);
        }
      });
      page('a[href], form[action]').each((_i, el) => {
        const url = page(el).attr('href') ?? page(el).attr('action') ?? '';
        assert.ok(!/^\s*javascript:/i.test(url), `${name}: no javascript: URL`);
      });
    }
  });

  it('every portal page loads its stylesheets from our own origin', async () => {
    for (const { name, res } of await everyPortalPage()) {
      const sheets = $(res.text)('link[rel=stylesheet]')
        .map((_i, el) => $(res.text)(el).attr('href'))
        .get();
      assert.ok(sheets.length >= 1, `${name}: has a stylesheet`);
      for (const href of sheets) assert.match(href, /^\/(assets|tickets)\//, `${name}: ${href}`);
    }
  });

  it('the headers are also sent for unknown hosts, static files and the health check', async () => {
    for (const res of [
      await new Browser(t, 'nobody.localhost').get('/tickets'),
      await new Browser(t).get('/assets/css/app.css'),
      await new Browser(t).get('/healthz'),
    ]) {
      assert.match(res.headers['content-security-policy'] ?? '', /script-src 'self'/);
      assert.equal(res.headers['referrer-policy'], 'no-referrer');
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
      assert.equal(res.headers['x-powered-by'], undefined);
    }
  });

  it('forbids framing with X-Frame-Options as well, for older browsers', async () => {
    await aWorkspace('acme');
    const res = await new Browser(t).get('/tickets/login');
    assert.match(res.headers['x-frame-options'] ?? '', /^(DENY|SAMEORIGIN)$/);
  });

  it('compresses pages and stylesheets with gzip when the browser accepts it', async () => {
    await aWorkspace('acme');
    const browser = new Browser(t);
    const page = await browser.agent
      .get('/tickets')
      .set('Host', 'acme.localhost')
      .set('Accept-Encoding', 'gzip');
    assert.equal(page.status, 200);
    assert.equal(page.headers['content-encoding'], 'gzip');
    assert.match($(page.text)('h1').text(), /Get help/, 'the page still reads correctly');
    const css = await browser.agent
      .get('/assets/css/app.css')
      .set('Host', 'acme.localhost')
      .set('Accept-Encoding', 'gzip');
    assert.equal(css.status, 200);
    assert.equal(css.headers['content-encoding'], 'gzip');
  });

  it('does not compress when the browser does not ask for it', async () => {
    await aWorkspace('acme');
    const res = await new Browser(t).agent
      .get('/tickets')
      .set('Host', 'acme.localhost')
      .set('Accept-Encoding', 'identity');
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-encoding'], undefined);
  });
});
