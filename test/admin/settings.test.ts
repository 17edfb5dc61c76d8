import assert from 'node:assert/strict';
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import type { Response } from 'supertest';
import { makeTestApp, type TestApp } from '../helpers/app';
import { $, Browser, csrfTokenOf } from '../helpers/client';
import { aRequester, aTicket, anAgent, aWorkspace, rows } from '../helpers/fixtures';
import type { Workspace } from '../../src/models/workspaces';
import { contrastRatio, linkColourOnWhite } from '../../src/services/branding';
import { hashPassword } from '../../src/services/passwords';

const PASSWORD = 'a long enough password';
const MODULES = '/admin/settings/modules';
const BRANDING = '/admin/settings/branding';
const LOGO = '/admin/settings/branding/logo';
const LOGO_REMOVE = '/admin/settings/branding/logo/remove';
const KB = 1024;

// Minimal real images, built here so the bytes are plain to see.

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A valid 1×1 RGBA PNG; with `size`, padded to exactly that many bytes by a text chunk. */
function png(size?: number): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(1, 0);
  header.writeUInt32BE(1, 4);
  header[8] = 8; // bit depth
  header[9] = 6; // RGBA
  const pixels = deflateSync(Buffer.from([0, 0x1d, 0x70, 0xb8, 0xff])); // filter byte + one pixel
  const parts = [
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', header),
    pngChunk('IDAT', pixels),
    pngChunk('IEND', Buffer.alloc(0)),
  ];
  if (size !== undefined) {
    const filler = size - Buffer.concat(parts).length - 12;
    const text = Buffer.concat([
      Buffer.from('Comment\0', 'latin1'),
      Buffer.alloc(filler - 8, 0x61),
    ]);
    parts.splice(2, 0, pngChunk('tEXt', text));
  }
  const image = Buffer.concat(parts);
  if (size !== undefined) assert.equal(image.length, size);
  return image;
}

/** A 1×1 baseline JPEG written by libjpeg (no JFIF segment: it starts FF D8 FF DB). */
const JPEG = Buffer.from(
  '/9j/2wBDABALDA4MChAODQ4SERATGCgaGBYWGDEjJR0oOjM9PDkzODdASFxOQERXRTc4UG1RV19iZ2hnPk1xeXBkeFxlZ2P/2wBDARESEhgVGC8aGi9jQjhCY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2P/wAARCAABAAEDASIAAhEBAxEB/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/8QAHwEAAwEBAQEBAQEBAQAAAAAAAAECAwQFBgcICQoL/8QAtREAAgECBAQDBAcFBAQAAQJ3AAECAxEEBSExBhJBUQdhcRMiMoEIFEKRobHBCSMzUvAVYnLRChYkNOEl8RcYGRomJygpKjU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6goOEhYaHiImKkpOUlZaXmJmaoqOkpaanqKmqsrO0tba3uLm6wsPExcbHyMnK0tPU1dbX2Nna4uPk5ebn6Onq8vP09fb3+Pn6/9oADAMBAAIRAxEAPwDOooor2DyT/9k=',
  'base64',
);
/** A 1×1 lossless WebP (RIFF container, VP8L chunk). */
const WEBP = Buffer.from('UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==', 'base64');
/** A 1×1 GIF89a. */
const GIF = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');
const SVG = Buffer.from(
  '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"><script>alert(1)</script></svg>',
);

interface Upload {
  content: Buffer;
  filename: string;
  contentType: string;
}

interface WorkspaceState {
  name: string;
  portal_enabled: boolean;
  primary_color: string;
  logo: Buffer | null;
  logo_type: string | null;
  logo_version: number;
  updated_at: Date;
}

async function workspaceState(slug = 'acme'): Promise<WorkspaceState> {
  const [row] = await rows<WorkspaceState>(
    'select name, portal_enabled, primary_color, logo, logo_type, logo_version, updated_at from workspaces where slug = ?',
    [slug],
  );
  return row!;
}

