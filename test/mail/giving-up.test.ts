import assert from 'node:assert/strict';
import { withScope } from '../../src/db/scopes';
import type { Workspace } from '../../src/models/workspaces';
import { replyAsAgent } from '../../src/services/agent-tickets';
import { smtpTransport } from '../../src/services/mail-transport';
import { DAY, HOUR, makeTestApp, MINUTE, type TestApp } from '../helpers/app';
import { Browser } from '../helpers/client';
import { anAgent, aRequester, aTicket, aWorkspace, rows } from '../helpers/fixtures';
import { TestSmtpServer } from '../helpers/smtp';

interface OutboxRow {
  status: string;
  attempts: number;
  last_error: string | null;
  sealed: Buffer | null;
  queued_at: Date;
  next_attempt_at: Date;
  given_up_at: Date | null;
  sent_at: Date | null;
}

async function theMessage(): Promise<OutboxRow> {
  const all = await rows<OutboxRow>('select * from mail_outbox');
  assert.equal(all.length, 1);
  return all[0]!;
}

/** A real agent reply, queued by the service that queues it in the app: a mail with no expiry. */
async function anAgentReply(t: TestApp, acme: Workspace): Promise<void> {
  const jo = await aRequester(acme, 'jo@example.com', 'Jo');
  const ticket = await aTicket(acme, jo);
  const agent = await anAgent(acme);
  const { templates, config } = t.deps;
  await withScope(t.deps.db, { kind: 'system' }, (trx) =>
    replyAsAgent(
      trx,
      { templates, secret: config.sessionSecret, config },
      { workspace: acme, ticket, agent, body: 'Have you tried water?', at: t.clock.now() },
    ),
  );
}

describe('mail that cannot be delivered', () => {
  let smtp: TestSmtpServer;
  let t: TestApp;

  async function appWith(env: NodeJS.ProcessEnv = {}): Promise<TestApp> {
    smtp = new TestSmtpServer();
    const port = await smtp.listen();
    t = makeTestApp({
      env,
      transport: smtpTransport(`smtp://127.0.0.1:${port}`, 'Support <support@example.com>'),
    });
    return t;
  }

  /** Runs the worker at each retry time until the message leaves the queue; the gaps between. */
  async function retryUntilGivenUp(): Promise<number[]> {
    const gaps: number[] = [];
    for (let i = 0; i < 200; i += 1) {
      const before = await theMessage();
      if (before.status !== 'queued') return gaps;
      const wait = before.next_attempt_at.getTime() - t.clock.now().getTime();
      if (wait > 1000) {
        // One second early: nothing is attempted before the message is due.
        t.clock.advance(wait - 1000);
        const refusals = smtp.refusals;
        await t.deliverMail();
        assert.equal(smtp.refusals, refusals, 'no attempt before the back-off is over');
        t.clock.advance(1000);
      } else t.clock.advance(Math.max(wait, 0));
      if (i > 0) gaps.push(wait);
      await t.deliverMail();
    }
    throw new Error('still queued after 200 attempts');
  }

  afterEach(() => smtp.close());

  it('a message that keeps failing is retried with growing back-off for 24 hours, then marked failed with its last error', async () => {
    await appWith();
    const acme = await aWorkspace('acme');
    smtp.refuse = true;
    smtp.refusal = 'Mailbox of <jo@example.com> is full';
    await anAgentReply(t, acme);
    const queuedAt = t.clock.now().getTime();

    const gaps = await retryUntilGivenUp();
    assert.ok(gaps.length > 5, 'retried many times');
    for (let i = 1; i < gaps.length - 1; i += 1) {
      assert.ok(gaps[i]! >= gaps[i - 1]!, `back-off grows or stays: ${gaps.join(', ')}`);
    }
    assert.ok(gaps[0]! < MINUTE, 'the first retry comes soon');
    assert.ok(Math.max(...gaps) <= HOUR, 'and the longest wait is capped');

    const failed = await theMessage();
    assert.equal(failed.status, 'failed');
    assert.equal(smtp.refusals, failed.attempts, 'every attempt reached the server');
    assert.equal(t.clock.now().getTime() - queuedAt, DAY, 'the last attempt at 24 hours');
    assert.equal(failed.given_up_at?.getTime(), queuedAt + DAY);
    assert.match(failed.last_error ?? '', /451 Mailbox of <…@example\.com> is full/);
    assert.ok(!failed.last_error?.includes('jo@'), 'the address is not kept in the error');
    assert.ok(failed.sealed, 'the body is kept, so an operator can retry it');
    assert.equal(failed.sent_at, null);

    smtp.refuse = false;
    const attempts = smtp.refusals;
    for (const wait of [HOUR, DAY, 7 * DAY]) {
      t.clock.advance(wait);
      await t.deliverMail();
    }
    assert.equal(smtp.refusals, attempts, 'a failed message is no longer attempted');
    assert.equal(smtp.received.length, 0);
    assert.equal((await theMessage()).status, 'failed');
  });

  it('MAIL_RETRY_HOURS sets how long a failing message is retried', async () => {
    await appWith({ MAIL_RETRY_HOURS: '2' });
    const acme = await aWorkspace('acme');
    smtp.refuse = true;
    await anAgentReply(t, acme);
    const queuedAt = t.clock.now().getTime();
    await retryUntilGivenUp();
    const failed = await theMessage();
    assert.equal(failed.status, 'failed');
    assert.equal(failed.given_up_at?.getTime(), queuedAt + 2 * HOUR);
    assert.match(failed.last_error ?? '', /Mailbox busy/);
  });

  it('a sign-in mail whose link expired while it waited is marked expired and never sent late', async () => {
    await appWith();
    await aWorkspace('acme');
    smtp.refuse = true;
    const jo = new Browser(t);
    await jo.submit('/tickets/login', '/tickets/login', { email: 'jo@example.com' });
    const queuedAt = t.clock.now().getTime();

    await retryUntilGivenUp();
    const expired = await theMessage();
    assert.equal(expired.status, 'expired');
    assert.ok(expired.attempts >= 5, 'it was tried while its link still worked');
    assert.ok(expired.given_up_at!.getTime() >= queuedAt + HOUR, 'given up only once it expired');
    assert.ok(expired.given_up_at!.getTime() < queuedAt + 2 * HOUR, 'and as soon as it was due');
    assert.equal(expired.sealed, null, 'the body with its dead link is erased');

    smtp.refuse = false;
    t.clock.advance(DAY);
    await t.deliverMail();
    assert.equal(smtp.received.length, 0, 'the server never gets it');
    assert.equal((await theMessage()).status, 'expired');
  });

  it('a sign-in mail found only after its link expired (the worker was down) is never sent', async () => {
    await appWith();
    await aWorkspace('acme');
    const jo = new Browser(t);
    await jo.submit('/tickets/login', '/tickets/login', { email: 'jo@example.com' });
    t.clock.advance(HOUR);
    await t.deliverMail();
    assert.equal(smtp.received.length, 0);
    const expired = await theMessage();
    assert.equal(expired.status, 'expired');
    assert.equal(expired.attempts, 0);
  });
});
