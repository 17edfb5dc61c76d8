import assert from 'node:assert/strict';
import type { Requester } from '../../src/models/requesters';
import type { Workspace } from '../../src/models/workspaces';
import { makeTestApp, type TestApp } from '../helpers/app';
import { $, Browser } from '../helpers/client';
import {
  aRequester,
  aTicket,
  aWorkspace,
  rows,
  tenantRows,
  type TicketFixture,
} from '../helpers/fixtures';
import { allowedSamples, pdf, png } from '../helpers/sample-files';

// The allowed types as every refusal names them (files.refused.type in the catalogues).
const ALLOWED_TYPES_TEXT =
  'PNG, JPEG, GIF, WebP, PDF, plain text, CSV, Word (.docx), Excel (.xlsx) or PowerPoint (.pptx)';

/** The files the thread lists, as text: "name (type, size)" per link. */
function listedFiles(html: string): { name: string; href: string; meta: string }[] {
  const page = $(html);
  return page('.thread .attachments li')
    .map((_i, li) => ({
      name: page(li).find('a').text(),
      href: page(li).find('a').attr('href') ?? '',
      meta: page(li).find('.hint').text(),
    }))
    .get();
}

function binary(res: { body: unknown }): Buffer {
  return res.body as Buffer;
}

async function download(browser: Browser, href: string) {
  return browser.agent
    .get(href)
    .set('Host', browser.host)
    .buffer(true)
    .parse((res, done) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done(null, Buffer.concat(chunks)));
    })
    .redirects(0);
}

