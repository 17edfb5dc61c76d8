import assert from 'node:assert/strict';
import type { Response } from 'supertest';
import { withScope } from '../../src/db/scopes';
import * as workspaces from '../../src/models/workspaces';
import type { Workspace } from '../../src/models/workspaces';
import { contrastRatio, linkColourOnWhite, textColourOn } from '../../src/services/branding';
import { makeTestApp, type TestApp } from '../helpers/app';
import { $, Browser, csrfTokenOf, signInLinkOf } from '../helpers/client';
import { testDatabase } from '../helpers/database';
import { aRequester, aTicket, aWorkspace } from '../helpers/fixtures';

/** A valid 1×1 PNG. */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=',
  'base64',
);

function system<T>(work: Parameters<typeof withScope<T>>[2]): Promise<T> {
  return withScope(testDatabase().db, { kind: 'system' }, work);
}

function setColour(workspace: Workspace, primaryColor: string): Promise<unknown> {
  return system((trx) => workspaces.update(trx, workspace.id, { primaryColor }));
}

function setLogo(
  workspace: Workspace,
  logo: { content: Buffer; type: string } | null,
): Promise<void> {
  return system((trx) => workspaces.setLogo(trx, workspace.id, logo));
}

/** The custom properties a brand stylesheet sets. */
function propertiesOf(css: string): Record<string, string> {
  const properties: Record<string, string> = {};
  for (const match of css.matchAll(/(--[a-z-]+)\s*:\s*([^;}]+)/g))
    properties[match[1]!] = match[2]!.trim();
  return properties;
}

