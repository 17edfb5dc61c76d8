import assert from 'node:assert/strict';
import { withScope } from '../../src/db/scopes';
import * as outbox from '../../src/models/mail-outbox';
import { testDatabase } from '../helpers/database';
import { aWorkspace } from '../helpers/fixtures';

/** A sign-in link queued behind a burst of other mail still goes out first. */
describe('the outbox worker’s claim', () => {
  it('takes mail with an expiry before older mail without one, then fills up with the rest', async () => {
    const acme = await aWorkspace('acme');
    const start = new Date('2026-11-30T09:00:00Z');
    const at = (seconds: number) => new Date(start.getTime() + seconds * 1000);
    const { db } = testDatabase();
    await withScope(db, { kind: 'system' }, async (trx) => {
      for (let i = 0; i < 30; i += 1) {
        await outbox.enqueue(trx, {
          workspaceId: acme.id,
          sealed: Buffer.from(`acknowledgement ${i}`),
          recipientDomain: 'example.com',
          queuedAt: at(i),
        });
      }
      await outbox.enqueue(trx, {
        workspaceId: acme.id,
        sealed: Buffer.from('sign-in link'),
        recipientDomain: 'example.com',
        queuedAt: at(60),
        expiresAt: at(3600),
      });
    });
    const claimed = await withScope(db, { kind: 'system' }, (trx) =>
      outbox.claimDue(trx, { now: at(120), limit: 5, leaseUntil: at(180) }),
    );
    assert.equal(claimed.length, 5);
    assert.equal(claimed[0]!.sealed!.toString(), 'sign-in link');
    assert.deepEqual(
      claimed
        .slice(1)
        .map((m) => m.sealed!.toString())
        .sort(),
      ['acknowledgement 0', 'acknowledgement 1', 'acknowledgement 2', 'acknowledgement 3'],
    );
  });
});
