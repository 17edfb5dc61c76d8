import assert from 'node:assert/strict';
import pg from 'pg';
import { createDb, type Db } from '../../src/db/knex';
import { applyScope, withScope } from '../../src/db/scopes';
import { queryRows } from '../../src/db/statements';
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

  it('ended while a statement runs (the client left), waits for its answer before the end', async () => {
    // node-postgres itself, watched beneath the app's layers (they bind its query method when a
    // pooled connection is made): nothing may reach it while an earlier statement is unanswered,
    // which it would queue (version 8 warns, version 9 refuses) on a connection the pool may
    // already have lent to the next request.
    type Query = (this: pg.Client, ...args: unknown[]) => unknown;
    const prototype = pg.Client.prototype as unknown as { query: Query };
    const original = prototype.query;
    const sent: string[] = [];
    let overlapped = 0;
    type Watched = pg.Client & { unanswered?: number };
    type Callback = (error: unknown, result?: unknown) => void;
    const watched = function (this: Watched, ...args: unknown[]): unknown {
      const config = args[0] as string | { text: string; callback?: unknown };
      sent.push(typeof config === 'string' ? config : config.text);
      if (this.unanswered) overlapped += 1;
      this.unanswered = (this.unanswered ?? 0) + 1;
      const settle = (callback: unknown) => (error: unknown, result?: unknown) => {
        this.unanswered = (this.unanswered ?? 1) - 1;
        if (typeof callback === 'function') (callback as Callback)(error, result);
      };
      const at = args.findIndex((arg) => typeof arg === 'function');
      if (at >= 0) args[at] = settle(args[at]);
      else if (typeof config === 'object' && typeof config.callback === 'function')
        config.callback = settle(config.callback);
      const result = original.apply(this, args);
      if (at < 0 && result instanceof Promise)
        void result.then(settle(undefined), settle(undefined));
      return result;
    };
    prototype.query = watched;
    await db.destroy();
    db = createDb(testDatabase().url, 1);
    try {
      for (const readOnly of [true, false]) {
        sent.length = 0;
        const trx = await beginTransaction(db, { readOnly });
        const order: string[] = [];
        // Sent as the models' hot statements are (db/statements.ts), whose answer reaches the
        // caller without knex's extra steps: the end must still come after it.
        const slow = queryRows(trx, 'select pg_sleep(0.2) as slept').then(() =>
          order.push('statement answered'),
        );
        await new Promise((resolve) => setTimeout(resolve, 50));
        await trx.rollback().then(() => order.push('transaction ended'));
        await slow;
        // The next request's transaction on the one connection.
        const next = await beginTransaction(db, { readOnly: true });
        const { rows: answer } = await next.raw<{ rows: { n: number }[] }>('select 1 as n');
        assert.deepEqual(answer, [{ n: 1 }]);
        await next.commit();
        await new Promise((resolve) => setTimeout(resolve, 50));
        assert.deepEqual(
          order,
          ['statement answered', 'transaction ended'],
          `readOnly ${readOnly}`,
        );
        assert.equal(overlapped, 0, sent.join('\n'));
      }
    } finally {
      prototype.query = original;
    }
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
