import assert from 'node:assert/strict';
import { processOutbox, type OutboxWorkerDeps } from '../../src/services/mail';
import { smtpTransport } from '../../src/services/mail-transport';
import { oneMailEach, queueSampleMail } from '../helpers/outbox';
import { closeInstance, makeTestApp, type TestApp } from '../helpers/app';
import { aWorkspace, rows } from '../helpers/fixtures';
import { parseMime, TestSmtpServer } from '../helpers/smtp';

const MESSAGES = 50;

/** The outbox worker of one instance, as server.ts starts it from that instance's deps. */
function workerOf(t: TestApp): OutboxWorkerDeps {
  return { ...t.deps, ...t.deps.config.mailWorker, secrets: t.deps.config.secrets };
}

async function queuedCount(): Promise<number> {
  const [queued] = await rows<{ count: string }>(
    `select count(*) as count from mail_outbox where status = 'queued'`,
  );
  return Number(queued!.count);
}

/**
 * Both workers claim at the same moment, round after round, until the queue is empty: the
 * moment two instances' pollers coincide, made to happen every time.
 */
async function drainTogether(workers: OutboxWorkerDeps[]): Promise<number[]> {
  const sent = workers.map(() => 0);
  while ((await queuedCount()) > 0) {
    const round = await Promise.all(workers.map((worker) => processOutbox(worker, 5)));
    round.forEach((count, i) => (sent[i]! += count));
  }
  return sent;
}

describe('two instances sharing one outbox', () => {
  let smtp: TestSmtpServer;

  afterEach(() => smtp.close());

  it('two workers on their own pools, running at once, send each of 50 queued messages exactly once', async () => {
    smtp = new TestSmtpServer();
    const smtpUrl = `smtp://127.0.0.1:${await smtp.listen()}`;
    const one = makeTestApp({ ownPool: true, transport: smtpTransport(smtpUrl, 'a@acme.test') });
    const two = makeTestApp({ ownPool: true, transport: smtpTransport(smtpUrl, 'a@acme.test') });
    try {
      const acme = await aWorkspace('acme');
      await queueSampleMail(one, acme.id, oneMailEach(MESSAGES));

      // Each pool holds an open connection before the race starts, so neither starts late.
      await Promise.all([one.deps.db.raw('select 1'), two.deps.db.raw('select 1')]);
      const [sentByOne = 0, sentByTwo = 0] = await drainTogether([workerOf(one), workerOf(two)]);

      assert.equal(sentByOne + sentByTwo, MESSAGES, `sent by each: ${sentByOne} and ${sentByTwo}`);
      const subjects = smtp.received.map((m) => parseMime(m.raw)[0]!.headers.get('subject'));
      assert.equal(subjects.length, MESSAGES, 'as many deliveries as messages');
      assert.equal(new Set(subjects).size, MESSAGES, 'each message received once');
      const statuses = await rows<{ status: string; attempts: number }>(
        'select status, attempts from mail_outbox',
      );
      assert.ok(statuses.every((r) => r.status === 'sent' && r.attempts === 0));
    } finally {
      await closeInstance(one);
      await closeInstance(two);
    }
  });
});
