import assert from 'node:assert/strict';
import type { Knex } from 'knex';
import { makeTestApp } from '../helpers/app';
import { Browser } from '../helpers/client';
import { testDatabase } from '../helpers/database';
import { aRequester, aWorkspace } from '../helpers/fixtures';

interface PoolStats {
  numUsed(): number;
  numPendingAcquires(): number;
}

function pool(): PoolStats {
  return (testDatabase().db.client as { pool: PoolStats }).pool;
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('the page transaction', () => {
  it('is ended when the client hangs up while its request still waits for a connection', async () => {
    const t = makeTestApp();
    const acme = await aWorkspace('acme');
    await aRequester(acme, 'jo@example.com', 'Jo');
    const jo = new Browser(t);
    await jo.signIn('jo@example.com');

    // Every connection of the pool busy, so the signed-in page queues for one.
    const { db } = testDatabase();
    const held: Knex.Transaction[] = [];
    while (pool().numPendingAcquires() === 0 && held.length < 50) {
      const next = db.transaction();
      const trx = await Promise.race([
        next,
        new Promise<undefined>((resolve) => setTimeout(resolve, 200)),
      ]);
      if (!trx) {
        // The pool is dry: this acquire waits. Let it finish later and end it.
        void next.then((late) => late.rollback());
        break;
      }
      held.push(trx);
    }
    const usedBefore = held.length;
    // A page that reads nothing after the viewer: only the close can end its transaction.
    const hungUp = jo.agent
      .get('/tickets/new')
      .set('Host', 'acme.localhost')
      .timeout(300)
      .then(
        () => 'answered',
        () => 'hung up',
      );
    assert.equal(await hungUp, 'hung up');
    for (const trx of held) await trx.rollback();

    await until(() => pool().numUsed() === 0, 'every connection is back in the pool');
    assert.ok(usedBefore >= 1);
    const page = await jo.get('/tickets');
    assert.equal(page.status, 200, 'the pool still serves pages');
  });
});
