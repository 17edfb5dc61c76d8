import assert from 'node:assert/strict';
import { createDb, type Db } from '../../src/db/knex';
import { applyScope, withScope } from '../../src/db/scopes';
import { beginTransaction, inTransaction } from '../../src/db/transactions';
import { testDatabase } from '../helpers/database';
import { aRequester, aTicket, aWorkspace, rows } from '../helpers/fixtures';

/**
 * The app's transactions (db/transactions.ts) are knex builders pinned to one pooled connection.
 * They must behave as knex's transactions did: all or nothing, read-only when asked, the
 * connection back in the pool at the end, and nothing of one transaction running in another.
 */
describe('transactions on a pinned connection', () => {
  // One connection, so every transaction here gets the very connection the one before had.
  let db: Db;

  beforeEach(() => {
    db = createDb(testDatabase().url, 1);
  });

  afterEach(async () => {
    await db.destroy();
  });

  const system = { kind: 'system' } as const;
  const nameOf = async (slug: string) =>
    (await rows<{ name: string }>('select name from workspaces where slug = ?', [slug]))[0]?.name;

  it('commits all of its work, or on an error none of it', async () => {
    await aWorkspace('acme', { name: 'Acme' });
    await withScope(db, system, async (trx) => {
      await trx('workspaces').where({ slug: 'acme' }).update({ name: 'Acme One' });
    });
    assert.equal(await nameOf('acme'), 'Acme One');

    await assert.rejects(
      withScope(db, system, async (trx) => {
        await trx('workspaces').where({ slug: 'acme' }).update({ name: 'Acme Two' });
        await trx.raw('select 1/0');
      }),
      /division by zero/,
    );
    assert.equal(await nameOf('acme'), 'Acme One', 'the update before the error was undone');
    // The connection came back clean: the next transaction is not stuck in an aborted one.
    const result = await withScope(db, system, (trx) =>
      trx.raw<{ rows: { one: number }[] }>('select 1 as one'),
    );
    assert.equal(result.rows[0]?.one, 1);
  });

  it('refuses writes when read-only, and the scope set in it holds for its statements only', async () => {
    const acme = await aWorkspace('acme', { name: 'Acme' });
    const jo = await aRequester(acme, 'jo@example.com');
    const sam = await aRequester(acme, 'sam@example.com');
    await aTicket(acme, jo, { subject: 'Jo’s printer' });
    await aTicket(acme, sam, { subject: 'Sam’s router' });

    const trx = await beginTransaction(db, { readOnly: true });
    await applyScope(trx, { kind: 'requester', workspaceId: acme.id, requesterId: jo.id });
    const seen = await trx('tickets').select('subject');
    assert.deepEqual(
      seen.map((row: { subject: string }) => row.subject),
      ['Jo’s printer'],
    );
    await assert.rejects(
      trx('workspaces').where({ id: acme.id }).update({ name: 'Changed' }),
      /read-only transaction/,
    );
    await trx.rollback();
    assert.equal(await nameOf('acme'), 'Acme');
    // The next transaction on the same connection has no scope: row-level security hides all.
    const after = await inTransaction(db, (next) => next('tickets').select('subject'));
    assert.deepEqual(after, []);
  });

  it('once ended, runs nothing more: a late query fails instead of running in the next transaction', async () => {
    const acme = await aWorkspace('acme', { name: 'Acme' });
    const first = await beginTransaction(db, { readOnly: false });
    await first.raw('select 1');
    await first.rollback();

    const second = await beginTransaction(db, { readOnly: false });
    await applyScope(second, { kind: 'system' });
    await assert.rejects(
      first('workspaces').where({ id: acme.id }).update({ name: 'Written late' }),
      /after its transaction ended/,
    );
    await assert.rejects(first.raw('select 1'), /after its transaction ended/);
    await assert.rejects(first.commit(), /after the transaction ended/);
    await second.rollback();
    assert.equal(await nameOf('acme'), 'Acme');
  });

  it('gives its connection back however it ends', async () => {
    const pool = () => (db.client as { pool: { numUsed(): number; numFree(): number } }).pool;
    const committed = await beginTransaction(db, { readOnly: false });
    assert.equal(pool().numUsed(), 1);
    await committed.commit();
    assert.equal(pool().numUsed(), 0);

    const rolledBack = await beginTransaction(db, { readOnly: true });
    await rolledBack.raw('select 1');
    await rolledBack.rollback();
    assert.equal(pool().numUsed(), 0);

    await assert.rejects(
      inTransaction(db, () => Promise.reject(new Error('the work failed'))),
      /the work failed/,
    );
    assert.equal(pool().numUsed(), 0);
    assert.equal(pool().numFree(), 1, 'the one connection, still usable');
  });
});
