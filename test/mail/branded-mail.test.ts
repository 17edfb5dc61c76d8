import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { makeTestApp, type TestApp } from '../helpers/app';
import { $, Browser } from '../helpers/client';
import { aRequester, aTicket, anAgent, aWorkspace, rows } from '../helpers/fixtures';
import {
  parseAddressHeader,
  parseMime,
  partOf,
  TestSmtpServer,
  type MimePart,
  type Received,
} from '../helpers/smtp';
import type { Workspace } from '../../src/models/workspaces';
import { contrastRatio } from '../../src/services/branding';
import { resizeLogo } from '../../src/services/logos';
import { brandMail } from '../../src/services/mail-branding';
import { smtpTransport } from '../../src/services/mail-transport';
import { hashPassword } from '../../src/services/passwords';
import { createTemplates, viewsDirectory } from '../../src/services/templates';

const MAIL_FROM = 'Tickets Portal <no-reply@helpdesk.example>';
const PASSWORD = 'a long enough password';

interface Read {
  headers: Map<string, string>;
  from: { name: string; address: string };
  text: string;
  html: string;
  parts: MimePart[];
}

function read(mail: Received): Read {
  const parts = parseMime(mail.raw);
  const headers = parts[0]!.headers;
  return {
    headers,
    from: parseAddressHeader(headers.get('from') ?? ''),
    text: partOf(parts, 'text/plain')!.body,
    html: partOf(parts, 'text/html')!.body,
    parts,
  };
}

