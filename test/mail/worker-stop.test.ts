import assert from 'node:assert/strict';
import { withScope } from '../../src/db/scopes';
import { queueMail, startOutboxWorker } from '../../src/services/mail';
import type { MailTransport, OutgoingMail } from '../../src/services/mail-transport';
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

describe('stopping the mail worker', () => {
  it('waits a while for the message being sent, then hands it and every unsent claimed message back, due now', async function () {
    this.timeout(20_000);
    const transport = new HangingTransport();
    const t = makeTestApp({ transport });
    const acme = await aWorkspace('acme');
    await withScope(t.deps.db, { kind: 'system' }, async (trx) => {
      for (let i = 0; i < 3; i += 1) {
        await queueMail(
          trx,
          { templates: t.deps.templates, secret: t.deps.config.sessionSecret },
          {
            workspaceId: acme.id,
            to: `customer-${i}@example.com`,
            locale: { lang: 'en', timeZone: 'UTC' },
            subject: `Message ${i}`,
            template: 'agent-reply',
            data: { workspaceName: 'Acme', reference: `ACME-${i}`, body: `Body ${i}` },
            at: t.clock.now(),
          },
        );
      }
    });
    const worker = startOutboxWorker(
      { ...t.deps, ...t.deps.config.mailWorker, secrets: t.deps.config.secrets },
      10,
    );
    for (let i = 0; i < 200 && transport.started.length === 0; i += 1) {
      await new Promise((r) => setTimeout(r, 25));
    }
    assert.equal(transport.started.length, 1, 'one send under way, hanging');
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
    assert.equal(after.length, 3);
    for (const row of after) {
      assert.equal(row.status, 'queued');
      assert.ok(row.next_attempt_at <= t.clock.now(), 'due now, for another instance');
    }
    assert.equal(transport.started.length, 1, 'nothing else was started while stopping');
  });
});
