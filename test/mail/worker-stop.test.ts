import assert from 'node:assert/strict';
import { startOutboxWorker } from '../../src/services/mail';
import type { MailTransport, OutgoingMail } from '../../src/services/mail-transport';
import { oneMailEach, queueSampleMail } from '../helpers/outbox';
import { makeTestApp } from '../helpers/app';
import { aWorkspace, rows } from '../helpers/fixtures';

/** An SMTP server that takes the first message and never answers: a send that hangs. */
class HangingTransport implements MailTransport {
  started: OutgoingMail[] = [];
  send(mail: OutgoingMail): Promise<void> {
    this.started.push(mail);
    return new Promise(() => undefined);
  }
}

/** More than the worker sends at once (MAIL_SMTP_CONNECTIONS, 4 by default). */
const MESSAGES = 6;

describe('stopping the mail worker', () => {
  it('waits a while for the messages being sent, then hands them and every unsent claimed message back, due now', async function () {
    this.timeout(20_000);
    const transport = new HangingTransport();
    const t = makeTestApp({ transport });
    const acme = await aWorkspace('acme');
    await queueSampleMail(t, acme.id, oneMailEach(MESSAGES));
    const worker = startOutboxWorker(
      { ...t.deps, ...t.deps.config.mailWorker, secrets: t.deps.config.secrets },
      10,
    );
    const atOnce = t.deps.config.mailWorker.connections;
    assert.ok(atOnce > 1 && atOnce < MESSAGES, 'some messages are claimed but not yet started');
    for (let i = 0; i < 200 && transport.started.length < atOnce; i += 1) {
      await new Promise((r) => setTimeout(r, 25));
    }
    assert.equal(transport.started.length, atOnce, 'as many sends under way as connections');
    const leased = await rows<{ next_attempt_at: Date }>('select next_attempt_at from mail_outbox');
    assert.ok(
      leased.every((r) => r.next_attempt_at > t.clock.now()),
      'claimed: leased into the future',
    );

    const started = Date.now();
    await worker.stop();
    const took = Date.now() - started;
    assert.ok(took >= 4_000 && took < 7_000, `waited for the send, then gave up (${took} ms)`);
    const after = await rows<{ status: string; next_attempt_at: Date }>(
      'select status, next_attempt_at from mail_outbox',
    );
    assert.equal(after.length, MESSAGES);
    for (const row of after) {
      assert.equal(row.status, 'queued');
      assert.ok(row.next_attempt_at <= t.clock.now(), 'due now, for another instance');
    }
    assert.equal(transport.started.length, atOnce, 'nothing else was started while stopping');
  });
});
