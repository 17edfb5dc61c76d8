import assert from 'node:assert/strict';
import { withScope } from '../../src/db/scopes';
import type { Workspace } from '../../src/models/workspaces';
import { replyAsAgent } from '../../src/services/agent-tickets';
import { smtpTransport } from '../../src/services/mail-transport';
import { FakeClock, HOUR, makeTestApp, type TestApp } from '../helpers/app';
import { cliOnTestDb, type CliRun } from '../helpers/cli';
import { Browser } from '../helpers/client';
import { anAgent, aRequester, aTicket, aWorkspace, rows } from '../helpers/fixtures';
import { TestSmtpServer } from '../helpers/smtp';

const OTHER_SECRET = 'other-secret-other-secret-other-secret-01';

interface OutboxRow {
  id: string;
  status: string;
  attempts: number;
  last_error: string | null;
  recipient_domain: string;
  next_attempt_at: Date;
}

const outboxRows = () =>
  rows<OutboxRow>(
    'select id, status, attempts, last_error, recipient_domain, next_attempt_at from mail_outbox',
  );

async function rowTo(domain: string, status: string): Promise<OutboxRow> {
  const found = (await outboxRows()).filter(
    (r) => r.recipient_domain === domain && r.status === status,
  );
  assert.equal(found.length, 1, `one ${status} message to ${domain}`);
  return found[0]!;
}

/** A real agent reply to `email`, queued by the app's own service. */
async function aReplyTo(t: TestApp, workspace: Workspace, email: string): Promise<void> {
  const requester = await aRequester(workspace, email, 'Customer');
  const ticket = await aTicket(workspace, requester);
  const agent = await anAgent(workspace, { email: `agent-${email}` });
  const { templates, config } = t.deps;
  await withScope(t.deps.db, { kind: 'system' }, (trx) =>
    replyAsAgent(
      trx,
      { templates, secret: config.sessionSecret, config },
      { workspace, ticket, agent, body: 'Have you tried water?', at: t.clock.now() },
    ),
  );
}

async function requestSignIn(t: TestApp, slug: string, email: string): Promise<void> {
  const browser = new Browser(t, `${slug}.localhost`);
  const res = await browser.submit('/tickets/login', '/tickets/login', { email });
  assert.equal(res.status, 200);
}

/** Runs the worker at each due time until nothing is left in the queue. */
async function workUntilNothingQueued(t: TestApp): Promise<void> {
  for (let i = 0; i < 100; i += 1) {
    const queued = (await outboxRows()).filter((r) => r.status === 'queued');
    if (!queued.length) return;
    const due = Math.min(...queued.map((r) => r.next_attempt_at.getTime()));
    t.clock.advance(Math.max(due - t.clock.now().getTime(), 0));
    await t.deliverMail();
  }
  throw new Error('the queue never emptied');
}

/** A refusal is one line on stderr, nothing on stdout, and no stack trace. */
function assertRefused(run: CliRun, code: number, message: RegExp): void {
  assert.equal(run.code, code, `exit code (stderr: ${run.stderr})`);
  assert.equal(run.stdout, '');
  assert.match(run.stderr, message);
  assert.equal(run.stderr.trim().split('\n').length, 1, `one line: ${run.stderr}`);
  assert.doesNotMatch(run.stderr, /\bat .+:\d+:\d+/, 'no stack trace');
}

