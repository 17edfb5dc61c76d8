import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../../src/config';
import { startOutboxWorker } from '../../src/services/mail';
import { smtpTransport } from '../../src/services/mail-transport';
import { oneMailEach, queueSampleMail } from '../helpers/outbox';
import { makeTestApp } from '../helpers/app';
import { aWorkspace, rows } from '../helpers/fixtures';
import { parseMime, TestSmtpServer } from '../helpers/smtp';

const CONNECTIONS = 4;
const RECIPIENTS = 15;
const ROUNDS = 3;
/** 45 messages: more than two of the worker's batches of 20. */
const MESSAGES = RECIPIENTS * ROUNDS;
/** The worker's claim (services/mail.ts). */
const BATCH = 20;
/** Far longer than the test waits: only claims made without waiting for a poll can send it all. */
const POLL_MS = 10 * 60_000;

/** The app sending through `smtp` over CONNECTIONS connections, with its workspace `acme`. */
async function appSendingTo(smtp: TestSmtpServer) {
  const transport = smtpTransport(
    `smtp://127.0.0.1:${await smtp.listen()}`,
    'Support <support@acme.test>',
    CONNECTIONS,
  );
  const t = makeTestApp({ transport });
  return { t, transport, acme: await aWorkspace('acme') };
}

/** Runs the app's worker while `wait` waits, then stops it and closes its SMTP connections. */
async function whileTheWorkerRuns(
  { t, transport }: Awaited<ReturnType<typeof appSendingTo>>,
  wait: () => Promise<void>,
): Promise<void> {
  const worker = startOutboxWorker(
    {
      ...t.deps,
      ...t.deps.config.mailWorker,
      connections: CONNECTIONS,
      secrets: t.deps.config.secrets,
    },
    POLL_MS,
  );
  try {
    await wait();
  } finally {
    await worker.stop();
    transport.close?.();
  }
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('sending a burst of mail', () => {
  let smtp: TestSmtpServer;

  afterEach(() => smtp.close());

  it('goes out side by side over a few reused connections, batch after batch without waiting for a poll, and each recipient gets theirs in the order queued', async function () {
    this.timeout(40_000);
    smtp = new TestSmtpServer();
    // Each message takes a moment to be answered, so messages sent side by side overlap.
    smtp.holdMs = 30;
    const app = await appSendingTo(smtp);
    const { t, acme } = app;
    // Round after round to the same recipients, a millisecond apart: the queue's order is known.
    await queueSampleMail(
      t,
      acme.id,
      Array.from({ length: MESSAGES }, (_, n) => ({
        to: `customer-${n % RECIPIENTS}@example.com`,
        subject: `Round ${Math.floor(n / RECIPIENTS)}`,
        reference: `ACME-${n % RECIPIENTS}`,
        body: `Message ${n}`,
      })),
      { spaced: true },
    );

    await whileTheWorkerRuns(app, async () => {
      for (let i = 0; i < 300 && smtp.received.length < MESSAGES; i += 1) await pause(100);
    });

    assert.equal(smtp.received.length, MESSAGES, 'all sent, without waiting for the next poll');
    const sent = await rows<{ status: string }>('select status from mail_outbox');
    assert.deepEqual(
      sent.map((row) => row.status),
      Array.from({ length: MESSAGES }, () => 'sent'),
    );
    assert.ok(smtp.mostAtOnce > 1, `sent side by side (at most ${smtp.mostAtOnce} at once)`);
    assert.ok(smtp.mostAtOnce <= CONNECTIONS, `never more than ${CONNECTIONS} at once`);
    assert.ok(
      smtp.connections <= CONNECTIONS,
      `${MESSAGES} messages over ${smtp.connections} connections: each one reused`,
    );
    for (let i = 0; i < RECIPIENTS; i += 1) {
      const to = `customer-${i}@example.com`;
      const subjects = smtp.received
        .filter((mail) => mail.rcptTo.includes(to))
        .map((mail) => parseMime(mail.raw)[0]!.headers.get('subject'));
      assert.deepEqual(subjects, ['Round 0', 'Round 1', 'Round 2'], `${to}: in the order queued`);
    }
  });

  it('while the SMTP server refuses everything, tries one batch and then waits for the next poll', async function () {
    this.timeout(20_000);
    smtp = new TestSmtpServer();
    smtp.refuse = true;
    const app = await appSendingTo(smtp);
    await queueSampleMail(app.t, app.acme.id, oneMailEach(MESSAGES));
    await whileTheWorkerRuns(app, async () => {
      for (let i = 0; i < 100 && smtp.refusals < BATCH; i += 1) await pause(100);
      // Long enough for the next batches, had the worker gone on without waiting.
      await pause(1500);
    });
    assert.equal(smtp.refusals, BATCH, 'one batch tried, the rest left for the next poll');
    const [counts] = await rows<{ tried: number; untried: number }>(
      `select count(*) filter (where attempts = 1)::int as tried,
              count(*) filter (where attempts = 0)::int as untried
         from mail_outbox where status = 'queued'`,
    );
    assert.deepEqual(counts, { tried: BATCH, untried: MESSAGES - BATCH });
  });

  it('sends MAIL_SMTP_CONNECTIONS messages at once: 4 unless set, from 1 to 20', () => {
    const env = { NODE_ENV: 'test', SESSION_SECRET: 'x'.repeat(32) };
    assert.equal(loadConfig(env).mailWorker.connections, 4);
    assert.equal(loadConfig({ ...env, MAIL_SMTP_CONNECTIONS: '12' }).mailWorker.connections, 12);
    for (const refused of ['0', '21', 'many']) {
      assert.throws(
        () => loadConfig({ ...env, MAIL_SMTP_CONNECTIONS: refused }),
        (error: unknown) =>
          error instanceof ConfigError && /^ {2}MAIL_SMTP_CONNECTIONS: /m.test(error.message),
      );
    }
  });
});
