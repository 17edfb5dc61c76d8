import assert from 'node:assert/strict';
import type { Workspace } from '../../src/models/workspaces';
import { MINUTE, makeTestApp, type TestApp } from '../helpers/app';
import { $, Browser } from '../helpers/client';
import {
  aRequester,
  aTicket,
  aWorkspace,
  anAgentWithPassword,
  rows,
  tenantRows,
  type TicketFixture,
} from '../helpers/fixtures';
import { pdf, png } from '../helpers/sample-files';
import { parseMime, partOf, TestSmtpServer } from '../helpers/smtp';
import { smtpTransport } from '../../src/services/mail-transport';

const PASSWORD = 'correct horse battery staple';

function fileLinks(html: string): { name: string; href: string }[] {
  const page = $(html);
  return page('.thread .attachments a')
    .map((_i, a) => ({ name: page(a).text(), href: page(a).attr('href') ?? '' }))
    .get();
}

describe('attachments in the agent app', () => {
  let t: TestApp;
  let acme: Workspace;
  let ticket: TicketFixture;
  let agent: Browser;
  let customer: Browser;

  beforeEach(async () => {
    t = makeTestApp();
    acme = await aWorkspace('acme');
    const jo = await aRequester(acme, 'jo@example.com', 'Jo');
    ticket = await aTicket(acme, jo, { subject: 'Printer' });
    await anAgentWithPassword(acme, { email: 'alex@acme.test', password: PASSWORD });
    agent = new Browser(t);
    assert.equal((await agent.signInAgent('alex@acme.test', PASSWORD)).status, 303);
    customer = new Browser(t);
    await customer.signIn('jo@example.com');
  });

  const adminTicket = () => `/admin/tickets/${ticket.reference}`;
  const adminReply = () => `/admin/tickets/${ticket.reference}/replies`;
  const portalTicket = () => `/tickets/${ticket.reference}`;

  /** A public reply with the manual, then an internal note with the contract: both 303. */
  async function replyAndNote(manual: Buffer): Promise<void> {
    const reply = await agent.submitFiles(
      adminTicket(),
      adminReply(),
      { visibility: 'public', body: 'Manual attached', replyStatus: '' },
      [{ name: 'manual.pdf', content: manual }],
    );
    assert.equal(reply.status, 303, reply.text);
    t.clock.advance(MINUTE);
    const note = await agent.submitFiles(
      adminTicket(),
      adminReply(),
      { visibility: 'internal', body: 'Their contract', replyStatus: '' },
      [{ name: 'contract.png', content: await png() }],
    );
    assert.equal(note.status, 303, note.text);
  }

  it('a public reply’s files reach the customer; an internal note’s never do', async () => {
    await replyAndNote(pdf());

    const agentFiles = fileLinks((await agent.get(adminTicket())).text);
    assert.deepEqual(
      agentFiles.map((f) => f.name),
      ['manual.pdf', 'contract.png'],
    );
    for (const file of agentFiles) assert.equal((await agent.get(file.href)).status, 200);

    const customerFiles = fileLinks((await customer.get(portalTicket())).text);
    assert.deepEqual(
      customerFiles.map((f) => f.name),
      ['manual.pdf'],
    );
    const noteId = agentFiles[1]!.href.split('/').at(-1)!;
    const direct = await customer.get(`${portalTicket()}/attachments/${noteId}`);
    assert.equal(direct.status, 404);
    const publicId = agentFiles[0]!.href.split('/').at(-1)!;
    assert.equal((await customer.get(`${portalTicket()}/attachments/${publicId}`)).status, 200);
  });

  it('the reply mail names the files kept with the reply, with their sizes; a note mails nothing', async () => {
    await t.deliverMail(); // the customer's sign-in mail
    const file = pdf();
    await replyAndNote(file);
    const mails = await t.deliverMail();
    assert.equal(mails.length, 1);
    const size =
      file.length < 1024 ? `${file.length} bytes` : `${Math.round(file.length / 1024)} KB`;
    assert.match(
      mails[0]!.text,
      new RegExp(`A file with this reply:\\s+- manual\\.pdf \\(${size}\\)`),
    );
    assert.match(mails[0]!.text, /Open the conversation below to download it\./);
    assert.match(mails[0]!.html ?? '', /<li>manual\.pdf \(/);
    assert.doesNotMatch(mails[0]!.text, /contract\.png/);
  });

  it('opens a ticket for a customer with files in the customer’s first message', async () => {
    const res = await agent.submitFiles(
      '/admin/tickets/new',
      '/admin/tickets/new',
      { email: 'jo@example.com', name: 'Jo', subject: 'Phoned in', body: 'Photo of the label' },
      [{ name: 'label.png', content: await png() }],
    );
    assert.equal(res.status, 303, res.text);
    const ref = res.headers.location!.split('/').at(-1)!;
    const files = fileLinks((await customer.get(`/tickets/${ref}`)).text);
    assert.deepEqual(
      files.map((f) => f.name),
      ['label.png'],
    );
    const [message] = await rows<{ author_kind: string }>(
      'select m.author_kind from attachments a join messages m on m.id = a.message_id',
    );
    assert.equal(message!.author_kind, 'requester');
  });

  it('refuses a disguised file on a reply, keeping the message and choices, storing nothing', async () => {
    const before = await tenantRows();
    const res = await agent.submitFiles(
      adminTicket(),
      adminReply(),
      { visibility: 'internal', body: 'Keep me', replyStatus: 'pending' },
      [{ name: 'report.pdf', content: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>') }],
    );
    assert.equal(res.status, 422);
    const page = $(res.text);
    assert.match(page('.error-summary').text(), /“report.pdf” must be a PNG, JPEG/);
    assert.equal(page('textarea#body').text(), 'Keep me');
    assert.equal(page('#visibility-internal').attr('checked'), 'checked');
    assert.equal(page('#replyStatus option[selected]').val(), 'pending');
    assert.deepEqual(await tenantRows(), before);
  });

  it('takes no multipart body from someone who is not signed in', async () => {
    const before = await tenantRows();
    const stranger = new Browser(t);
    const res = await stranger.postFiles(adminReply(), { visibility: 'public', body: 'x' }, [
      { name: 'a.pdf', content: pdf() },
    ]);
    assert.ok([303, 403, 404].includes(res.status), String(res.status));
    assert.equal(res.headers.connection, 'close');
    assert.deepEqual(await tenantRows(), before);
  });
});

describe('the reply mail’s files, delivered by SMTP', () => {
  const MAIL_FROM = 'Tickets Portal <no-reply@helpdesk.example>';
  let smtp: TestSmtpServer;
  let t: TestApp;

  beforeEach(async () => {
    smtp = new TestSmtpServer();
    const port = await smtp.listen();
    t = makeTestApp({
      env: { MAIL_ATTACHMENTS_MAX_MB: '1' },
      transport: smtpTransport(`smtp://127.0.0.1:${port}`, MAIL_FROM),
    });
  });

  afterEach(async () => {
    await smtp.close();
  });

  /**
   * An agent's public reply on a ticket of a workspace with the portal on or off, mailed;
   * `meanwhile` runs between the reply and the mail's sending.
   */
  async function replyWith(
    portal: boolean,
    files: { name: string; content: Buffer }[],
    meanwhile?: () => Promise<unknown>,
  ) {
    const workspace = await aWorkspace('acme', { portal });
    const jo = await aRequester(workspace, 'jo@example.com', 'Jo');
    const ticket = await aTicket(workspace, jo, { subject: 'Printer' });
    await anAgentWithPassword(workspace, { email: 'alex@acme.test', password: PASSWORD });
    const agent = new Browser(t);
    assert.equal((await agent.signInAgent('alex@acme.test', PASSWORD)).status, 303);
    const page = `/admin/tickets/${ticket.reference}`;
    const reply = await agent.submitFiles(
      page,
      `${page}/replies`,
      { visibility: 'public', body: 'Here you are', replyStatus: '' },
      files,
    );
    assert.equal(reply.status, 303, reply.text);
    await meanwhile?.();
    await t.deliverMail();
    const mail = smtp.received.at(-1);
    assert.ok(mail, 'the reply was mailed');
    const parts = parseMime(mail.raw);
    return {
      text: partOf(parts, 'text/plain')!.body,
      attached: parts
        .filter((p) => /^attachment/i.test(p.headers.get('content-disposition') ?? ''))
        .map((p) => ({
          name: /filename="?([^";]+)"?/.exec(p.headers.get('content-disposition') ?? '')?.[1],
          type: (p.headers.get('content-type') ?? '').split(';')[0],
          bytes: p.bytes,
        })),
    };
  }

  it('with the portal off, carries the files that fit in MAIL_ATTACHMENTS_MAX_MB and names the rest', async () => {
    const manual = pdf();
    const label = await png();
    const log = Buffer.from('PC LOAD LETTER\n'.repeat(100_000)); // 1.5 MB
    const mail = await replyWith(false, [
      { name: 'manual.pdf', content: manual },
      { name: 'printer-log.txt', content: log },
      { name: 'label.png', content: label },
    ]);
    assert.deepEqual(mail.attached, [
      { name: 'manual.pdf', type: 'application/pdf', bytes: manual },
      { name: 'label.png', type: 'image/png', bytes: label },
    ]);
    assert.match(
      mail.text,
      /Files with this reply:\s+- manual\.pdf \([^)]+\)\s+- label\.png \([^)]+\)\s+They are attached to this email\./,
    );
    assert.match(
      mail.text,
      /A file too large to send by email:\s+- printer-log\.txt \(1\.4 MB\)\s+It is kept with your ticket\./,
    );
  });

  it('with the portal on, names the files and links to the conversation, attaching none', async () => {
    const mail = await replyWith(true, [{ name: 'manual.pdf', content: pdf() }]);
    assert.deepEqual(mail.attached, []);
    assert.match(mail.text, /A file with this reply:\s+- manual\.pdf \([^)]+\)/);
    assert.match(mail.text, /Open the conversation below to download it\./);
    assert.doesNotMatch(mail.text, /too large/);
  });

  it('a file erased before the mail goes out is left out of it, and the mail still goes', async () => {
    const mail = await replyWith(false, [{ name: 'manual.pdf', content: pdf() }], () =>
      rows('delete from attachments'),
    );
    assert.deepEqual(mail.attached, []);
    assert.match(mail.text, /Here you are/);
  });
});