describe('agent app settings: modules and branding', () => {
  let t: TestApp;
  let workspace: Workspace;
  let passwordHash: string;

  before(async () => {
    passwordHash = await hashPassword(PASSWORD);
  });

  beforeEach(async () => {
    t = makeTestApp();
    workspace = await aWorkspace('acme', { portal: false, name: 'Acme Inc' });
  });

  async function signedIn(role: 'admin' | 'agent', email = `${role}@acme.test`): Promise<Browser> {
    await anAgent(workspace, { email, name: `Sam ${role}`, role, passwordHash });
    const browser = new Browser(t);
    const res = await browser.signInAgent(email, PASSWORD);
    assert.equal(res.status, 303, 'signed in');
    return browser;
  }

  async function tokenOf(browser: Browser, page: string): Promise<string> {
    const res = await browser.get(page);
    assert.equal(res.status, 200, `${page} loads`);
    return csrfTokenOf(res.text);
  }

  function uploadLogo(
    browser: Browser,
    token: string | undefined,
    file?: Upload,
  ): Promise<Response> {
    let req = browser.agent.post(LOGO).set('Host', browser.host).redirects(0);
    if (token !== undefined) req = req.field('_csrf', token);
    if (file)
      req = req.attach('logo', file.content, {
        filename: file.filename,
        contentType: file.contentType,
      });
    return req;
  }

  async function setPortal(on: boolean): Promise<void> {
    await rows('update workspaces set portal_enabled = ? where id = ?', [on, workspace.id]);
  }

  function errorOf(html: string, field: string): string {
    const page = $(html);
    assert.match(page('title').text(), /^Error: /);
    const message = page(`#${field}-error`).text().replace('Error:', '').trim();
    assert.equal(page('.error-summary a').first().attr('href'), `#${field}`);
    assert.equal(
      page('.error-summary a').first().text().trim(),
      message,
      'the same words in the summary',
    );
    assert.match(page(`#${field}`).attr('aria-describedby') ?? '', new RegExp(`${field}-error`));
    return message;
  }

  describe('who may use them', () => {
    const pages = [MODULES, BRANDING, LOGO];

    it('sends a signed-out visitor to the sign-in page, for GET and POST alike', async () => {
      const browser = new Browser(t);
      for (const page of pages) {
        const res = await browser.get(page);
        assert.equal(res.status, 303, page);
        assert.equal(res.headers.location, '/admin/login');
      }
      const token = await tokenOf(browser, '/admin/login');
      for (const action of [MODULES, BRANDING, LOGO_REMOVE]) {
        const res = await browser.post(action, {
          _csrf: token,
          portal: 'on',
          name: 'Evil',
          colour: '#000000',
        });
        assert.equal(res.status, 303, action);
        assert.equal(res.headers.location, '/admin/login');
      }
      const upload = await uploadLogo(browser, token, {
        content: png(),
        filename: 'logo.png',
        contentType: 'image/png',
      });
      assert.equal(upload.status, 303);
      assert.equal(upload.headers.location, '/admin/login');
      const state = await workspaceState();
      assert.equal(state.portal_enabled, false);
      assert.equal(state.name, 'Acme Inc');
      assert.equal(state.logo, null);
    });

    it('refuses an agent with the readable 403 page on every GET and POST, and changes nothing', async () => {
      await rows('update workspaces set logo = ?, logo_type = ? where id = ?', [
        png(),
        'image/png',
        workspace.id,
      ]);
      const before = await workspaceState();
      const agent = await signedIn('agent');
      const inbox = await agent.get('/admin/tickets');
      assert.equal($(inbox.text)(`a[href="${MODULES}"]`).length, 0, 'no Settings link for agents');
      for (const page of [MODULES, BRANDING, LOGO]) {
        const res = await agent.get(page);
        assert.equal(res.status, 403, page);
        assert.equal($(res.text)('h1').text().trim(), 'You cannot do that here');
      }
      const token = csrfTokenOf(inbox.text);
      for (const action of [MODULES, BRANDING, LOGO_REMOVE]) {
        const res = await agent.post(action, {
          _csrf: token,
          portal: 'on',
          name: 'Evil',
          colourPicker: '#000000',
        });
        assert.equal(res.status, 403, action);
        assert.equal($(res.text)('h1').text().trim(), 'You cannot do that here');
      }
      const upload = await uploadLogo(agent, token, {
        content: JPEG,
        filename: 'logo.jpg',
        contentType: 'image/jpeg',
      });
      assert.equal(upload.status, 403);
      assert.deepEqual(await workspaceState(), before);
    });

    it('an admin demoted to agent loses access with the next request', async () => {
      const admin = await signedIn('admin');
      const token = await tokenOf(admin, MODULES);
      await rows("update users set role = 'agent' where email = 'admin@acme.test'");
      assert.equal((await admin.get(MODULES)).status, 403);
      assert.equal((await admin.post(MODULES, { _csrf: token, portal: 'on' })).status, 403);
      assert.equal((await workspaceState()).portal_enabled, false);
    });

    it('every POST needs the CSRF token, the multipart logo upload too', async () => {
      await rows('update workspaces set logo = ?, logo_type = ? where id = ?', [
        png(),
        'image/png',
        workspace.id,
      ]);
      const before = await workspaceState();
      const admin = await signedIn('admin');
      for (const action of [MODULES, BRANDING, LOGO_REMOVE]) {
        for (const token of [undefined, 'not-the-token']) {
          const form: Record<string, string> = { portal: 'on', name: 'Evil', colour: '#000000' };
          if (token) form._csrf = token;
          const res = await admin.post(action, form);
          assert.equal(res.status, 403, `${action} with ${token ?? 'no token'}`);
          assert.equal($(res.text)('h1').text().trim(), 'This form has expired');
        }
      }
      const gif = { content: JPEG, filename: 'logo.jpg', contentType: 'image/jpeg' };
      assert.equal((await uploadLogo(admin, undefined, gif)).status, 403);
      assert.equal((await uploadLogo(admin, 'not-the-token', gif)).status, 403);
      assert.deepEqual(await workspaceState(), before);
    });
  });

  describe('Settings → Modules', () => {
    it('shows the Tickets Portal checkbox, off by default, with an explanation', async () => {
      const admin = await signedIn('admin');
      const res = await admin.get(MODULES);
      assert.equal(res.status, 200);
      const page = $(res.text);
      assert.equal(page('h1').text().trim(), 'Modules');
      assert.equal(page('label[for=portal]').text().trim(), 'Tickets Portal');
      const box = page('input#portal[type=checkbox][name=portal]');
      assert.equal(box.length, 1);
      assert.equal(box.attr('checked'), undefined, 'off by default');
      assert.match(
        page('#portal-hint').text(),
        /Customers open, follow and answer their tickets at http:\/\/acme\.localhost:3000\/tickets/,
      );
      assert.match(box.attr('aria-describedby') ?? '', /portal-hint/);
      assert.equal(page('nav[aria-label="Agent app"] a[aria-current=page]').text(), 'Settings');
      assert.equal(page('nav[aria-label="Settings"] a[aria-current=page]').text(), 'Modules');
    });

    it('ticking the box serves the portal from the next request, with a notice after the redirect', async () => {
      const admin = await signedIn('admin');
      const customer = new Browser(t);
      assert.equal((await customer.get('/tickets')).status, 404, 'off at first');
      const res = await admin.submit(MODULES, MODULES, { portal: 'on' });
      assert.equal(res.status, 303);
      assert.equal(res.headers.location, MODULES);
      const page = $((await admin.get(MODULES)).text);
      assert.match(page('.panel-success[role=status]').text(), /saved/);
      assert.equal(page('#portal').attr('checked'), 'checked');
      assert.equal(
        $((await admin.get(MODULES)).text)('.panel-success').length,
        0,
        'the notice shows once',
      );
      assert.equal((await workspaceState()).portal_enabled, true);
      const portal = await customer.get('/tickets');
      assert.equal(portal.status, 200);
      assert.equal($(portal.text)('.site-name').text(), 'Acme Inc');
    });

    it('unticking it makes every portal URL 404, also for a requester who is signed in', async () => {
      await setPortal(true);
      const requester = await aRequester(workspace, 'jo@example.com');
      const ticket = await aTicket(workspace, requester);
      const jo = new Browser(t);
      await jo.signIn('jo@example.com');
      const path = `/tickets/${ticket.reference}`;
      assert.equal((await jo.get(path)).status, 200, 'reachable while on');
      const joToken = csrfTokenOf((await jo.get(path)).text);
      const brandCss = $((await jo.get('/tickets')).text)('link[href^="/tickets/brand/"]').attr(
        'href',
      )!;

      const admin = await signedIn('admin');
      const res = await admin.submit(MODULES, MODULES, {});
      assert.equal(res.status, 303);
      assert.equal((await workspaceState()).portal_enabled, false);

      for (const url of ['/tickets', path, '/tickets/login', '/tickets/new', brandCss]) {
        const page = await jo.get(url);
        assert.equal(page.status, 404, url);
      }
      const reply = await jo.post(`${path}/replies`, { _csrf: joToken, body: 'Still there?' });
      assert.equal(reply.status, 404);
      assert.equal((await rows('select id from messages')).length, 1, 'only the opening message');
      assert.equal((await admin.get('/admin/tickets')).status, 200, 'the agent app keeps working');
    });

    it('refuses a value other than the checkbox’s own with 422 and changes nothing', async () => {
      const admin = await signedIn('admin');
      const res = await admin.submit(MODULES, MODULES, { portal: 'yes' });
      assert.equal(res.status, 422);
      assert.ok(errorOf(res.text, 'portal').length > 10);
      assert.equal((await workspaceState()).portal_enabled, false);
    });
  });

  describe('Settings → Modules: confirming the address of anonymous tickets', () => {
    const confirming = async () =>
      (
        await rows<{ on: boolean }>(
          'select confirm_anonymous_email as on from workspaces where id = ?',
          [workspace.id],
        )
      )[0]!.on;

    it('shows the checkbox below the Tickets Portal switch, off by default, with what it does', async () => {
      const admin = await signedIn('admin');
      const page = $((await admin.get(MODULES)).text);
      const boxes = page('form input[type=checkbox]')
        .map((_i, el) => page(el).attr('name'))
        .get();
      assert.deepEqual(boxes, ['portal', 'confirmEmail'], 'in that order, in the one form');
      assert.equal(
        page('label[for=confirmEmail]').text().trim(),
        'Ask people who open a ticket without signing in to confirm their email address',
      );
      assert.equal(page('#confirmEmail').attr('checked'), undefined, 'off by default');
      assert.match(page('#confirmEmail').attr('aria-describedby') ?? '', /confirmEmail-hint/);
      assert.match(page('#confirmEmail-hint').text(), /until they follow a link we email them/);
    });

    it('ticking it saves it (the portal switch with it) and shows it ticked; unticking turns it off', async () => {
      await setPortal(true);
      const admin = await signedIn('admin');
      const res = await admin.submit(MODULES, MODULES, { portal: 'on', confirmEmail: 'on' });
      assert.equal(res.status, 303);
      assert.equal(await confirming(), true);
      assert.equal((await workspaceState()).portal_enabled, true);
      assert.equal($((await admin.get(MODULES)).text)('#confirmEmail').attr('checked'), 'checked');
      assert.equal((await admin.submit(MODULES, MODULES, { portal: 'on' })).status, 303);
      assert.equal(await confirming(), false);
    });

    it('refuses a value other than the checkbox’s own with 422, keeps the other box as ticked and changes nothing', async () => {
      const admin = await signedIn('admin');
      const res = await admin.submit(MODULES, MODULES, { portal: 'on', confirmEmail: 'yes' });
      assert.equal(res.status, 422);
      assert.ok(errorOf(res.text, 'confirmEmail').length > 10);
      assert.equal($(res.text)('#portal').attr('checked'), 'checked', 'what was ticked stays');
      assert.equal(await confirming(), false);
      assert.equal((await workspaceState()).portal_enabled, false);
    });

    it('an agent who is not an admin cannot change it', async () => {
      const agent = await signedIn('agent');
      const res = await agent.post(MODULES, { confirmEmail: 'on' });
      assert.equal(res.status, 403);
      assert.equal(await confirming(), false);
    });
  });

  describe('Settings → Branding: name and colour', () => {
    it('shows the current name and colour, and a preview styled by a stylesheet, never inline', async () => {
      const admin = await signedIn('admin');
      const res = await admin.get(BRANDING);
      assert.equal(res.status, 200);
      const page = $(res.text);
      assert.equal(page('h1').text().trim(), 'Branding');
      assert.equal(page('#name').val(), 'Acme Inc');
      assert.equal(page('input#colourPicker[type=color]').val(), '#1d70b8');
      assert.equal(
        page('input#colour[type=text]').val(),
        '',
        'the text field starts empty, so the picker counts',
      );
      assert.equal(page('label[for=colour]').length, 1);
      assert.equal(page('.brand-preview .site-name').text(), 'Acme Inc');
      assert.equal(page('[style]').length + page('style').length, 0, 'no inline styles (CSP)');
      const href = page('link[rel=stylesheet][href^="/admin/settings/branding/preview-"]').attr(
        'href',
      )!;
      const css = await admin.get(href);
      assert.equal(css.status, 200);
      assert.match(css.headers['content-type'] ?? '', /text\/css/);
      assert.match(
        css.text,
        /^\.brand-preview\{--brand:#1d70b8;--brand-text:#ffffff;/,
        'scoped to the preview',
      );
    });

    it('a new name and colour show on the portal at once: new header name, new stylesheet URL', async () => {
      await setPortal(true);
      const customer = new Browser(t);
      const before = $((await customer.get('/tickets')).text);
      const oldCss = before('link[href^="/tickets/brand/"]').attr('href')!;
      assert.equal(before('.site-name').text(), 'Acme Inc');

      const admin = await signedIn('admin');
      const res = await admin.submit(BRANDING, BRANDING, {
        name: 'Acme Help',
        colourPicker: '#0b0c0c',
        colour: '',
      });
      assert.equal(res.status, 303);
      assert.equal(res.headers.location, BRANDING);
      assert.match($((await admin.get(BRANDING)).text)('.panel-success').text(), /saved/);

      const after = $((await customer.get('/tickets')).text);
      assert.equal(after('.site-name').text(), 'Acme Help');
      assert.match(after('title').text(), /Acme Help/);
      const newCss = after('link[href^="/tickets/brand/"]').attr('href')!;
      assert.notEqual(newCss, oldCss, 'a new stylesheet URL');
      assert.match((await customer.get(newCss)).text, /--brand:#0b0c0c;--brand-text:#ffffff/);
      assert.equal((await customer.get(oldCss)).status, 404, 'the old version is gone');
      const state = await workspaceState();
      assert.equal(state.name, 'Acme Help');
      assert.equal(state.primary_color, '#0b0c0c');
    });

    it('the typed colour wins over the picker when filled in, in either case of letters', async () => {
      const admin = await signedIn('admin');
      await admin.submit(BRANDING, BRANDING, {
        name: 'Acme Inc',
        colourPicker: '#000000',
        colour: ' #00703C ',
      });
      assert.equal((await workspaceState()).primary_color, '#00703c');
      await admin.submit(BRANDING, BRANDING, {
        name: 'Acme Inc',
        colourPicker: '#d4351c',
        colour: '',
      });
      assert.equal(
        (await workspaceState()).primary_color,
        '#d4351c',
        'blank text: the picker counts',
      );
    });

    it('refuses malformed colours with 422, keeps what was typed and changes nothing', async () => {
      const admin = await signedIn('admin');
      const before = await workspaceState();
      for (const colour of [
        'red',
        '#12345',
        '#GGGGGG',
        '1d70b8',
        '#1d70b8ff',
        'rgb(0,0,0)',
        '#1d70b8;}body{',
      ]) {
        const res = await admin.submit(BRANDING, BRANDING, {
          name: 'New name',
          colourPicker: '#000000',
          colour,
        });
        assert.equal(res.status, 422, colour);
        assert.match(errorOf(res.text, 'colour'), /like #1d70b8/);
        const page = $(res.text);
        assert.equal(page('#colour').val(), colour, 'the typed value is kept');
        assert.equal(page('#name').val(), 'New name');
      }
      const picker = await admin.submit(BRANDING, BRANDING, {
        name: 'New name',
        colourPicker: 'blue',
        colour: '',
      });
      assert.equal(picker.status, 422);
      assert.match(errorOf(picker.text, 'colourPicker'), /Choose a colour/);
      const none = await admin.submit(BRANDING, BRANDING, { name: 'New name', colour: '' });
      assert.equal(none.status, 422);
      assert.match(errorOf(none.text, 'colourPicker'), /Choose a colour/);
      assert.deepEqual(await workspaceState(), before);
    });

    it('refuses a missing or overlong name with 422 and changes nothing', async () => {
      const admin = await signedIn('admin');
      const before = await workspaceState();
      const blank = await admin.submit(BRANDING, BRANDING, { name: '  ', colourPicker: '#000000' });
      assert.equal(blank.status, 422);
      assert.equal(errorOf(blank.text, 'name'), 'Enter a workspace name');
      const long = await admin.submit(BRANDING, BRANDING, {
        name: 'x'.repeat(101),
        colourPicker: '#000000',
      });
      assert.equal(long.status, 422);
      assert.match(errorOf(long.text, 'name'), /100 characters or fewer/);
      assert.deepEqual(await workspaceState(), before);
    });

    it('warns about colours below 4.5:1 on white and explains what the portal does about them', async () => {
      const admin = await signedIn('admin');
      for (const colour of ['#ffff00', '#777777']) {
        assert.ok(contrastRatio(colour, '#ffffff') < 4.5, `${colour} is a low-contrast example`);
        await admin.submit(BRANDING, BRANDING, { name: 'Acme Inc', colourPicker: colour });
        const warning = $((await admin.get(BRANDING)).text)('#contrast-warning');
        assert.equal(warning.length, 1, `warned for ${colour}`);
        assert.match(warning.text(), /low contrast/);
        assert.match(warning.text(), /black text automatically/);
        assert.ok(
          warning.text().includes(`darkened to ${linkColourOnWhite(colour)}`),
          'names the link colour',
        );
      }
      for (const colour of ['#0b0c0c', '#1d70b8']) {
        assert.ok(contrastRatio(colour, '#ffffff') >= 4.5, `${colour} is a good example`);
        await admin.submit(BRANDING, BRANDING, { name: 'Acme Inc', colourPicker: colour });
        assert.equal(
          $((await admin.get(BRANDING)).text)('#contrast-warning').length,
          0,
          `no warning for ${colour}`,
        );
      }
    });

    it('answers 404 for a preview stylesheet of an old version', async () => {
      const admin = await signedIn('admin');
      const href = $((await admin.get(BRANDING)).text)(
        'link[href^="/admin/settings/branding/preview-"]',
      ).attr('href')!;
      await admin.submit(BRANDING, BRANDING, { name: 'Acme Inc', colourPicker: '#00703c' });
      assert.equal((await admin.get(href)).status, 404);
      assert.equal((await admin.get('/admin/settings/branding/preview-nonsense.css')).status, 404);
    });
  });

  describe('Settings → Branding: logo', () => {
    const images: [string, Upload, string][] = [
      ['PNG', { content: png(), filename: 'logo.png', contentType: 'image/png' }, 'image/png'],
      ['JPEG', { content: JPEG, filename: 'logo.jpg', contentType: 'image/jpeg' }, 'image/jpeg'],
      ['WebP', { content: WEBP, filename: 'logo.webp', contentType: 'image/webp' }, 'image/webp'],
    ];

    for (const [kind, file, type] of images) {
      it(`accepts a ${kind} logo, stores it and shows it on the portal at once`, async () => {
        await setPortal(true);
        const admin = await signedIn('admin');
        const res = await uploadLogo(admin, await tokenOf(admin, BRANDING), file);
        assert.equal(res.status, 303);
        assert.equal(res.headers.location, BRANDING);
        const state = await workspaceState();
        assert.deepEqual(state.logo, file.content);
        assert.equal(state.logo_type, type);

        const page = $((await admin.get(BRANDING)).text);
        assert.match(page('.panel-success').text(), /logo was uploaded/);
        assert.equal(page('.brand-preview img.brand-logo').attr('src'), LOGO);
        const own = await admin.get(LOGO);
        assert.equal(own.status, 200);
        assert.equal(
          own.headers['content-type'],
          'image/png',
          'the resized copy, as customers see it',
        );

        const customer = new Browser(t);
        const src = $((await customer.get('/tickets')).text)('img.brand-logo').attr('src')!;
        assert.equal(src, `/tickets/brand/logo-${state.logo_version}`);
        // The portal serves the resized copy (a PNG); the upload is stored as given.
        const served = await customer.get(src);
        assert.equal(served.status, 200);
        assert.equal(served.headers['content-type'], 'image/png');
        const size = await sharp(served.body as Buffer).metadata();
        assert.deepEqual([size.format, size.width, size.height], ['png', 1, 1], 'never enlarged');
      });
    }

    it('judges by content, not by name or declared type: a PNG called logo.txt is a PNG', async () => {
      const admin = await signedIn('admin');
      const res = await uploadLogo(admin, await tokenOf(admin, BRANDING), {
        content: png(),
        filename: 'logo.txt',
        contentType: 'text/plain',
      });
      assert.equal(res.status, 303);
      assert.equal((await workspaceState()).logo_type, 'image/png');
    });

    const refused: [string, Upload, RegExp][] = [
      [
        'an SVG named logo.png and declared image/png',
        { content: SVG, filename: 'logo.png', contentType: 'image/png' },
        /PNG, JPEG or WebP/,
      ],
      [
        'an SVG declared as such',
        { content: SVG, filename: 'logo.svg', contentType: 'image/svg+xml' },
        /PNG, JPEG or WebP/,
      ],
      [
        'a text file renamed logo.jpg',
        {
          content: Buffer.from('just some text\n'),
          filename: 'logo.jpg',
          contentType: 'image/jpeg',
        },
        /PNG, JPEG or WebP/,
      ],
      [
        'a GIF',
        { content: GIF, filename: 'logo.gif', contentType: 'image/gif' },
        /PNG, JPEG or WebP/,
      ],
      [
        'an empty file',
        { content: Buffer.alloc(0), filename: 'logo.png', contentType: 'image/png' },
        /empty/,
      ],
      [
        'a PNG one byte over 512 KB',
        { content: png(512 * KB + 1), filename: 'big.png', contentType: 'image/png' },
        /^The logo must be 512 KB or smaller$/,
      ],
      [
        'a 1.5 MB PNG',
        { content: png(1536 * KB), filename: 'big.png', contentType: 'image/png' },
        /^The logo must be 512 KB or smaller$/,
      ],
    ];

    for (const [what, file, message] of refused) {
      it(`refuses ${what} with 422 and stores nothing`, async () => {
        await rows('update workspaces set logo = ?, logo_type = ? where id = ?', [
          JPEG,
          'image/jpeg',
          workspace.id,
        ]);
        const before = await workspaceState();
        const admin = await signedIn('admin');
        const res = await uploadLogo(admin, await tokenOf(admin, BRANDING), file);
        assert.equal(res.status, 422);
        assert.match(errorOf(res.text, 'logo'), message);
        assert.equal($(res.text)('h1').text().trim(), 'Branding', 'the page again');
        assert.deepEqual(await workspaceState(), before);
      });
    }

    it('accepts a logo of exactly 512 KB', async () => {
      const admin = await signedIn('admin');
      const res = await uploadLogo(admin, await tokenOf(admin, BRANDING), {
        content: png(512 * KB),
        filename: 'logo.png',
        contentType: 'image/png',
      });
      assert.equal(res.status, 303);
      assert.equal((await workspaceState()).logo?.length, 512 * KB);
    });

    it('asks for a file when none was chosen', async () => {
      const admin = await signedIn('admin');
      const res = await uploadLogo(admin, await tokenOf(admin, BRANDING));
      assert.equal(res.status, 422);
      assert.match(errorOf(res.text, 'logo'), /Select a PNG, JPEG or WebP image/);
      assert.equal((await workspaceState()).logo, null);
    });

    it('cuts off a body over 2 MB with the 413 page and stores nothing', async () => {
      const admin = await signedIn('admin');
      const res = await uploadLogo(admin, await tokenOf(admin, BRANDING), {
        content: png(3 * 1024 * KB),
        filename: 'huge.png',
        contentType: 'image/png',
      });
      assert.equal(res.status, 413);
      assert.equal($(res.text)('h1').text().trim(), 'What you sent is too large');
      assert.equal((await workspaceState()).logo, null);
    });

    it('does not read an upload from anyone but a signed-in admin', async () => {
      const huge = { content: png(3 * 1024 * KB), filename: 'huge.png', contentType: 'image/png' };
      // Were the body parsed first, these would be 413: the answer comes before any upload is read.
      const stranger = await uploadLogo(new Browser(t), 'no-token', huge);
      assert.equal(stranger.status, 303);
      assert.equal(stranger.headers.location, '/admin/login');
      const agent = await signedIn('agent');
      assert.equal(
        (await uploadLogo(agent, await tokenOf(agent, '/admin/tickets'), huge)).status,
        403,
      );
      assert.equal((await workspaceState()).logo, null);
    });

    it('refuses an upload with a second file with 400 and stores nothing', async () => {
      const admin = await signedIn('admin');
      const token = await tokenOf(admin, BRANDING);
      const res = await admin.agent
        .post(LOGO)
        .set('Host', admin.host)
        .redirects(0)
        .field('_csrf', token)
        .attach('logo', png(), { filename: 'a.png', contentType: 'image/png' })
        .attach('logo', JPEG, { filename: 'b.jpg', contentType: 'image/jpeg' });
      assert.equal(res.status, 400);
      assert.equal((await workspaceState()).logo, null);
    });

    it('removes the logo: the portal shows the name alone and the old logo URL is gone', async () => {
      await setPortal(true);
      const admin = await signedIn('admin');
      await uploadLogo(admin, await tokenOf(admin, BRANDING), {
        content: png(),
        filename: 'logo.png',
        contentType: 'image/png',
      });
      const customer = new Browser(t);
      const src = $((await customer.get('/tickets')).text)('img.brand-logo').attr('src')!;
      assert.equal((await customer.get(src)).status, 200);

      const page = $((await admin.get(BRANDING)).text);
      assert.equal(page(`form[action="${LOGO_REMOVE}"] button`).text().trim(), 'Remove the logo');
      const res = await admin.submit(BRANDING, LOGO_REMOVE);
      assert.equal(res.status, 303);
      assert.equal(res.headers.location, BRANDING);
      const after = $((await admin.get(BRANDING)).text);
      assert.match(after('.panel-success').text(), /logo was removed/);
      assert.equal(after(`form[action="${LOGO_REMOVE}"]`).length, 0);
      assert.equal((await admin.get(LOGO)).status, 404);

      const state = await workspaceState();
      assert.equal(state.logo, null);
      assert.equal(state.logo_type, null);
      assert.equal($((await customer.get('/tickets')).text)('img.brand-logo').length, 0);
      assert.equal((await customer.get(src)).status, 404);
    });
  });
});
