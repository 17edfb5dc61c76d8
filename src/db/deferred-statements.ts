import pg from 'pg';

/**
 * Fewer database round trips without changing what runs.
 *
 * Every round trip costs the server (and PostgreSQL, on the same cores) a socket write, a wake-up
 * and a parse, whatever the statement: a profile of a signed-in page showed that cost dominating
 * the request (see the README's benchmark notes). Two kinds of statement need no answer of their
 * own: knex's `BEGIN;` and setting a transaction's scope (`applyScope`). On the knex pool's
 * connections they are held back and sent, in the same message, ahead of the next statement that
 * does need an answer, under a single Sync:
 *
 *   Parse/Bind/Execute BEGIN, Parse/Bind/Execute set_config(…), Parse/Bind/Describe/Execute
 *   <the statement>, Sync
 *
 * PostgreSQL runs them in order exactly as if each had been sent alone (an error in one skips
 * the rest up to the Sync, and the statement's caller gets it), and answers once. A transaction
 * that ends before any statement needed sending never reaches the server at all: its COMMIT or
 * ROLLBACK is answered here.
 *
 * This leans on node-postgres internals (its Query class's `prepare` and message handlers); the
 * version is pinned by the lockfile and test/db/deferred-statements.test.ts breaks if they change.
 */

/** Marks a statement whose answer nobody reads: it is sent ahead of the next one. */
export const DEFER = '/* deferred */ ';

interface Statement {
  text: string;
  values: unknown[];
}

interface Pending {
  /** knex's BEGIN is held back: nothing has reached the server in this transaction yet. */
  begin: boolean;
  statements: Statement[];
  /** The knex transaction that deferred them, so nothing carries over to another user. */
  txId: unknown;
}

type QueryCallback = (error: Error | null, result?: unknown) => void;

interface QueryConfig {
  text: string;
  values?: unknown[];
}

/** What node-postgres's Query does internally, as far as this module relies on it. */
interface QueryInternals {
  text: string;
  values?: unknown[];
  requiresPreparation(): boolean;
  prepare(connection: ProtocolConnection): void;
  handleRowDescription(message: unknown): void;
  handleDataRow(message: unknown): void;
  handleCommandComplete(message: unknown, connection: ProtocolConnection): void;
  handleEmptyQuery(connection: ProtocolConnection): void;
}

interface ProtocolConnection {
  parse(config: { text: string; name?: string; types?: unknown[] }): void;
  bind(config: {
    portal?: string;
    statement?: string;
    values?: unknown[];
    valueMapper?: (value: unknown) => unknown;
  }): void;
  execute(config: { portal?: string; rows?: number }): void;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports -- node-postgres's own value encoder, the one its queries use for Bind
const { prepareValue } = require('pg/lib/utils') as { prepareValue: (value: unknown) => unknown };

const QueryBase = pg.Query as unknown as new (
  config: QueryConfig,
  values?: unknown,
  callback?: unknown,
) => QueryInternals;

/**
 * A query sent behind statements whose results are dropped: they are parsed, bound and executed
 * first (no Describe), then the query itself as node-postgres always sends it, then one Sync.
 */
class QueryAfterStatements extends QueryBase {
  private unanswered: number;

  constructor(
    private readonly ahead: readonly Statement[],
    config: QueryConfig,
    values?: unknown,
    callback?: unknown,
  ) {
    super(config, values, callback);
    this.unanswered = ahead.length;
  }

  // Always the extended protocol: a simple Query message cannot follow unsynced statements.
  override requiresPreparation(): boolean {
    return true;
  }

  override prepare(connection: ProtocolConnection): void {
    for (const statement of this.ahead) {
      connection.parse({ text: statement.text, types: [] });
      connection.bind({ values: statement.values, valueMapper: prepareValue });
      connection.execute({ rows: 0 });
    }
    super.prepare(connection);
  }

  // The statements ahead answer with (at most) data rows and a CommandComplete each; those are
  // theirs, not the query's.
  override handleRowDescription(message: unknown): void {
    if (this.unanswered === 0) super.handleRowDescription(message);
  }

  override handleDataRow(message: unknown): void {
    if (this.unanswered === 0) super.handleDataRow(message);
  }

  override handleCommandComplete(message: unknown, connection: ProtocolConnection): void {
    if (this.unanswered > 0) this.unanswered -= 1;
    else super.handleCommandComplete(message, connection);
  }

  override handleEmptyQuery(connection: ProtocolConnection): void {
    if (this.unanswered > 0) this.unanswered -= 1;
    else super.handleEmptyQuery(connection);
  }
}

const PENDING = Symbol('statements held back');

type Deferring = pg.Client & { [PENDING]?: Pending; __knexTxId?: unknown };

function answer(callback: QueryCallback, command: string): void {
  process.nextTick(() => callback(null, { command, rowCount: null, rows: [], fields: [] }));
}

/**
 * Makes a knex connection hold back BEGIN and deferred statements (see above). Installed on each
 * connection of the knex pool as it is created.
 */
export function deferStatementsOn(client: pg.Client): void {
  const connection = client as Deferring;
  const send = client.query.bind(client) as (
    query: unknown,
    values?: unknown,
    cb?: unknown,
  ) => unknown;
  const patched = (config: QueryConfig | string, values?: unknown, callback?: unknown): unknown => {
    const query = typeof config === 'string' ? { text: config } : config;
    const done = (typeof values === 'function' ? values : callback) as QueryCallback | undefined;
    // Only knex's callback-style calls are touched; anything else goes out as it came.
    if (!done || typeof query.text !== 'string') return send(config, values, callback);
    let pending = connection[PENDING];
    // Held back by a transaction that has since ended without sending anything: nothing of it
    // may reach the next user of the connection.
    if (pending && pending.txId !== connection.__knexTxId) {
      connection[PENDING] = pending = undefined;
    }
    const text = query.text;
    if (text === 'BEGIN;' && !pending) {
      connection[PENDING] = { begin: true, statements: [], txId: connection.__knexTxId };
      answer(done, 'BEGIN');
      return undefined;
    }
    if (text.startsWith(DEFER)) {
      const statement = { text: text.slice(DEFER.length), values: query.values ?? [] };
      if (pending) pending.statements.push(statement);
      else
        connection[PENDING] = {
          begin: false,
          statements: [statement],
          txId: connection.__knexTxId,
        };
      answer(done, 'SELECT');
      return undefined;
    }
    if (!pending) return send(config, values, callback);
    connection[PENDING] = undefined;
    if (/^(COMMIT|ROLLBACK);?$/.test(text)) {
      // Deferred scope settings end with their transaction; a BEGIN never sent needs no end.
      if (pending.begin) {
        answer(done, text.replace(';', ''));
        return undefined;
      }
      return send(config, values, callback);
    }
    const ahead = pending.begin
      ? [{ text: 'BEGIN', values: [] }, ...pending.statements]
      : pending.statements;
    if ((query.values?.length ?? 0) > 0 || !text.includes(';')) {
      return send(new QueryAfterStatements(ahead, query, query.values ?? [], done));
    }
    // Text that may hold several statements (a migration's DDL) must go as a simple query, which
    // cannot carry the held-back ones: they go first, on their own, as they used to.
    const last = ahead[ahead.length - 1] as Statement;
    send(
      new QueryAfterStatements(ahead.slice(0, -1), last, last.values, (error: Error | null) => {
        if (error) done(error);
        else send(config, values, callback);
      }),
    );
    return undefined;
  };
  (client as unknown as { query: typeof patched }).query = patched;
}
