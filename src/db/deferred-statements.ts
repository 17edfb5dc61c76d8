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

/**
 * Marks a statement to be prepared once per connection and reused (knex: `.options({ name:
 * PREPARED })`). PostgreSQL plans an unnamed statement afresh each time, and the pages' statements
 * carry the row-level security policies' subqueries: planning the 30-message thread took 2.5 ms
 * against 0.5 ms to run it. A named statement is planned a few times and then served from a
 * generic plan. The name is given here, one per distinct SQL text, so two texts can never share
 * one.
 */
export const PREPARED = 'prepared';

// Distinct texts are few (one per query shape), but a shape with a variable-length list would
// make a new one per length: past this many, statements go unnamed as before.
const MAX_PREPARED = 500;
const preparedNames = new Map<string, string>();

function preparedName(text: string): string | undefined {
  let name = preparedNames.get(text);
  if (name === undefined && preparedNames.size < MAX_PREPARED) {
    name = `tp_${preparedNames.size + 1}`;
    preparedNames.set(text, name);
  }
  return name;
}

interface Statement {
  text: string;
  values: unknown[];
}

interface Pending {
  /** knex's BEGIN, held back: nothing has reached the server in this transaction yet. */
  begin: string | undefined;
  statements: Statement[];
  /** The knex transaction that deferred them, so nothing carries over to another user. */
  txId: unknown;
}

type QueryCallback = (error: Error | null, result?: unknown) => void;

