import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import pino from 'pino';
import { freePort } from '../../src/db/embedded';
import { createDb } from '../../src/db/knex';
import { systemClock } from '../../src/deps';
import { startOutboxWorker } from '../../src/services/mail';
import { CapturingTransport, DAY } from '../helpers/app';

describe('the mail worker while the database is unreachable', () => {
  it('logs the outage once, not once a poll', async () => {
    // A database address nothing listens on: every poll fails to connect, as in an outage.
    const db = createDb(`postgres://tickets_app:unused@127.0.0.1:${await freePort()}/tickets`, 2);
    const lines: string[] = [];
    const logger = pino(
      { level: 'debug' },
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(chunk.toString());
          done();
        },
      }),
    );
    const worker = startOutboxWorker(
      {
        db,
        clock: systemClock,
        logger,
        mailTransport: new CapturingTransport(),
        secrets: ['unused-secret-unused-secret-unused-01'],
        maxBackoffMs: 1000,
        retryForMs: DAY,
      },
      10,
    );
    try {
      await new Promise((resolve) => setTimeout(resolve, 500));
    } finally {
      await worker.stop();
      await db.destroy();
    }
    const outage = lines.filter((line) => line.includes('database unreachable'));
    assert.equal(outage.length, 1, lines.join(''));
    assert.ok(!lines.some((line) => line.includes('mail worker failed')), lines.join(''));
  });
});