describe('workspace branding in the portal', () => {
  let t: TestApp;
  let browser: Browser;

  beforeEach(() => {
    t = makeTestApp();
    browser = new Browser(t);
  });

  function stylesheetOf(res: Response): string {
    const hrefs = $(res.text)('head link[rel=stylesheet]')
      .map((_i, el) => $(res.text)(el).attr('href'))
      .get()
      .filter((href) => href.startsWith('/tickets/brand/'));
    assert.equal(hrefs.length, 1, 'one brand stylesheet');
    assert.match(hrefs[0]!, /^\/tickets\/brand\/[0-9a-f]{12}\.css$/);
    return hrefs[0]!;
  }

  /** Every main portal page: signed out, on the sign-in path, and signed in. */
  async function everyPortalPage(): Promise<{ name: string; res: Response }[]> {
    const workspace = (await system((trx) => workspaces.findBySlug(trx, 'acme')))!;
    const jo = await aRequester(workspace, 'jo@example.com', 'Jo');
    const ticket = await aTicket(workspace, jo, { status: 'resolved' });
    const pages: { name: string; res: Response }[] = [];
    const visit = async (name: string, res: Promise<Response>): Promise<Response> => {
      const r = await res;
      assert.ok([200, 410, 422].includes(r.status), `${name}: ${r.status}`);
      pages.push({ name, res: r });
      return r;
    };
    await visit('landing', browser.get('/tickets'));
    await visit('login', browser.get('/tickets/login'));
    await visit(
      'login with errors',
      browser.submit('/tickets/login', '/tickets/login', { email: 'x' }),
    );
    await visit('new ticket', browser.get('/tickets/new'));
    await visit('new ticket with errors', browser.submit('/tickets/new', '/tickets/new', {}));
    await visit('link invalid', browser.get(`/tickets/login/${'A'.repeat(43)}`));
    await visit(
      'check email',
      browser.submit('/tickets/login', '/tickets/login', { email: 'jo@example.com' }),
    );
    const [mail] = await t.deliverMail();
    const link = new URL(signInLinkOf(mail!.text)).pathname;
    const confirm = await visit('confirm sign-in', browser.get(link));
    assert.equal((await browser.post(link, { _csrf: csrfTokenOf(confirm.text) })).status, 303);
    await visit('ticket list', browser.get('/tickets'));
    await visit('ticket', browser.get(`/tickets/${ticket.reference}`));
    await visit('new ticket signed in', browser.get('/tickets/new'));
    return pages;
  }

  it('every portal page shows the workspace’s name in its header and links its brand stylesheet', async () => {
    await aWorkspace('acme', { name: 'Acme <Support> & Co', color: '#ffff00' });
    const pages = await everyPortalPage();
    assert.ok(pages.length >= 10);
    const versions = new Set<string>();
    for (const { name, res } of pages) {
      const page = $(res.text);
      assert.equal(
        page('header .site-name').text(),
        'Acme <Support> & Co',
        `${name}: the name, as text`,
      );
      assert.ok(res.text.includes('Acme &lt;Support&gt; &amp; Co'), `${name}: escaped`);
      assert.match(page('title').text(), /Acme <Support> & Co$/, `${name}: in the title`);
      versions.add(stylesheetOf(res));
    }
    assert.equal(versions.size, 1, 'one stylesheet URL for all pages');
  });

  it('the brand stylesheet is CSS, cached for a year, and sets the workspace colours', async () => {
    await aWorkspace('acme', { color: '#ffff00' });
    const href = stylesheetOf(await browser.get('/tickets'));
    const css = await browser.get(href);
    assert.equal(css.status, 200);
    assert.match(css.headers['content-type'] ?? '', /^text\/css/);
    const cache = css.headers['cache-control'] ?? '';
    assert.match(cache, /max-age=31536000/);
    assert.match(cache, /immutable/);
    assert.match(cache, /public/);
    const properties = propertiesOf(css.text);
    assert.equal(properties['--brand'], '#ffff00');
    assert.equal(properties['--brand-text'], '#000000', 'dark text on yellow');
    assert.ok(
      contrastRatio(properties['--brand-link']!, '#ffffff') >= 4.5,
      'links readable on white',
    );
  });

  it('a dark brand colour gets white text', async () => {
    await aWorkspace('acme', { color: '#0000ff' });
    const css = await browser.get(stylesheetOf(await browser.get('/tickets')));
    const properties = propertiesOf(css.text);
    assert.equal(properties['--brand'], '#0000ff');
    assert.equal(properties['--brand-text'], '#ffffff');
    assert.equal(properties['--brand-link'], '#0000ff', 'dark enough for links as it is');
  });

  it('the stylesheet URL changes with the colour, and a stale one is 404', async () => {
    const workspace = await aWorkspace('acme', { color: '#ffff00' });
    const before = stylesheetOf(await browser.get('/tickets'));
    await setColour(workspace, '#0000ff');
    const after = stylesheetOf(await browser.get('/tickets'));
    assert.notEqual(after, before);
    assert.equal((await browser.get(before)).status, 404, 'the old version is gone');
    const css = await browser.get(after);
    assert.equal(css.status, 200);
    assert.equal(propertiesOf(css.text)['--brand'], '#0000ff');
    assert.equal((await browser.get('/tickets/brand/000000000000.css')).status, 404);
    assert.equal((await browser.get('/tickets/brand/nonsense.css')).status, 404);
  });

  it('one workspace’s stylesheet version is not served by another with a different colour', async () => {
    await aWorkspace('acme', { color: '#ffff00' });
    await aWorkspace('globex', { color: '#0000ff' });
    const acme = stylesheetOf(await browser.get('/tickets'));
    const globex = new Browser(t, 'globex.localhost');
    const theirs = stylesheetOf(await globex.get('/tickets'));
    assert.notEqual(acme, theirs);
    assert.equal((await globex.get(acme)).status, 404);
    assert.equal((await globex.get(theirs)).status, 200);
  });

  it('serves no branding for a workspace whose portal is off or a host that is no workspace', async () => {
    await aWorkspace('acme', { color: '#ffff00' });
    const href = stylesheetOf(await browser.get('/tickets'));
    await aWorkspace('closed', { portal: false, color: '#ffff00' });
    assert.equal((await new Browser(t, 'closed.localhost').get(href)).status, 404);
    assert.equal((await new Browser(t, 'nobody.localhost').get(href)).status, 404);
  });

  describe('logo', () => {
    it('with no logo the header has no image', async () => {
      await aWorkspace('acme');
      const page = $((await browser.get('/tickets')).text);
      assert.equal(page('header img').length, 0);
      assert.equal((await browser.get('/tickets/brand/logo-0')).status, 404);
    });

    it('a logo appears in the header and is served from its versioned URL with a long cache lifetime', async () => {
      const workspace = await aWorkspace('acme');
      const stylesheetBefore = stylesheetOf(await browser.get('/tickets'));
      await setLogo(workspace, { content: PNG, type: 'image/png' });
      for (const path of ['/tickets', '/tickets/login', '/tickets/new']) {
        const res = await browser.get(path);
        const img = $(res.text)('header img');
        assert.equal(img.length, 1, `${path}: a logo`);
        assert.match(img.attr('src') ?? '', /^\/tickets\/brand\/logo-\d+$/);
        assert.equal(img.attr('alt'), '', 'decorative: the name is written next to it');
      }
      const res = await browser.get('/tickets');
      const src = $(res.text)('header img').attr('src')!;
      assert.notEqual(
        stylesheetOf(res),
        stylesheetBefore,
        'the stylesheet version follows the logo too',
      );
      const logo = await browser.get(src);
      assert.equal(logo.status, 200);
      assert.equal(logo.headers['content-type'], 'image/png');
      assert.match(logo.headers['cache-control'] ?? '', /max-age=31536000/);
      assert.match(logo.headers['cache-control'] ?? '', /immutable/);
      assert.equal(logo.headers['x-content-type-options'], 'nosniff');
      assert.ok(Buffer.isBuffer(logo.body));
      assert.deepEqual(logo.body, PNG);
    });

    it('a new logo gets a new URL and the old one is 404; removing it removes the image', async () => {
      const workspace = await aWorkspace('acme');
      await setLogo(workspace, { content: PNG, type: 'image/png' });
      const first = $((await browser.get('/tickets')).text)('header img').attr('src')!;
      await setLogo(workspace, { content: PNG, type: 'image/webp' });
      const second = $((await browser.get('/tickets')).text)('header img').attr('src')!;
      assert.notEqual(second, first);
      assert.equal((await browser.get(first)).status, 404);
      const served = await browser.get(second);
      assert.equal(served.status, 200);
      assert.equal(served.headers['content-type'], 'image/webp');
      await setLogo(workspace, null);
      assert.equal($((await browser.get('/tickets')).text)('header img').length, 0);
      assert.equal((await browser.get(second)).status, 404);
    });
  });

  describe('colour contrast (unit)', () => {
    it('measures contrast as WCAG does', () => {
      assert.equal(Math.round(contrastRatio('#000000', '#ffffff') * 100) / 100, 21);
      assert.equal(contrastRatio('#1d70b8', '#1d70b8'), 1);
      assert.equal(contrastRatio('#ffffff', '#777777'), contrastRatio('#777777', '#ffffff'));
      assert.ok(Math.abs(contrastRatio('#777777', '#ffffff') - 4.48) < 0.01);
    });

    it('picks black on light colours and white on dark ones', () => {
      assert.equal(textColourOn('#ffff00'), '#000000');
      assert.equal(textColourOn('#ffffff'), '#000000');
      assert.equal(textColourOn('#0000ff'), '#ffffff');
      assert.equal(textColourOn('#000000'), '#ffffff');
      assert.equal(textColourOn('#1d70b8'), '#ffffff');
    });

    for (const colour of [
      '#ffff00',
      '#777777',
      '#0000ff',
      '#1d70b8',
      '#ff0000',
      '#00ff00',
      '#767676',
    ]) {
      it(`text on ${colour} has a contrast of at least 4.5:1`, () => {
        assert.ok(contrastRatio(textColourOn(colour), colour) >= 4.5);
      });
    }

    it('any colour gets text of at least 4.5:1 and a link colour of at least 4.5:1 on white', () => {
      const steps = ['00', '33', '66', '77', '99', 'cc', 'ff'];
      for (const r of steps) {
        for (const g of steps) {
          for (const b of steps) {
            const colour = `#${r}${g}${b}`;
            assert.ok(contrastRatio(textColourOn(colour), colour) >= 4.5, `text on ${colour}`);
            const link = linkColourOnWhite(colour);
            assert.match(link, /^#[0-9a-f]{6}$/);
            assert.ok(contrastRatio(link, '#ffffff') >= 4.5, `link ${link} for ${colour}`);
          }
        }
      }
    });

    it('keeps a link colour that already reads well on white and darkens one that does not', () => {
      assert.equal(linkColourOnWhite('#1d70b8'), '#1d70b8');
      assert.equal(linkColourOnWhite('#0000ff'), '#0000ff');
      for (const light of ['#ffff00', '#777777', '#ffffff', '#ffdd00']) {
        const link = linkColourOnWhite(light);
        assert.notEqual(link, light);
        assert.ok(contrastRatio(link, '#ffffff') >= 4.5, `${light} → ${link}`);
      }
    });
  });
});