interface QueryConfig {
  text: string;
  values?: unknown[];
  name?: string;
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

const STATE = Symbol('statements held back');

/** Ends a read-only transaction that the connection's next use did not come soon enough to carry. */
const END_FLUSH_MS = 10;

interface ConnectionState {
  held?: Pending;
  /** The transaction in progress began READ ONLY: its end may travel with the next statement. */
  readOnly: boolean;
  /** A read-only transaction's COMMIT or ROLLBACK, not yet sent. */
  end?: { text: string; timer: NodeJS.Timeout };
}

type Deferring = pg.Client & {
  [STATE]?: ConnectionState;
  __knexTxId?: unknown;
  connection?: { parsedStatements?: Record<string, string> };
};

const IDLE_EVENTS = ['drain', 'end', 'error'] as const;

const BEGIN = /^BEGIN(?: TRANSACTION [A-Z ]+)?;$/;
const END = /^(COMMIT|ROLLBACK);?$/;

function answer(callback: QueryCallback, command: string): void {
  process.nextTick(() => callback(null, { command, rowCount: null, rows: [], fields: [] }));
}

/**
 * Makes a knex connection hold back BEGIN and deferred statements (see above). Installed on each
 * connection of the knex pool as it is created.
 *
 * A transaction that began READ ONLY (every page transaction of a GET: see page-transaction.ts)
 * may also have its end held back, to go ahead of the connection's next statement, or on its own
 * after END_FLUSH_MS if the connection is not used again by then: PostgreSQL refuses any write in
 * such a transaction, so its end can neither fail nor lose anything, and the page was answered
 * from rows it had already read.
 */
export function deferStatementsOn(client: pg.Client): void {
  const connection = client as Deferring;
  const state: ConnectionState = { readOnly: false };
  connection[STATE] = state;
  const send = client.query.bind(client) as (
    query: unknown,
    values?: unknown,
    cb?: unknown,
  ) => unknown;
  const takeEnd = (): Statement[] => {
    const end = state.end;
    if (!end) return [];
    clearTimeout(end.timer);
    state.end = undefined;
    return [{ text: end.text, values: [] }];
  };
  const sendEnd = (): void => {
    const [end] = takeEnd();
    // Nothing to report: ending a read-only transaction changes nothing either way, and a
    // connection that has failed is dropped by the pool.
    if (end) send({ text: end.text }, () => undefined);
  };
  /**
   * Whether node-postgres has a statement on its way, unanswered. A call that comes then waits
   * for its `drain` (or the connection's end or failure, where the call then fails): it may be
   * the next user of a connection whose read-only end went alone, or the end of a transaction
   * whose client hung up while its statement ran. node-postgres would queue it behind that
   * statement, which version 8 warns against and version 9 will refuse.
   */
  const busy = () => (client as { readyForQuery?: boolean }).readyForQuery === false;
  const whenIdle = (config: unknown, values: unknown, callback: unknown) => {
    const later = (call: () => void) => {
      const go = () => {
        for (const event of IDLE_EVENTS) client.off(event, go);
        call();
      };
      for (const event of IDLE_EVENTS) client.on(event, go);
    };
    const run = () => patched(config as QueryConfig, values, callback);
    const submittable = typeof (config as { submit?: unknown }).submit === 'function';
    if (submittable || typeof values === 'function' || typeof callback === 'function') {
      later(() => void run());
      // What node-postgres returns for these: the submittable itself, or nothing.
      return submittable ? config : undefined;
    }
    return new Promise((resolve, reject) => {
      later(() => {
        (run() as Promise<unknown>).then(resolve, reject);
      });
    });
  };
  client.once('end', () => {
    if (state.end) clearTimeout(state.end.timer);
    state.end = undefined;
  });
  const patched = (config: QueryConfig | string, values?: unknown, callback?: unknown): unknown => {
    if (busy()) return whenIdle(config, values, callback);
    const query = typeof config === 'string' ? { text: config } : config;
    const done = (typeof values === 'function' ? values : callback) as QueryCallback | undefined;
    // Only knex's callback-style calls are held back; anything else goes out as it came.
    if (!done || typeof query.text !== 'string') {
      sendEnd();
      return send(config, values, callback);
    }
    if (query.name === PREPARED) {
      const name = preparedName(query.text);
      if (name) query.name = name;
      else delete query.name;
    }
    let held = state.held;
    // Held back by a transaction that has since ended without sending anything: nothing of it
    // may reach the next user of the connection.
    if (held && held.txId !== connection.__knexTxId) {
      state.held = held = undefined;
      state.readOnly = false;
    }
    const text = query.text;
    if (BEGIN.test(text) && !held) {
      state.held = { begin: text, statements: [], txId: connection.__knexTxId };
      state.readOnly = text.includes('READ ONLY');
      answer(done, 'BEGIN');
      return undefined;
    }
    if (text.startsWith(DEFER)) {
      const statement = { text: text.slice(DEFER.length), values: query.values ?? [] };
      if (held) held.statements.push(statement);
      else state.held = { begin: undefined, statements: [statement], txId: connection.__knexTxId };
      answer(done, 'SELECT');
      return undefined;
    }
    if (END.test(text)) {
      // Deferred scope settings end with their transaction; a BEGIN never sent needs no end.
      state.held = undefined;
      const readOnly = state.readOnly;
      state.readOnly = false;
      if (held?.begin) {
        answer(done, text.replace(';', ''));
        return undefined;
      }
      if (readOnly) {
        state.end = { text, timer: setTimeout(sendEnd, END_FLUSH_MS) };
        answer(done, text.replace(';', ''));
        return undefined;
      }
      return send(config, values, callback);
    }
    state.held = undefined;
    const ahead = [
      ...takeEnd(),
      ...(held?.begin ? [{ text: held.begin, values: [] }] : []),
      ...(held?.statements ?? []),
    ];
    if (ahead.length === 0) return send(config, values, callback);
    // A named statement not yet prepared on this connection must not follow others in one
    // message: node-postgres takes the first ParseComplete it sees (the first statement ahead's)
    // as the named one's, and would think it prepared even if the message failed before it.
    const unprepared =
      query.name !== undefined &&
      connection.connection?.parsedStatements?.[query.name] === undefined;
    if (!unprepared && ((query.values?.length ?? 0) > 0 || !text.includes(';'))) {
      return send(new QueryAfterStatements(ahead, query, query.values ?? [], done));
    }
    // Text that may hold several statements (a migration's DDL) must go as a simple query, which
    // cannot carry the held-back ones: they go first, on their own, as they used to; so they do
    // before a statement's first preparation on a connection.
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
