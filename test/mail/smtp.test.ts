import assert from 'node:assert/strict';
import { freePort } from '../../src/db/embedded';
import { FakeClock, makeTestApp, type TestApp } from '../helpers/app';
import { $, Browser, signInLinkOf } from '../helpers/client';
import { aWorkspace, rows } from '../helpers/fixtures';
import { smtpTransport } from '../../src/services/mail-transport';
import { parseMime, partOf, TestSmtpServer } from '../helpers/smtp';

interface OutboxRow {
  id: string;
  sealed: Buffer | null;
  attempts: number;
  next_attempt_at: Date;
  sent_at: Date | null;
  last_error: string | null;
}

const outboxRows = () => rows<OutboxRow>('select * from mail_outbox');
/** A port nothing listens on (taken from the OS, then released). */
const closedPort = freePort;
const FROM = 'Support <support@example.com>';

describe('mail delivery over SMTP', () => {
  let smtp: TestSmtpServer;
  let t: TestApp;
  let browser: Browser;
  let smtpPort: number;

  function appSendingTo(port: number, clock?: FakeClock): void {
    t = makeTestApp({ transport: smtpTransport(`smtp://127.0.0.1:${port}`, FROM), clock });
    browser = new Browser(t);
  }

  async function requestLink(email: string): Promise<void> {
    const res = await browser.submit('/tickets/login', '/tickets/login', { email });
    assert.equal(res.status, 200);
  }

  beforeEach(async () => {
    smtp = new TestSmtpServer();
    smtpPort = await smtp.listen();
    appSendingTo(smtpPort);
    await aWorkspace('acme', { name: 'Acme Inc' });
  });

  afterEach(async () => {
    await smtp.close();
  });

  it('delivers the sign-in mail with a text and an HTML part, and its link signs in', async () => {
    await requestLink('Jo@Example.com');
    await t.deliverMail();

    assert.equal(smtp.received.length, 1);
    const [mail] = smtp.received;
    assert.equal(mail!.mailFrom, 'support@example.com');
    assert.deepEqual(mail!.rcptTo, ['jo@example.com']);
    const parts = parseMime(mail!.raw);
    const headers = parts[0]!.headers;
    assert.equal(headers.get('to'), 'jo@example.com');
    // The workspace's name, at MAIL_FROM's address (test/mail/branded-mail.test.ts has more).
    assert.equal(headers.get('from'), 'Acme Inc <support@example.com>');
    assert.equal(headers.get('subject'), 'Your sign-in link for Acme Inc');
    assert.match(headers.get('content-type') ?? '', /^multipart\/alternative/);

    const text = partOf(parts, 'text/plain');
    const html = partOf(parts, 'text/html');
    assert.ok(text, 'a text/plain part');
    assert.ok(html, 'a text/html part');
    const link = signInLinkOf(text.body);
    assert.match(link, /^http:\/\/acme\.localhost:3000\/tickets\/login\/[A-Za-z0-9_-]{43}$/);
    assert.equal(
      $(html.body)(`a[href="${link}"]`).length,
      1,
      'the HTML part links to the same address',
    );

    const { pathname } = new URL(link);
    const signedIn = await browser.submit(pathname, pathname);
    assert.equal(signedIn.status, 303);
    assert.equal(signedIn.headers.location, '/tickets');
    const list = await browser.get('/tickets');
    assert.match($(list.text)('h1').text(), /Your tickets/);
  });

  it('keeps the queued mail sealed, and erases the body once it is sent', async () => {
    await requestLink('jo@example.com');
    const queued = await outboxRows();
    const raw = await rows<{ raw: string }>('select mail_outbox::text as raw from mail_outbox');
    assert.equal(queued.length, 1);
    const sealed = queued[0]!.sealed;
    assert.ok(sealed && sealed.length > 0, 'a body is queued');
    assert.equal(queued[0]!.sent_at, null);

    await t.deliverMail();
    assert.equal(smtp.received.length, 1);
    const link = signInLinkOf(partOf(parseMime(smtp.received[0]!.raw), 'text/plain')!.body);
    const token = link.split('/').pop()!;
    for (const secret of [token, link, 'jo@example.com', 'Your sign-in link']) {
      assert.ok(!sealed.toString('latin1').includes(secret), `sealed bytes hide ${secret}`);
      assert.ok(!sealed.includes(Buffer.from(secret, 'utf8')), `sealed bytes hide ${secret}`);
      assert.ok(!raw[0]!.raw.includes(secret), `the stored row hides ${secret}`);
    }
    assert.ok(!raw[0]!.raw.includes(Buffer.from(token).toString('hex')), 'not even hex-encoded');

    const [sent] = await outboxRows();
    assert.ok(sent!.sent_at, 'marked sent');
    assert.equal(sent!.sealed, null, 'the sealed body is erased');
    const dump = JSON.stringify(await rows('select * from mail_outbox'));
    assert.ok(!dump.includes(token));
  });

  it('a refusing server loses nothing: the mail waits for its backoff and is then delivered once', async () => {
    smtp.refuse = true;
    await requestLink('jo@example.com');
    await t.deliverMail();

    assert.equal(smtp.refusals, 1);
    assert.equal(smtp.received.length, 0);
    const [failed] = await outboxRows();
    assert.equal(failed!.sent_at, null, 'still unsent');
    assert.equal(failed!.attempts, 1);
    assert.ok(failed!.sealed, 'the body is kept for the next attempt');
    assert.match(failed!.last_error ?? '', /451/);
    assert.ok(
      failed!.next_attempt_at.getTime() > t.clock.now().getTime(),
      'retried later, not now',
    );

    smtp.refuse = false;
    await t.deliverMail();
    assert.equal(smtp.received.length + smtp.refusals, 1, 'no attempt before the backoff is over');

    t.clock.advance(failed!.next_attempt_at.getTime() - t.clock.now().getTime() + 1);
    await t.deliverMail();
    await t.deliverMail();
    assert.equal(smtp.received.length, 1, 'delivered exactly once');
    assert.deepEqual(smtp.received[0]!.rcptTo, ['jo@example.com']);
    const [sent] = await outboxRows();
    assert.ok(sent!.sent_at);
    assert.equal(sent!.attempts, 1);
    assert.equal(sent!.sealed, null);

    const { pathname } = new URL(
      signInLinkOf(partOf(parseMime(smtp.received[0]!.raw), 'text/plain')!.body),
    );
    const signedIn = await browser.submit(pathname, pathname);
    assert.equal(signedIn.status, 303, 'the link of the retried mail still works');
  });

  it('a server that is down loses nothing: the mail goes out once it is back', async () => {
    const port = await closedPort();
    appSendingTo(port);
    await requestLink('jo@example.com');
    await t.deliverMail();

    const [failed] = await outboxRows();
    assert.equal(failed!.sent_at, null);
    assert.equal(failed!.attempts, 1);
    assert.match(failed!.last_error ?? '', /ECONNREFUSED/);
    assert.ok(failed!.next_attempt_at.getTime() > t.clock.now().getTime());

    await smtp.close();
    smtp = new TestSmtpServer();
    await smtp.listen(port);
    t.clock.advance(failed!.next_attempt_at.getTime() - t.clock.now().getTime() + 1);
    await t.deliverMail();
    await t.deliverMail();
    assert.equal(smtp.received.length, 1);
    assert.deepEqual(smtp.received[0]!.rcptTo, ['jo@example.com']);
    const [sent] = await outboxRows();
    assert.ok(sent!.sent_at);
    assert.equal(sent!.sealed, null);
  });

  it('queued mail is due at once by the app clock, even when the database clock is ahead of it', async () => {
    // The worker reads the app's clock; a queue stamped with the database's own clock would hold
    // mail back whenever the two disagree (with a fake clock, as soon as real time passes it).
    appSendingTo(smtpPort, new FakeClock(new Date(Date.now() - 24 * 60 * 60 * 1000)));
    await requestLink('jo@example.com');
    await t.deliverMail();
    assert.equal(smtp.received.length, 1, 'sent on the first run of the worker');
  });
});