describe('mail that operators can see', function () {
  this.timeout(60_000);
  let smtp: TestSmtpServer;
  let smtpUrl: string;

  function instance(clock: FakeClock, env: NodeJS.ProcessEnv = {}): TestApp {
    return makeTestApp({ env, clock, transport: smtpTransport(smtpUrl, 'Support <s@acme.test>') });
  }

  beforeEach(async () => {
    smtp = new TestSmtpServer();
    smtp.refuse = true;
    smtpUrl = `smtp://127.0.0.1:${await smtp.listen()}`;
  });

  afterEach(() => smtp.close());

  it('mail:status lists queued, failing, failed and expired mail per workspace, with no body, token or address', async () => {
    const t = instance(new FakeClock());
    const acme = await aWorkspace('acme');
    const globex = await aWorkspace('globex');
    await requestSignIn(t, 'globex', 'gail@globex.test');
    t.clock.advance(HOUR);
    await t.deliverMail();
    await aReplyTo(instance(t.clock, { SESSION_SECRET: OTHER_SECRET }), globex, 'gus@globex.test');
    await t.deliverMail();
    await aReplyTo(t, acme, 'jo@example.com');
    await t.deliverMail();
    await requestSignIn(t, 'acme', 'sam@example.org');
    // An answer to mail for an unknown reply address belongs to no workspace.
    await rows(
      `insert into mail_outbox (workspace_id, sealed, recipient_domain, queued_at)
       values (null, 'x', 'example.net', now())`,
    );

    const run = await cliOnTestDb(['mail:status']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, '');
    const lines = run.stdout.trimEnd().split('\n');
    assert.ok(lines.includes('acme: 1 queued, 1 failing'), run.stdout);
    assert.ok(lines.includes('globex: 1 failed, 1 expired'), run.stdout);
    assert.ok(
      lines.includes('(no workspace: answers to unknown reply addresses): 1 queued'),
      run.stdout,
    );
    assert.ok(
      lines.indexOf('acme: 1 queued, 1 failing') < lines.indexOf('globex: 1 failed, 1 expired'),
    );
    const lineOf = (row: OutboxRow): string => {
      const found = lines.filter((line) => line.startsWith(`  ${row.id}  `));
      assert.equal(found.length, 1, `one line for ${row.id}`);
      return found[0]!;
    };
    const ISO = '\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z';
    assert.match(
      lineOf(await rowTo('example.com', 'queued')),
      new RegExp(
        `  failing  to @example\\.com, 1 attempt, queued ${ISO}, next attempt ${ISO}, last error: .*451 Mailbox busy`,
      ),
    );
    assert.match(
      lineOf(await rowTo('example.org', 'queued')),
      new RegExp(`  queued  to @example\\.org, 0 attempts, queued ${ISO}, next attempt ${ISO}$`),
    );
    assert.match(
      lineOf(await rowTo('globex.test', 'failed')),
      new RegExp(
        `  failed  to @globex\\.test, 1 attempt, queued ${ISO}, failed ${ISO}, last error: no configured secret opens this message$`,
      ),
    );
    assert.match(
      lineOf(await rowTo('globex.test', 'expired')),
      new RegExp(`  expired  to @globex\\.test, \\d+ attempts?, queued ${ISO}, expired ${ISO}`),
    );
    assert.equal(lines.length, 8, 'three workspace lines and one line a message');
    assert.doesNotMatch(run.stdout, /[\w.+-]@/, 'no full address');
    for (const secret of [
      'Have you tried water',
      'Printer on fire',
      'sign-in link',
      '/tickets/login/',
    ]) {
      assert.ok(!run.stdout.includes(secret), `no body: ${secret}`);
    }

    await withScope(t.deps.db, { kind: 'system' }, (trx) => trx('mail_outbox').del());
    const empty = await cliOnTestDb(['mail:status']);
    assert.equal(empty.stdout, 'No mail waiting: every queued message has been sent\n');
  });

  it('mail:retry queues a failed message again (by id, or all failed) and it then arrives; other retries are refused in one line', async () => {
    const clock = new FakeClock(new Date());
    const t = instance(clock, { MAIL_RETRY_HOURS: '1' });
    const acme = await aWorkspace('acme');
    await requestSignIn(t, 'acme', 'gail@globex.test');
    await aReplyTo(t, acme, 'jo@example.com');
    await aReplyTo(instance(clock, { SESSION_SECRET: OTHER_SECRET }), acme, 'sam@example.org');
    await workUntilNothingQueued(t);
    const jo = await rowTo('example.com', 'failed');
    assert.match(jo.last_error ?? '', /451 Mailbox busy/);
    const sam = await rowTo('example.org', 'failed');
    const gail = await rowTo('globex.test', 'expired');
    await requestSignIn(t, 'acme', 'kim@kim.test');
    const kim = await rowTo('kim.test', 'queued');

    const unknownId = '00000000-0000-4000-8000-000000000000';
    const [none, both, malformed, unknown, expired, queued] = await Promise.all([
      cliOnTestDb(['mail:retry']),
      cliOnTestDb(['mail:retry', '--id', jo.id, '--failed']),
      cliOnTestDb(['mail:retry', '--id', 'jo@example.com']),
      cliOnTestDb(['mail:retry', '--id', unknownId]),
      cliOnTestDb(['mail:retry', '--id', gail.id]),
      cliOnTestDb(['mail:retry', '--id', kim.id]),
    ]);
    assertRefused(none, 2, /^Give either --id or --failed \(usage: mail:retry/);
    assertRefused(both, 2, /^Give either --id or --failed/);
    assertRefused(malformed, 2, /^--id must be a message id as mail:status lists it/);
    assertRefused(unknown, 1, new RegExp(`^No message with id ${unknownId}`));
    assertRefused(expired, 1, /expired: its sign-in link no longer works, so it is not sent again/);
    assertRefused(
      queued,
      1,
      /is still queued \(0 failed attempts\); the worker retries it by itself/,
    );

    const one = await cliOnTestDb(['mail:retry', '--id', jo.id]);
    assert.equal(one.code, 0, one.stderr);
    assert.equal(one.stdout, `Queued 1 message again: ${jo.id}\n`);
    const requeued = (await outboxRows()).find((r) => r.id === jo.id)!;
    assert.equal(requeued.status, 'queued');
    assert.equal(requeued.attempts, 0);
    assert.equal(requeued.last_error, null);
    assert.equal((await rowTo('example.org', 'failed')).id, sam.id, 'only the one named');

    // The CLI stamps the real time; the app's clock, ahead of it here, finds the message due.
    smtp.refuse = false;
    await t.deliverMail();
    const toJo = smtp.received.filter((m) => m.rcptTo.includes('jo@example.com'));
    assert.equal(toJo.length, 1, 'the retried message arrives once');
    assert.equal((await outboxRows()).find((r) => r.id === jo.id)!.status, 'sent');

    // The operator puts the secret that sealed sam's mail back, restarts, and retries all failed.
    const restarted = instance(clock, { SESSION_SECRETS: OTHER_SECRET });
    const all = await cliOnTestDb(['mail:retry', '--failed']);
    assert.equal(all.code, 0, all.stderr);
    assert.equal(all.stdout, `Queued 1 message again: ${sam.id}\n`);
    await restarted.deliverMail();
    assert.equal(smtp.received.filter((m) => m.rcptTo.includes('sam@example.org')).length, 1);
    const again = await cliOnTestDb(['mail:retry', '--failed']);
    assert.equal(again.stdout, 'No failed mail to retry\n');
    assert.equal((await rowTo('globex.test', 'expired')).id, gail.id, 'expired mail stays expired');
  });
});
