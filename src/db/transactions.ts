import type { Knex } from 'knex';
import type pg from 'pg';
import type { Db, Trx } from './knex';

/**
 * A transaction on one pooled connection, without knex's transaction machinery.
 *
 * knex builds a whole knex instance for every transaction (a client copy and a function with
 * some hundred properties defined one by one): under the bench that was 0.08 ms of CPU per
 * transaction against 0.06 ms for everything this does, on every page. Here the queries are
 * ordinary knex builders pinned to the connection with `.connection()`, which knex's runner uses
 * instead of acquiring one; BEGIN, COMMIT and ROLLBACK are statements like any other (and still
 * travel with the next statement: db/deferred-statements.ts).
 *
 * What it offers is what the models use of a knex transaction: `trx(table)`, `trx.raw`,
 * `trx.select`, `trx.unionAll`, `trx.fn`, `commit()` and `rollback()`. It is typed as knex's
 * Transaction so the models need not know; test/db/transactions.test.ts holds it to that.
 */

interface PooledConnection {
  /** Read by db/deferred-statements.ts: statements held back never outlive their transaction. */
  __knexTxId?: string;
  query(...args: unknown[]): unknown;
}

type QueryCallback = (error: Error) => void;

/** A statement in node-postgres' own terms: `$1`-style placeholders, an optional prepared name. */
export interface Statement {
  text: string;
  values?: readonly unknown[];
  name?: string;
}

/** Sends a statement straight to the transaction's connection (see `directStatements`). */
export type SendStatement = (statement: Statement) => Promise<pg.QueryResult>;

const direct = new WeakMap<object, SendStatement>();

/**
 * How to send a statement on this transaction's connection without knex's query runner, or
 * undefined for a transaction this module did not begin (knex's own, in tests and migrations).
 * knex's runner (compiling, positioning bindings, its promise chain) cost about 30 µs of CPU a
 * statement over node-postgres alone; a page's transaction sends five or more, and BEGIN, the
 * scope and the read-only COMMIT do not even reach the server (db/deferred-statements.ts).
 */
export function directStatements(trx: Trx): SendStatement | undefined {
  return direct.get(trx);
}

interface ClientInternals {
  acquireConnection(): Promise<PooledConnection>;
  releaseConnection(connection: PooledConnection): Promise<void>;
}

let sequence = 0;

export async function beginTransaction(db: Db, options: { readOnly: boolean }): Promise<Trx> {
  const client = db.client as unknown as ClientInternals;
  const connection = await client.acquireConnection();
  sequence += 1;
  connection.__knexTxId = `trx${sequence}`;
  let ended = false;
  const release = async () => {
    delete connection.__knexTxId;
    await client.releaseConnection(connection);
  };
  // The models' queries reach the connection through this guard: once the transaction has ended
  // (a response that closed early rolls it back while the work may still be running) the
  // connection is back in the pool, maybe in another request's transaction, and a late query
  // must fail rather than run there. knex's own transactions refuse such queries the same way.
  const send = connection.query.bind(connection);
  const refuse = (...args: unknown[]) => {
    const callback = args.find((arg): arg is QueryCallback => typeof arg === 'function');
    const error = new Error('query after its transaction ended');
    if (callback) process.nextTick(() => callback(error));
    else throw error;
  };
  const guarded = new Proxy(connection, {
    get: (target, property): unknown =>
      property === 'query' ? (ended ? refuse : send) : Reflect.get(target, property, target),
  });
  const pinned = <T extends { connection(connection: unknown): T }>(builder: T): T =>
    builder.connection(guarded);
  // Every statement is still announced as knex announces its own, for anyone listening (tests
  // that count a page's statements).
  const announce = (statement: Statement) => {
    if (db.listenerCount('query') > 0) {
      db.emit('query', {
        __knexTxId: connection.__knexTxId,
        sql: statement.text,
        bindings: statement.values ?? [],
      });
    }
  };
  const sendOn =
    (target: PooledConnection): SendStatement =>
    (statement) => {
      announce(statement);
      return new Promise((resolve, reject) => {
        target.query(
          { text: statement.text, values: statement.values ?? [], name: statement.name },
          (error: Error | null, result: pg.QueryResult) =>
            error ? reject(error) : resolve(result),
        );
      });
    };
  // BEGIN, COMMIT and ROLLBACK go to the connection itself: the guard is for the work.
  const sendToConnection = sendOn(connection);
  const run = (text: string) => sendToConnection({ text }).then(() => undefined);

  const trx = ((table: string) => pinned(db(table))) as unknown as Trx & {
    [key: string]: unknown;
  };
  Object.assign(trx, {
    raw: (sql: string, bindings?: Knex.RawBinding[] | Knex.ValueDict) =>
      pinned(bindings === undefined ? db.raw(sql) : db.raw(sql, bindings)),
    select: (...columns: unknown[]) =>
      pinned((db.select as (...c: unknown[]) => Knex.QueryBuilder)(...columns)),
    unionAll: (...args: unknown[]) =>
      pinned((db.unionAll as (...a: unknown[]) => Knex.QueryBuilder)(...args)),
    fn: db.fn,
    isTransaction: true,
    commit: () => end('COMMIT;'),
    rollback: () => end('ROLLBACK;'),
  });

  direct.set(trx, sendOn(guarded));

  async function end(statement: 'COMMIT;' | 'ROLLBACK;'): Promise<void> {
    if (ended) throw new Error(`${statement} after the transaction ended`);
    ended = true;
    try {
      await run(statement);
    } finally {
      await release();
    }
  }

  try {
    // The same text knex sends, which deferred-statements recognises (and holds back).
    await run(options.readOnly ? 'BEGIN TRANSACTION READ ONLY;' : 'BEGIN;');
  } catch (error) {
    ended = true;
    await release();
    throw error;
  }
  return trx;
}

/** Runs `work` in a transaction: committed when it resolves, rolled back when it throws. */
export async function inTransaction<T>(db: Db, work: (trx: Trx) => Promise<T>): Promise<T> {
  const trx = await beginTransaction(db, { readOnly: false });
  let result: T;
  try {
    result = await work(trx);
  } catch (error) {
    // The work's error is the one to report; a failed rollback (a lost connection) adds nothing.
    await trx.rollback().catch(() => undefined);
    throw error;
  }
  await trx.commit();
  return result;
}
