import type { Knex } from 'knex';
import { PREPARED } from './deferred-statements';
import type { Trx } from './knex';
import { directStatements } from './transactions';

export type { Statement } from './transactions';

/**
 * One statement of a model, in its transaction, written as node-postgres takes it (`$1`, `$2`…
 * placeholders; no `?` anywhere in the text, which knex would read as one). On a transaction the
 * app began (db/transactions.ts) it goes straight to the connection, past knex's query runner:
 * for the statements every page sends (BEGIN's scope, the workspace with the session, the page's
 * rows) that runner was a tenth of a signed-in page's CPU. On knex's own transactions (tests,
 * migrations) it goes through `trx.raw`, the same text with knex's placeholders.
 *
 * `prepared`: named once per connection and planned from then on like the other hot statements
 * (PREPARED in db/deferred-statements.ts).
 */
export async function queryRows<Row>(
  trx: Trx,
  text: string,
  values: readonly unknown[] = [],
  options: { prepared?: boolean } = {},
): Promise<Row[]> {
  const name = options.prepared ? PREPARED : undefined;
  const send = directStatements(trx);
  if (send) return (await send({ text, values, name })).rows as Row[];
  const { sql, bindings } = knexPlaceholders(text, values);
  const raw = trx.raw<{ rows: Row[] }>(sql, bindings as Knex.RawBinding[]);
  return (await (name ? raw.options({ name }) : raw)).rows;
}

const converted = new Map<string, { sql: string; order: number[] }>();

/**
 * `$n` placeholders as knex's `?`, with the values in the order of their use. The models' texts
 * hold no `$n` inside a quoted literal, and no `?` (see queryRows).
 */
export function knexPlaceholders(
  text: string,
  values: readonly unknown[],
): { sql: string; bindings: unknown[] } {
  let known = converted.get(text);
  if (!known) {
    const order: number[] = [];
    const sql = text.replace(/\$(\d+)/g, (_match, n: string) => {
      order.push(Number(n) - 1);
      return '?';
    });
    known = { sql, order };
    // Texts are the models' constants: a few dozen at most.
    if (converted.size < 500) converted.set(text, known);
  }
  return { sql: known.sql, bindings: known.order.map((i) => values[i]) };
}

/** What a knex query builder gives for `toSQL()`, as far as `builtRows` needs it. */
interface Compilable {
  toSQL(): {
    options?: { name?: string };
    toNative(): { sql: string; bindings: readonly unknown[] };
  };
}

/**
 * A knex builder's rows, sent like `queryRows`: knex still builds and compiles the SQL (the
 * models compose their queries with it), but its runner is skipped, about 30 µs of CPU a
 * statement. A builder marked `.options({ name: PREPARED })` is prepared as knex would have it.
 * On knex's own transactions the builder simply runs.
 */
export async function builtRows<Row>(
  trx: Trx,
  builder: Compilable & PromiseLike<unknown>,
): Promise<Row[]> {
  const send = directStatements(trx);
  if (!send) return (await builder) as Row[];
  const compiled = builder.toSQL();
  const { sql, bindings } = compiled.toNative();
  const name = compiled.options?.name === PREPARED ? PREPARED : undefined;
  return (await send({ text: sql, values: bindings, name })).rows as Row[];
}
