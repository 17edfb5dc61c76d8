import assert from 'node:assert/strict';
import request from 'supertest';
import { languageCookie } from '../../src/i18n/negotiation';
import { translate } from '../../src/i18n/translate';
import { makeTestApp, type TestApp } from '../helpers/app';
import { $, Browser } from '../helpers/client';
import { aRequester, aTicket, aWorkspace, rows } from '../helpers/fixtures';

const YEAR_SECONDS = 365 * 24 * 60 * 60;

function cookiesOf(res: request.Response): string[] {
  return (res.headers['set-cookie'] as unknown as string[] | undefined) ?? [];
}

function sessions(): Promise<unknown[]> {
  return rows('select sid, sess, expire from portal_sessions order by sid');
}

describe('the portal in four languages', () => {
  let t: TestApp;

  beforeEach(() => {
    t = makeTestApp();
  });

  function get(path: string, headers: Record<string, string> = {}) {
    return request(t.app)
      .get(path)
      .set({ Host: 'acme.localhost', ...headers })
      .redirects(0);
  }

  describe('the switcher', () => {
    it('lists every language in its own name, marked with lang and hreflang, the page’s own one not a link', async () => {
      await aWorkspace('acme');
      const page = $((await get('/tickets/login', { 'Accept-Language': 'de' })).text);
      const items = page('footer nav > *');
      assert.deepEqual(
        items.toArray().map((li) => page(li).text()),
        ['English', 'العربية', 'Deutsch', 'Español'],
      );
      assert.equal(page('footer nav').attr('aria-label'), 'Sprache');
      const current = page('footer [aria-current="true"]');
      assert.equal(current.text(), 'Deutsch');
      assert.equal(current.is('a'), false, 'the current language is not a link');
      const links = page('footer nav a');
      assert.deepEqual(
        links.toArray().map((a) => [page(a).attr('lang'), page(a).attr('hreflang')]),
        [
          ['en', 'en'],
          ['ar', 'ar'],
          ['es', 'es'],
        ],
      );
      assert.equal(page('footer a[hreflang="ar"]').attr('dir'), 'rtl');
    });

    it('links back to the very page, its query (filters, page) included', async () => {
      await aWorkspace('acme');
      const here = '/tickets?q=printer+fire&status=open';
      const page = $((await get(here)).text);
      const href = page('footer a[hreflang="es"]').attr('href')!;
      const url = new URL(href, 'http://acme.localhost');
      assert.equal(url.pathname, '/tickets/language/es');
      assert.equal(url.searchParams.get('back'), here);
    });

    it('sets a year-long cookie of the portal’s path and sends the visitor back with 303, in the new language', async () => {
      await aWorkspace('acme');
      const browser = new Browser(t);
      const back = '/tickets/new?followUp=ACME-1001';
      const res = await browser.get(`/tickets/language/es?back=${encodeURIComponent(back)}`);
      assert.equal(res.status, 303);
      assert.equal(res.headers.location, back);
      const cookie = cookiesOf(res).find((c) => c.startsWith(`${languageCookie}=`));
      assert.ok(cookie, 'the language cookie is set');
      assert.match(cookie, /^portal_lang=es;/);
      assert.match(cookie, new RegExp(`Max-Age=${YEAR_SECONDS}`));
      assert.match(cookie, /Path=\/tickets(;|$)/);
      assert.match(cookie, /HttpOnly/);
      assert.match(cookie, /SameSite=Lax/);
      assert.doesNotMatch(cookie, /Secure/, 'Secure only in production, as the other cookies');
      const page = await browser.get(back);
      assert.equal($(page.text)('html').attr('lang'), 'es');
      assert.equal($(page.text)('h1').text(), translate('es', 'portal.newTicket.title'));
      assert.equal($(page.text)('#subject').val(), 'Seguimiento de ACME-1001');
    });

    for (const back of [
      'https://evil.example/tickets',
      '//evil.example/tickets',
      '/\\evil.example',
      '/tickets\\..\\admin',
      '/tickets//evil.example',
      '/tickets/../admin',
      '/tickets/%2e%2e/admin',
      '/tickets%2F%2Fevil.example',
      '/admin',
      'javascript:alert(1)',
      '/ticketsevil',
      '/tickets/\r\nSet-Cookie: x=1',
      '',
    ]) {
      it(`refuses to send anyone to ${JSON.stringify(back)}: the portal’s start instead`, async () => {
        await aWorkspace('acme');
        const res = await get(`/tickets/language/de?back=${encodeURIComponent(back)}`);
        assert.equal(res.status, 303);
        assert.equal(res.headers.location, '/tickets');
      });
    }

    it('takes a back of several values or none as the portal’s start', async () => {
      await aWorkspace('acme');
      for (const query of ['back=/tickets/new&back=//evil.example', '']) {
        const res = await get(`/tickets/language/de?${query}`);
        assert.equal(res.status, 303);
        assert.equal(res.headers.location, '/tickets');
      }
    });

    it('answers an unknown language with the not-found page, in the page’s language, and sets nothing', async () => {
      await aWorkspace('acme');
      for (const code of ['xx', 'EN', 'es-MX', '..']) {
        const res = await get(`/tickets/language/${code}?back=/tickets`, {
          'Accept-Language': 'es',
        });
        assert.equal(res.status, 404, code);
        assert.equal($(res.text)('html').attr('lang'), 'es');
        assert.equal($(res.text)('h1').text(), 'No se encuentra la página');
        assert.ok(!cookiesOf(res).some((c) => c.startsWith(`${languageCookie}=`)));
      }
    });

    it('writes no session row, for an anonymous visitor or a signed-in requester', async () => {
      const acme = await aWorkspace('acme');
      await aRequester(acme, 'jo@example.com', 'Jo');
      const anonymous = await get('/tickets/language/ar?back=/tickets/login');
      assert.equal(anonymous.status, 303);
      assert.ok(!cookiesOf(anonymous).some((c) => c.startsWith('portal_sid=')));
      assert.deepEqual(await sessions(), []);

      const jo = new Browser(t);
      assert.equal((await jo.signIn('jo@example.com')).status, 303);
      const before = await sessions();
      assert.equal(before.length, 1);
      const res = await jo.get('/tickets/language/de?back=/tickets');
      assert.equal(res.status, 303);
      assert.ok(!cookiesOf(res).some((c) => c.startsWith('portal_sid=')));
      assert.deepEqual(await sessions(), before, 'the session row is as it was');
      const list = await jo.get('/tickets');
      assert.equal($(list.text)('html').attr('lang'), 'de');
      assert.equal($(list.text)('h1').text(), 'Ihre Anfragen');
    });

    it('on a page shown for a form with errors, goes back to the form’s own page', async () => {
      const acme = await aWorkspace('acme');
      const jo = await aRequester(acme, 'jo@example.com', 'Jo');
      const ticket = await aTicket(acme, jo);
      const browser = new Browser(t);
      await browser.signIn('jo@example.com');
      const page = `/tickets/${ticket.reference}`;
      const res = await browser.submit(page, `${page}/replies`, { body: '' });
      assert.equal(res.status, 422);
      const href = $(res.text)('footer a[hreflang="es"]').attr('href')!;
      assert.equal(new URL(href, 'http://x').searchParams.get('back'), page);
    });
  });

  describe('the language a page is in', () => {
    it('is the workspace’s default on a first visit without Accept-Language', async () => {
      await aWorkspace('acme', { defaultLanguage: 'es' });
      const res = await get('/tickets/login');
      const page = $(res.text);
      assert.equal(page('html').attr('lang'), 'es');
      assert.equal(page('html').attr('dir'), 'ltr');
      assert.equal(page('title').text(), 'Iniciar sesión – Acme Inc');
      assert.equal(page('h1').text(), 'Iniciar sesión');
      assert.equal(page('label[for=email]').text(), 'Correo electrónico');
      assert.equal(page('.skip-link').text(), 'Saltar al contenido principal');
    });

    it('is Arabic, right to left, for a browser asking for Arabic', async () => {
      await aWorkspace('acme');
      const page = $((await get('/tickets/login', { 'Accept-Language': 'ar-EG' })).text);
      assert.equal(page('html').attr('lang'), 'ar');
      assert.equal(page('html').attr('dir'), 'rtl');
      assert.equal(page('h1').text(), 'تسجيل الدخول');
    });

    it('shows a form’s errors in Spanish, the title’s “Error:” too', async () => {
      await aWorkspace('acme');
      const es = new Browser(t);
      await es.get('/tickets/language/es?back=/tickets/login');
      const refused = await es.submit('/tickets/login', '/tickets/login', { email: '' });
      assert.equal(refused.status, 422);
      const page = $(refused.text);
      assert.equal(page('title').text(), 'Error: Iniciar sesión – Acme Inc');
      assert.equal(page('.error-summary-title').text(), 'Hay un problema');
      assert.equal(
        page('.error-summary-list a').text(),
        'Escriba su dirección de correo electrónico',
      );
      assert.equal(page('.error-summary-list a').attr('href'), '#email');
      assert.equal(
        page('#email-error').text(),
        'Error: Escriba su dirección de correo electrónico',
      );
    });

    it('prefixes a German form’s title with “Fehler:” and names refused files in German', async () => {
      const acme = await aWorkspace('acme');
      await aRequester(acme, 'jo@example.com', 'Jo');
      const de = new Browser(t);
      await de.signIn('jo@example.com');
      await de.get('/tickets/language/de?back=/tickets/new');
      const res = await de.submitFiles(
        '/tickets/new',
        '/tickets/new',
        { subject: '', description: 'x' },
        [{ name: 'leer.txt', content: Buffer.alloc(0) }],
      );
      assert.equal(res.status, 422);
      const page = $(res.text);
      assert.equal(page('title').text(), 'Fehler: Neue Anfrage stellen – Acme Inc');
      assert.deepEqual(
        page('.error-summary-list a')
          .toArray()
          .map((a) => page(a).text()),
        ['Geben Sie einen Betreff ein', '„leer.txt“ ist leer'],
      );
      assert.match(
        page('#attachments-hint').text(),
        /^Bis zu \d+ Dateien, jede kleiner als \d+ MB/,
      );
    });

    it('shows an error page in Spanish, its title translated', async () => {
      await aWorkspace('acme');
      const res = await get('/tickets/no/such/page', { 'Accept-Language': 'es-ES,es;q=0.9' });
      assert.equal(res.status, 404);
      assert.equal(res.headers['content-language'], 'es');
      const page = $(res.text);
      assert.equal(page('html').attr('lang'), 'es');
      assert.equal(page('title').text(), 'No se encuentra la página – Tickets Portal');
      assert.equal(page('h1').text(), 'No se encuentra la página');
      assert.equal(page('footer [aria-current="true"]').text(), 'Español');
    });

    it('keeps the agent app in English whatever the browser asks for', async () => {
      await aWorkspace('acme');
      const res = await get('/admin/login', { 'Accept-Language': 'de', Cookie: 'portal_lang=de' });
      const page = $(res.text);
      assert.equal(page('html').attr('lang'), 'en');
      assert.equal(page('.skip-link').text(), 'Skip to main content');
      assert.equal(page('footer nav').length, 0);
    });
  });
});
