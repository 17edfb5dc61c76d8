import assert from 'node:assert/strict';
import { freePort } from '../../src/db/embedded';
import { smtpTransport } from '../../src/services/mail-transport';
import { FakeClock, makeTestApp, MINUTE, testConfig, type TestApp } from '../helpers/app';
import { $, Browser, csrfTokenOf, signInLinkOf } from '../helpers/client';
import { aWorkspace, rows } from '../helpers/fixtures';
import { textOf, TestSmtpServer } from '../helpers/smtp';

const OLD_SECRET = 'old-secret-old-secret-old-secret-0123456';
const NEW_SECRET = 'new-secret-new-secret-new-secret-6543210';

interface OutboxRow {
  status: string;
  attempts: number;
  last_error: string | null;
  next_attempt_at: Date;
}

const outboxRows = () =>
  rows<OutboxRow>(
    'select status, attempts, last_error, next_attempt_at from mail_outbox order by queued_at',
  );

/**
 * Rotating SESSION_SECRET: the new secret signs and seals everything new, while the old ones in
 * SESSION_SECRETS still open what they sealed and signed before. Each "restart" is a new app with
 * its own configuration on the same database, the same SMTP port and the same browser cookies.
 */
describe('rotating the session secret', () => {
  let port: number;
  let smtp: TestSmtpServer | undefined;
  let clock: FakeClock;

  function instance(env: NodeJS.ProcessEnv): TestApp {
    return makeTestApp({
      env,
      clock,
      transport: smtpTransport(`smtp://127.0.0.1:${port}`, 'Support <support@example.com>'),
    });
  }

  async function startSmtp(): Promise<TestSmtpServer> {
    smtp = new TestSmtpServer();
    await smtp.listen(port);
    return smtp;
  }

  async function stopSmtp(): Promise<void> {
    await smtp?.close();
    smtp = undefined;
  }

  /**
   * Under the old secret: jo signs in and keeps a form's CSRF token; then, with SMTP down, sam asks
   * for a link and the mail stays queued after a failed attempt.
   */
  async function beforeTheRotation(): Promise<{ jo: Browser; joToken: string }> {
    await aWorkspace('acme');
    const old = instance({ SESSION_SECRET: OLD_SECRET });
    const mail = await startSmtp();
    const jo = new Browser(old);
    await jo.submit('/tickets/login', '/tickets/login', { email: 'jo@example.com' });
    await old.deliverMail();
    const { pathname } = new URL(signInLinkOf(textOf(mail.received[0]!)));
    assert.equal((await jo.submit(pathname, pathname)).status, 303);
    const joToken = csrfTokenOf((await jo.get('/tickets')).text);

    await stopSmtp();
    const sam = new Browser(old);
    await sam.submit('/tickets/login', '/tickets/login', { email: 'sam@example.com' });
    await old.deliverMail();
    const [, queued] = await outboxRows();
    assert.equal(queued!.status, 'queued');
    assert.equal(queued!.attempts, 1, 'one attempt failed while SMTP was down');
    clock.advance(queued!.next_attempt_at.getTime() - clock.now().getTime() + 1);
    return { jo, joToken };
  }

  beforeEach(async () => {
    port = await freePort();
    clock = new FakeClock();
  });

  afterEach(stopSmtp);

  it('with the old secret in SESSION_SECRETS, queued mail arrives and old sessions and forms still work', async () => {
    const { jo, joToken } = await beforeTheRotation();

    const rotated = instance({ SESSION_SECRET: NEW_SECRET, SESSION_SECRETS: OLD_SECRET });
    const mail = await startSmtp();
    await rotated.deliverMail();
    assert.equal(mail.received.length, 1, 'the mail sealed under the old secret arrives');
    assert.deepEqual(mail.received[0]!.rcptTo, ['sam@example.com']);
    const [, sent] = await outboxRows();
    assert.equal(sent!.status, 'sent');

    const sam = new Browser(rotated);
    const { pathname } = new URL(signInLinkOf(textOf(mail.received[0]!)));
    assert.equal((await sam.submit(pathname, pathname)).status, 303, 'its link signs in');

    const joNow = jo.on(rotated);
    const list = await joNow.get('/tickets');
    assert.equal(list.status, 200);
    assert.match($(list.text)('h1').text(), /Your tickets/, 'the old session cookie still works');
    // The CSRF secret's cookie was signed with the old secret, and the form token derives from it.
    const signedOut = await joNow.post('/tickets/logout', { _csrf: joToken });
    assert.equal(signedOut.status, 303, 'a form loaded before the rotation still posts');
  });

  it('without the old secret, the queued mail is marked failed at once with the reason, and never retried', async () => {
    const { jo } = await beforeTheRotation();

    const rotated = instance({ SESSION_SECRET: NEW_SECRET });
    const mail = await startSmtp();
    await rotated.deliverMail();
    const [, failed] = await outboxRows();
    assert.equal(failed!.status, 'failed');
    assert.equal(failed!.last_error, 'no configured secret opens this message');
    assert.equal(failed!.attempts, 2);

    for (const wait of [MINUTE, 60 * MINUTE, 24 * 60 * MINUTE]) {
      clock.advance(wait);
      await rotated.deliverMail();
    }
    assert.equal(mail.received.length, 0, 'nothing sent');
    const [, still] = await outboxRows();
    assert.equal(still!.status, 'failed');
    assert.equal(still!.attempts, 2, 'no further attempts');
    assert.ok(
      rotated.logLines.some((line) => line.includes('no configured secret opens this message')),
      'the reason is logged',
    );

    const list = await jo.on(rotated).get('/tickets');
    assert.doesNotMatch(
      $(list.text)('h1').text(),
      /Your tickets/,
      'a cookie signed with an unconfigured secret signs no one in',
    );
  });

  it('SESSION_SECRETS takes comma-separated secrets of at least 32 characters each', () => {
    const config = testConfig({
      SESSION_SECRET: NEW_SECRET,
      SESSION_SECRETS: ` ${OLD_SECRET} ,, ${NEW_SECRET}`,
    });
    assert.equal(config.sessionSecret, NEW_SECRET);
    assert.deepEqual(config.secrets, [NEW_SECRET, OLD_SECRET], 'the current one first, once');
    assert.throws(
      () => testConfig({ SESSION_SECRETS: `${OLD_SECRET},short` }),
      /SESSION_SECRETS.*at least 32 characters/,
    );
  });
});
