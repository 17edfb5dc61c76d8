import assert from 'node:assert/strict';
import pg from 'pg';
import { startCountingProxy, type CountingProxy } from '../../bench/pg-proxy';
import { createDb, type Db } from '../../src/db/knex';
import { DEFER, deferStatementsOn, PREPARED } from '../../src/db/deferred-statements';
import { withScope } from '../../src/db/scopes';
import { testDatabase } from '../helpers/database';
import { aWorkspace, joAndSamWithATicketEach } from '../helpers/fixtures';

/**
 * BEGIN and a transaction's scope travel with the statement after them (one round trip, counted
 * on the wire by the benchmark's protocol proxy), and nothing about them changes what runs.
 */
describe('statements held back for the next round trip', () => {
  let proxy: CountingProxy;
  let db: Db;

  before(async () => {
    const url = new URL(testDatabase().url);
    proxy = await startCountingProxy({ host: url.hostname, port: Number(url.port) }, []);
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
    db = createDb(url.href, 1);
    await db.raw('select 1'); // the connection's start-up is not a round trip of a unit of work
  });

  after(async () => {
    await db.destroy();
    await proxy.close();
  });

  it('a scoped read is BEGIN, scope and query in one round trip, then COMMIT', async () => {
    const { acme, jo } = await joAndSamWithATicketEach();

    proxy.reset();
    const subjects = await withScope(
      db,
      { kind: 'requester', workspaceId: acme.id, requesterId: jo.id },
      async (trx) =>
        (await trx('tickets').select('subject')).map((r: { subject: string }) => r.subject),
    );
    // The scope was in force for the query: row-level security showed Jo's ticket alone.
    assert.deepEqual(subjects, ['Jo’s printer']);
    assert.deepEqual(proxy.read(), { request: 2, background: 0 }, proxy.trace().join('\n'));
    assert.match(
      proxy.trace()[0] ?? '',
      /^BEGIN;?; select set_config\('app\.scope'.*; select "subject" from "tickets"/s,
    );
    assert.match(proxy.trace()[1] ?? '', /^COMMIT/);
  });

  it('a statement marked PREPARED is parsed once on a connection, then only bound and run', async () => {
    const acme = await aWorkspace('acme');
    const scope = { kind: 'system' } as const;
    const find = (slug: string) =>
      withScope(db, scope, async (trx) => {
        const row = await trx('workspaces')
          .select('name')
          .where({ slug })
          .options({ name: PREPARED })
          .first<{ name: string } | undefined>();
        return row?.name;
      });
    proxy.reset();
    assert.equal(await find('acme'), acme.name);
    // Its first time on this connection: what is held back goes first, on its own, so that
    // node-postgres cannot take a ParseComplete of theirs for the named statement's.
    assert.deepEqual(proxy.read(), { request: 3, background: 0 }, proxy.trace().join('\n'));
    proxy.reset();
    assert.equal(await find('acme'), acme.name);
    assert.equal(await find('nobody'), undefined);
    // Then BEGIN, scope and the prepared statement travel together again, as one round trip.
    assert.deepEqual(proxy.read(), { request: 4, background: 0 }, proxy.trace().join('\n'));
    const prepared = await db.transaction(async (trx) =>
      trx.raw<{ rows: { name: string; statement: string }[] }>(
        `select name, statement from pg_prepared_statements`,
      ),
    );
    const mine = prepared.rows.filter((row) => /from "workspaces"/.test(row.statement));
    assert.equal(mine.length, 1, JSON.stringify(prepared.rows));
    assert.match(mine[0]?.name ?? '', /^tp_\d+$/);
  });

  it('two texts marked PREPARED get a name each, and a failure ahead of the first preparation spoils nothing', async () => {
    const acme = await aWorkspace('acme');
    const run = (sql: string, ahead?: string) =>
      db.transaction(async (trx) => {
        if (ahead) await trx.raw(`${DEFER}${ahead}`);
        return (
          await trx.raw<{ rows: { n: number }[] }>(sql, [acme.id]).options({ name: PREPARED })
        ).rows[0]?.n;
      });
    await assert.rejects(
      run('select 1 as n from workspaces where id = ?', 'select 1 / 0'),
      /division by zero/,
    );
    assert.equal(await run('select 1 as n from workspaces where id = ?'), 1);
    assert.equal(await run('select 2 as n from workspaces where id = ?'), 2);
    assert.equal(await run('select 1 as n from workspaces where id = ?'), 1);
  });

  it('a transaction that sends no statement costs no round trip at all', async () => {
    proxy.reset();
    await withScope(db, { kind: 'system' }, () => Promise.resolve(undefined));
    await db.transaction(() => Promise.resolve(undefined));
    const trx = await db.transaction();
    await trx.rollback();
    assert.deepEqual(proxy.read(), { request: 0, background: 0 });
  });

  it('an error in a held-back statement reaches the next statement, and the transaction rolls back', async () => {
    const acme = await aWorkspace('acme');
    await assert.rejects(
      db.transaction(async (trx) => {
        await trx.raw(`${DEFER}select 1 / 0`);
        await trx('workspaces').update({ name: 'Changed' }).where({ id: acme.id });
      }),
      /division by zero/,
    );
    const row = await db('workspaces').where({ id: acme.id }).first<{ name: string }>();
    assert.equal(row.name, acme.name);
  });

  it('nothing held back by an ended transaction reaches the next user of the connection', async () => {
    const trx = await db.transaction();
    await trx.raw(`${DEFER}select set_config('app.scope', 'agent', true)`);
    await trx.rollback();
    const after = await db.raw<{ rows: { scope: string | null }[] }>(
      `select current_setting('app.scope', true) as scope`,
    );
    assert.notEqual(after.rows[0]?.scope, 'agent');
    // And the pool's one connection is not left inside a transaction.
    const state = await testDatabase().db.raw<{ rows: { state: string }[] }>(
      `select state from pg_stat_activity
        where application_name = 'tickets-portal' and client_port is not null
          and state like 'idle in transaction%'`,
    );
    assert.deepEqual(state.rows, []);
  });

  it('a read-only transaction’s end travels with the connection’s next statement, or alone soon after', async () => {
    const acme = await aWorkspace('acme');
    const read = () =>
      db.transaction(
        async (trx) => {
          const row = await trx('workspaces').where({ id: acme.id }).first<{ name: string }>();
          return row.name;
        },
        { readOnly: true },
      );
    proxy.reset();
    assert.equal(await read(), acme.name);
    assert.equal(await read(), acme.name);
    // The first COMMIT went ahead of the second transaction's BEGIN; the second, on its own.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const trace = proxy.trace();
    assert.deepEqual(proxy.read(), { request: 3, background: 0 }, trace.join('\n'));
    assert.match(trace[0] ?? '', /^BEGIN TRANSACTION READ ONLY;; select/);
    assert.match(trace[1] ?? '', /^COMMIT;?; BEGIN TRANSACTION READ ONLY;; select/);
    assert.match(trace[2] ?? '', /^COMMIT/);
    const idle = await testDatabase().db.raw<{ rows: unknown[] }>(
      `select 1 from pg_stat_activity
        where application_name = 'tickets-portal' and state like 'idle in transaction%'`,
    );
    assert.deepEqual(idle.rows, []);
  });

  it('a statement that comes while a lone end is on its way waits for its answer', async () => {
    // A client of its own, watched underneath the deferring layer: what goes to node-postgres,
    // and whether anything goes while an earlier statement is still unanswered (node-postgres
    // would queue it; version 8 warns against that and version 9 will refuse it).
    const client = new pg.Client({ connectionString: testDatabase().url });
    await client.connect();
    const sent: string[] = [];
    let unanswered = 0;
    let overlapped = 0;
    let onLoneEnd: (() => void) | undefined;
    const underlying = client.query.bind(client) as (...args: unknown[]) => unknown;
    const watched = (config: unknown, values?: unknown, callback?: unknown): unknown => {
      const query = config as { text: string; submit?: unknown; callback?: unknown };
      if (unanswered > 0) overlapped += 1;
      unanswered += 1;
      sent.push(query.text);
      const settle = (original: unknown) => (error: unknown, result?: unknown) => {
        unanswered -= 1;
        (original as (e: unknown, r?: unknown) => void)(error, result);
      };
      if (typeof query.submit === 'function') query.callback = settle(query.callback);
      const result = underlying(config, settle(typeof values === 'function' ? values : callback));
      if (query.text === 'COMMIT;' && onLoneEnd) queueMicrotask(onLoneEnd);
      return result;
    };
    (client as unknown as { query: unknown }).query = watched;
    deferStatementsOn(client);
    const run = (text: string) =>
      new Promise<{ rows: { n?: number }[] }>((resolve, reject) => {
        client.query(text, (error: Error | null, result: { rows: { n?: number }[] }) =>
          error ? reject(error) : resolve(result),
        );
      });
    const readOnly = async (n: number) => {
      (client as unknown as { __knexTxId: unknown }).__knexTxId = `tx${n}`;
      await run('BEGIN TRANSACTION READ ONLY;');
      const { rows } = await run(`select ${n} as n`);
      await run('COMMIT;');
      return rows[0]?.n;
    };
    try {
      assert.equal(await readOnly(1), 1);
      // The first transaction's COMMIT is held back; nothing else uses the connection, so it goes
      // alone after a moment. The next transaction starts just as it leaves, before its answer.
      const second = new Promise<number | undefined>((resolve, reject) => {
        onLoneEnd = () => {
          onLoneEnd = undefined;
          readOnly(2).then(resolve, reject);
        };
      });
      assert.equal(await second, 2);
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(overlapped, 0, sent.join('\n'));
      assert.deepEqual(sent, ['select 1 as n', 'COMMIT;', 'select 2 as n', 'COMMIT;']);
    } finally {
      await client.end();
    }
  });

  it('PostgreSQL refuses a write in a read-only transaction', async () => {
    const acme = await aWorkspace('acme');
    await assert.rejects(
      db.transaction(
        (trx) => trx('workspaces').update({ name: 'Changed' }).where({ id: acme.id }),
        { readOnly: true },
      ),
      /read-only transaction/,
    );
    const row = await db('workspaces').where({ id: acme.id }).first<{ name: string }>();
    assert.equal(row.name, acme.name);
  });

  it('text that may hold several statements still runs inside the transaction', async () => {
    await assert.rejects(
      db.transaction(async (trx) => {
        await trx.raw('create temporary table held (n int); insert into held values (1);');
        const rows = await trx.raw<{ rows: { n: number }[] }>('select n from held');
        assert.deepEqual(rows.rows, [{ n: 1 }]);
        throw new Error('roll back');
      }),
      /roll back/,
    );
    // Rolled back with the transaction: the table never existed outside it.
    const exists = await db.raw<{ rows: { t: string | null }[] }>(
      `select to_regclass('pg_temp.held') as t`,
    );
    assert.equal(exists.rows[0]?.t, null);
  });
});