describe('attachments in the portal', () => {
  let t: TestApp;
  let acme: Workspace;
  let jo: Requester;
  let browser: Browser;
  let ticket: TicketFixture;

  beforeEach(async () => {
    t = makeTestApp({ env: { ATTACHMENT_MAX_FILE_MB: '1', ATTACHMENT_MAX_MESSAGE_MB: '2' } });
    acme = await aWorkspace('acme');
    jo = await aRequester(acme, 'jo@example.com', 'Jo');
    ticket = await aTicket(acme, jo, { subject: 'Broken invoice' });
    browser = new Browser(t);
    await browser.signIn('jo@example.com');
  });

  /** An anonymous ticket opened with one text file ("error at line 3"), answered 303. */
  async function openWithAFile(visitor: Browser, subject: string) {
    const res = await visitor.submitFiles(
      '/tickets/new',
      '/tickets/new',
      { name: 'Vi', email: 'vi@example.com', subject, description: 'Attached.' },
      [{ name: 'log.txt', content: Buffer.from('error at line 3\n') }],
    );
    assert.equal(res.status, 303, res.text);
    return res;
  }

  const ticketPath = () => `/tickets/${ticket.reference}`;
  const replyPath = () => `/tickets/${ticket.reference}/replies`;

  it('opens a ticket with files, lists each with name, type and size, and serves them back', async () => {
    const image = await png();
    const res = await browser.submitFiles(
      '/tickets/new',
      '/tickets/new',
      { subject: 'Screenshots', description: 'See attached.' },
      [
        { name: 'screen.png', content: image },
        { name: 'invoice.pdf', content: pdf() },
      ],
    );
    assert.equal(res.status, 303, res.text);
    const page = await browser.get(res.headers.location!);
    const files = listedFiles(page.text);
    assert.deepEqual(
      files.map((f) => [f.name, f.meta]),
      [
        ['screen.png', `PNG image, ${image.length} bytes`],
        ['invoice.pdf', `PDF, ${pdf().length} bytes`],
      ],
    );
    const got = await download(browser, files[0]!.href);
    assert.equal(got.status, 200);
    assert.deepEqual(binary(got), image);
    assert.equal(got.headers['content-type'], 'image/png');
  });

  it('serves a file only as a sandboxed, unsniffed, private download under an RFC 5987 name', async () => {
    const name = 'Rechnung März (final).txt';
    await browser.submitFiles(ticketPath(), replyPath(), { body: 'Here it is' }, [
      { name, content: Buffer.from('Total: 12 EUR\n') },
    ]);
    const [file] = listedFiles((await browser.get(ticketPath())).text);
    assert.equal(file!.name, name);
    const got = await download(browser, file!.href);
    assert.equal(got.status, 200);
    assert.equal(got.headers['content-type'], 'text/plain');
    assert.equal(
      got.headers['content-disposition'],
      `attachment; filename="Rechnung M_rz (final).txt"; filename*=UTF-8''Rechnung%20M%C3%A4rz%20%28final%29.txt`,
    );
    assert.equal(got.headers['x-content-type-options'], 'nosniff');
    assert.equal(got.headers['content-security-policy'], "sandbox; default-src 'none'");
    assert.equal(got.headers['cache-control'], 'private');
  });

  it('accepts every allowed type, whatever the name, and records the detected type', async () => {
    const samples = await allowedSamples();
    for (let i = 0; i < samples.length; i += 5) {
      const batch = samples
        .slice(i, i + 5)
        .map((s, j) => ({ name: `upload-${i + j}`, content: s.content }));
      const res = await browser.submitFiles(
        ticketPath(),
        replyPath(),
        { body: `Batch ${i}` },
        batch,
      );
      assert.equal(res.status, 303, res.text);
    }
    const stored = await rows<{ content_type: string }>(
      'select content_type from attachments a join messages m on m.id = a.message_id order by m.body, a.position',
    );
    assert.deepEqual(
      stored.map((r) => r.content_type),
      samples.map((s) => s.type),
    );
  });

  it('refuses a disguised file by name, keeps the reply text, and stores nothing', async () => {
    const before = await tenantRows();
    const res = await browser.submitFiles(ticketPath(), replyPath(), { body: 'My reply text' }, [
      { name: 'fine.pdf', content: pdf() },
      { name: 'cat.png', content: Buffer.from('<html><script>alert(1)</script></html>') },
    ]);
    assert.equal(res.status, 422);
    const page = $(res.text);
    assert.match(page('title').text(), /^Error: /);
    const summary = page('.error-summary a');
    assert.equal(summary.length, 1);
    assert.equal(summary.attr('href'), '#attachments');
    assert.equal(summary.text().trim(), `“cat.png” must be a ${ALLOWED_TYPES_TEXT} file`);
    assert.match(page('#attachments-error').text(), /“cat.png” must be a PNG, JPEG/);
    assert.equal(page('#attachments').attr('aria-invalid'), 'true');
    assert.equal(page('textarea#body').text(), 'My reply text');
    assert.deepEqual(await tenantRows(), before);
  });

  it('names bad files as well as missing fields on a new ticket, keeping the values', async () => {
    const before = await tenantRows();
    const res = await browser.submitFiles(
      '/tickets/new',
      '/tickets/new',
      { subject: 'Kept subject', description: '' },
      [{ name: 'evil.exe', content: Buffer.concat([Buffer.from('MZ'), Buffer.alloc(100)]) }],
    );
    assert.equal(res.status, 422);
    const page = $(res.text);
    assert.deepEqual(
      page('.error-summary a')
        .map((_i, a) => page(a).attr('href'))
        .get(),
      ['#description', '#attachments'],
    );
    assert.equal(page('input#subject').val(), 'Kept subject');
    assert.deepEqual(await tenantRows(), before);
  });

  it('cleans names: no path, no control or bidirectional characters, NFC', async () => {
    await browser.submitFiles(ticketPath(), replyPath(), { body: 'x' }, [
      { name: '..\\..\\secret\\Cafe\u0301\u202Egpj.txt', content: Buffer.from('hello\n') },
    ]);
    const [file] = listedFiles((await browser.get(ticketPath())).text);
    assert.equal(file!.name, 'Caf\u00e9gpj.txt');
  });

  it('refuses more files than the limit with a message, storing nothing', async () => {
    const before = await tenantRows();
    const six = [0, 1, 2, 3, 4, 5].map((i) => ({
      name: `n${i}.txt`,
      content: Buffer.from(`n${i}\n`),
    }));
    const res = await browser.submitFiles(ticketPath(), replyPath(), { body: 'Six files' }, six);
    assert.equal(res.status, 422);
    assert.equal($(res.text)('.error-summary a').text().trim(), 'Select up to 5 files');
    assert.deepEqual(await tenantRows(), before);
  });

  it('answers 413 for a file over its limit, or files over the message limit, storing nothing', async () => {
    const before = await tenantRows();
    const big = (kb: number) => Buffer.concat([pdf(), Buffer.alloc(kb * 1024, 0x20)]);
    const one = await browser.submitFiles(ticketPath(), replyPath(), { body: 'Too big' }, [
      { name: 'big.pdf', content: big(1024) },
    ]);
    assert.equal(one.status, 413);
    const together = await browser.submitFiles(ticketPath(), replyPath(), { body: 'Too much' }, [
      { name: 'a.pdf', content: big(900) },
      { name: 'b.pdf', content: big(900) },
      { name: 'c.pdf', content: big(900) },
    ]);
    assert.equal(together.status, 413);
    assert.deepEqual(await tenantRows(), before);
  });

  it('refuses a form without its CSRF token before storing anything', async () => {
    const before = await tenantRows();
    const res = await browser.postFiles(replyPath(), { body: 'No token' }, [
      { name: 'a.pdf', content: pdf() },
    ]);
    assert.equal(res.status, 403);
    assert.equal(res.headers.connection, 'close');
    assert.deepEqual(await tenantRows(), before);
  });

  it('answers 404 to another requester, for the file and for a reply with files to the ticket', async () => {
    await browser.submitFiles(ticketPath(), replyPath(), { body: 'Mine' }, [
      { name: 'mine.pdf', content: pdf() },
    ]);
    const [file] = listedFiles((await browser.get(ticketPath())).text);
    await aRequester(acme, 'sam@example.com', 'Sam');
    const sam = new Browser(t);
    await sam.signIn('sam@example.com');
    assert.equal((await download(sam, file!.href)).status, 404);
    const before = await tenantRows();
    const page = await sam.get('/tickets/new');
    const token = $(page.text)('input[name=_csrf]').val() as string;
    const reply = await sam.postFiles(replyPath(), { _csrf: token, body: 'Sneaky' }, [
      { name: 'x.pdf', content: pdf() },
    ]);
    assert.equal(reply.status, 404);
    assert.deepEqual(await tenantRows(), before);
  });

  it('answers 404 for a made-up or malformed file id', async () => {
    const [madeUp] = await rows<{ id: string }>('select gen_random_uuid() as id');
    for (const id of [madeUp!.id, 'not-a-uuid', '%00', 'a'.repeat(300)]) {
      const res = await download(browser, `/tickets/${ticket.reference}/attachments/${id}`);
      assert.equal(res.status, 404, id);
    }
  });

  it('lets the anonymous visitor who opened a ticket attach files and download them', async () => {
    const visitor = new Browser(t);
    const res = await openWithAFile(visitor, 'Help');
    const [file] = listedFiles((await visitor.get(res.headers.location!)).text);
    const got = await download(visitor, file!.href);
    assert.equal(got.status, 200);
    assert.equal(binary(got).toString(), 'error at line 3\n');
    assert.equal((await download(browser, file!.href)).status, 404);
  });

  it('keeps the files of a ticket held until its address is confirmed, and shows them on its page', async () => {
    // The visitor's files are stored under the visitor's scope on a held ticket, which no other
    // customer scope sees: the trigger that marks the message as having files (20261201170000;
    // since 20261201190000 it marks as the system scope) must mark it there too.
    await rows('update workspaces set confirm_anonymous_email = true where id = ?', [acme.id]);
    const visitor = new Browser(t);
    const res = await openWithAFile(visitor, 'Held');
    const [held] = await rows<{ held: boolean; has_files: boolean }>(
      `select t.held_since is not null as held, m.has_files
         from tickets t join messages m on m.workspace_id = t.workspace_id and m.ticket_id = t.id
        where t.subject = 'Held'`,
    );
    assert.deepEqual(held, { held: true, has_files: true });
    const [file] = listedFiles((await visitor.get(res.headers.location!)).text);
    assert.equal(file?.name, 'log.txt');
    const got = await download(visitor, file.href);
    assert.equal(binary(got).toString(), 'error at line 3\n');
  });

  it('still takes a reply without files, from a multipart form with an empty file input', async () => {
    const res = await browser.submitFiles(ticketPath(), replyPath(), { body: 'Just words' }, []);
    assert.equal(res.status, 303, res.text);
    assert.deepEqual(await rows('select id from attachments'), []);
  });
});