/** The header band of a branded mail: its colours and what it shows. */
function headerOf(html: string) {
  const page = $(html);
  const cell = page('td.brand-header');
  const style = (name: string) =>
    new RegExp(`(?:^|;)\\s*${name}:\\s*(#[0-9a-f]{6})`).exec(cell.attr('style') ?? '')?.[1];
  return {
    name: cell.text().trim(),
    background: style('background-color'),
    colour: style('color'),
    logo: page('img.brand-logo'),
    linkRule: /a \{ color: (#[0-9a-f]{6}); \}/.exec(page('head style').text())?.[1],
  };
}

describe('mail that looks like the workspace', () => {
  let smtp: TestSmtpServer;
  let t: TestApp;
  let workspace: Workspace;

  beforeEach(async () => {
    smtp = new TestSmtpServer();
    const port = await smtp.listen();
    t = makeTestApp({ transport: smtpTransport(`smtp://127.0.0.1:${port}`, MAIL_FROM) });
    workspace = await aWorkspace('acme', { name: 'Acme Inc', color: '#ffdd00' });
  });

  afterEach(async () => {
    await smtp.close();
  });

  async function giveLogo(): Promise<Buffer> {
    const upload = await sharp({
      create: { width: 600, height: 200, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } },
    })
      .composite([
        {
          input: await sharp({
            create: { width: 300, height: 100, channels: 3, background: '#0b0c0c' },
          })
            .png()
            .toBuffer(),
        },
      ])
      .png()
      .toBuffer();
    const resized = await resizeLogo(upload);
    await rows(
      `update workspaces set logo = ?, logo_type = 'image/png', logo_resized = ?,
         logo_resized_type = ?, logo_version = logo_version + 1 where id = ?`,
      [upload, resized.content, resized.type, workspace.id],
    );
    return resized.content;
  }

  async function signInMail(): Promise<Read> {
    const browser = new Browser(t);
    const res = await browser.submit('/tickets/login', '/tickets/login', {
      email: 'jo@example.com',
    });
    assert.equal(res.status, 200);
    await t.deliverMail();
    assert.equal(smtp.received.length, 1);
    return read(smtp.received[0]!);
  }

  async function agentReplyMail(): Promise<Read> {
    const jo = await aRequester(workspace, 'jo@example.com', 'Jo');
    const ticket = await aTicket(workspace, jo, { subject: 'Printer on fire' });
    await anAgent(workspace, {
      email: 'alex@acme.test',
      name: 'Alex Agent',
      passwordHash: await hashPassword(PASSWORD),
    });
    const alex = new Browser(t);
    assert.equal((await alex.signInAgent('alex@acme.test', PASSWORD)).status, 303);
    const page = `/admin/tickets/${ticket.reference}`;
    const res = await alex.submit(page, `${page}/replies`, {
      visibility: 'public',
      body: 'Try the blue button.',
    });
    assert.equal(res.status, 303);
    await t.deliverMail();
    assert.equal(smtp.received.length, 1);
    return read(smtp.received[0]!);
  }

  /** A ticket opened without signing in, where the workspace asks to confirm the address. */
  async function ticketOpenedMail(): Promise<Read> {
    await rows('update workspaces set confirm_anonymous_email = true where id = ?', [workspace.id]);
    const res = await new Browser(t).submit('/tickets/new', '/tickets/new', {
      name: 'Sam Visitor',
      email: 'sam@example.com',
      subject: 'Printer on fire',
      description: 'It smells of toast.',
    });
    assert.equal(res.status, 303);
    await t.deliverMail();
    assert.equal(smtp.received.length, 1);
    return read(smtp.received[0]!);
  }

  const kinds: [string, () => Promise<Read>, RegExp][] = [
    ['the sign-in mail', signInMail, /\/tickets\/login\/[A-Za-z0-9_-]{43}/],
    ['an agent’s reply', agentReplyMail, /Try the blue button\./],
    [
      'the ticket-opened mail that asks to confirm the address',
      ticketOpenedMail,
      /\/tickets\/confirm\/[A-Za-z0-9_-]{43}/,
    ],
  ];

  for (const [kind, send, essential] of kinds) {
    it(`${kind} comes from the workspace’s name at MAIL_FROM’s address, with its logo and colour`, async () => {
      const logo = await giveLogo();
      const mail = await send();
      assert.deepEqual(mail.from, { name: 'Acme Inc', address: 'no-reply@helpdesk.example' });
      assert.equal(smtp.received[0]!.mailFrom, 'no-reply@helpdesk.example', 'the envelope too');

      const header = headerOf(mail.html);
      assert.equal(header.name, 'Acme Inc');
      assert.equal(header.background, '#ffdd00');
      assert.equal(header.colour, '#000000', 'black reads better on yellow');
      assert.ok(contrastRatio(header.background, header.colour) >= 4.5);
      assert.ok(contrastRatio(header.linkRule!, '#ffffff') >= 4.5, 'links darkened to 4.5:1');

      // The logo is inside the mail (nothing fetched, so no open is tracked), at half its pixels.
      assert.equal(header.logo.length, 1);
      assert.equal(header.logo.attr('alt'), '', 'the name beside it says it');
      const cid = header.logo.attr('src')!;
      assert.match(cid, /^cid:/);
      const image = mail.parts.find(
        (p) => p.headers.get('content-id') === `<${cid.slice('cid:'.length)}>`,
      );
      assert.ok(image, 'the image travels in the mail');
      assert.match(image.headers.get('content-type') ?? '', /^image\/png/);
      assert.deepEqual(image.bytes, logo);
      const size = await sharp(logo).metadata();
      assert.deepEqual(
        [Number(header.logo.attr('width')), Number(header.logo.attr('height'))],
        [Math.round(size.width / 2), Math.round(size.height / 2)],
      );
      assert.equal(
        $(mail.html)('img[src^="http"], img[src^="//"]').length,
        0,
        'no remote image in the mail',
      );

      // The plain-text part stands alone: everything essential, no markup, no image reference.
      assert.match(mail.text, essential);
      assert.match(mail.text, /Acme Inc/);
      assert.doesNotMatch(mail.text, /cid:|<[a-z]|#ffdd00/i);
    });
  }

  it('without a logo the mail shows the name on the colour, and has no image', async () => {
    await rows('update workspaces set primary_color = ? where id = ?', ['#0b3d91', workspace.id]);
    const mail = await signInMail();
    const header = headerOf(mail.html);
    assert.equal(header.name, 'Acme Inc');
    assert.deepEqual([header.background, header.colour], ['#0b3d91', '#ffffff']);
    assert.equal(header.logo.length, 0);
    assert.equal(
      mail.parts.filter((p) => /^image\//.test(p.headers.get('content-type') ?? '')).length,
      0,
    );
  });

  const names: [string, string, string][] = [
    [
      'quotes, a comma and angle brackets',
      'Acme, Inc. "Support" <evil@attacker.example>',
      'Acme, Inc. "Support" <evil@attacker.example>',
    ],
    ['letters beyond ASCII', 'Ünïcödé Straße GmbH – 日本支社', 'Ünïcödé Straße GmbH – 日本支社'],
    ['a backslash and a semicolon', 'Acme \\ Co; Ltd', 'Acme \\ Co; Ltd'],
    ['a hundred characters that need encoding', 'é'.repeat(100), 'é'.repeat(100)],
    [
      'CR LF and a header after it',
      'Acme\r\nBcc: victim@example.com',
      'Acme Bcc: victim@example.com',
    ],
    ['a bare LF and a header after it', 'Acme\nX-Injected: yes', 'Acme X-Injected: yes'],
  ];

  for (const [what, name, shown] of names) {
    it(`a workspace name with ${what} is the sender's name exactly, and cannot change the address or add a header`, async () => {
      // Set directly: the branding form refuses control characters, but mail must not trust it.
      await rows('update workspaces set name = ? where id = ?', [name, workspace.id]);
      const mail = await signInMail();
      assert.deepEqual(mail.from, { name: shown, address: 'no-reply@helpdesk.example' });
      assert.equal(smtp.received[0]!.mailFrom, 'no-reply@helpdesk.example');
      assert.deepEqual(smtp.received[0]!.rcptTo, ['jo@example.com'], 'nobody else receives it');
      assert.ok(!mail.headers.has('bcc') && !mail.headers.has('x-injected'), 'no added header');
      const head = smtp.received[0]!.raw.slice(0, smtp.received[0]!.raw.indexOf('\r\n\r\n'));
      assert.ok(
        head.split('\r\n').every((line) => /^([A-Za-z-]+:|[ \t])/.test(line)),
        'every header line is a header or its continuation',
      );
    });
  }

  it('every mail template uses the branded layout', () => {
    const templates = createTemplates();
    const { view } = brandMail({
      name: 'Acme <Inc>',
      primaryColor: '#1d70b8',
      logo: null,
    });
    const htmlTemplates = readdirSync(path.join(viewsDirectory, 'emails')).filter((f) =>
      f.endsWith('.html.njk'),
    );
    assert.ok(htmlTemplates.length >= 2);
    for (const file of htmlTemplates) {
      const html = templates.render(`emails/${file}`, { brand: view, subject: 'S' });
      const header = headerOf(html);
      assert.equal(header.name, 'Acme <Inc>', `${file}: the name, escaped`);
      assert.equal(header.background, '#1d70b8', file);
    }
  });
});
