import type { Trx } from '../db/knex';

/**
 * rate-limiter-flexible writes this table; its own clean-up (one timer per instance) is off and
 * the housekeeper deletes counters whose window has ended (expire is in epoch milliseconds).
 */
export async function deleteExpired(trx: Trx, now: Date): Promise<number> {
  return trx('rate_limits').where('expire', '<', now.getTime()).delete();
}

/**
 * The session stores' pool (see services/rate-limits.ts): a count stands on its own, outside any
 * request's transaction, so it holds even when the request's work is rolled back.
 */
export interface CounterStore {
  query<R>(text: string, values: unknown[]): Promise<{ rows: R[] }>;
}

export interface Counter {
  /** The library's key: `<prefix>:<hashed key>`. */
  key: string;
  /** The most points the window allows. */
  limit: number;
  /** The window's length. */
  durationMs: number;
}

export interface Count {
  points: number;
  /** When the window ends, in epoch milliseconds. */
  expire: number;
}

/**
 * Consumes one point of each counter in order, in one statement (one round trip), counting the
 * next one only while every earlier one is still within its limit: a caller refused by the first
 * never uses up the second's points. The same rows and arithmetic as rate-limiter-flexible's
 * Postgres store (a window restarts once it has expired), so its limiters and the housekeeper
 * read them as their own. Returns each counter's count, or undefined where it was not counted.
 */
export async function consumeInOrder(
  pool: CounterStore,
  counters: readonly Counter[],
  now: number,
): Promise<(Count | undefined)[]> {
  const values: unknown[] = [now];
  const steps = counters.map((counter, i) => {
    values.push(counter.key, now + counter.durationMs);
    const [keyParam, expireParam] = [`$${values.length - 1}`, `$${values.length}::bigint`];
    const earlier = counters
      .slice(0, i)
      .map((c, j) => `(select points from c${j}) <= ${Number(c.limit)}`);
    return `c${i} as (
      insert into rate_limits (key, points, expire)
      select ${keyParam}, 1, ${expireParam} ${earlier.length ? `where ${earlier.join(' and ')}` : ''}
      on conflict (key) do update set
        points = case when rate_limits.expire <= $1 then 1 else rate_limits.points + 1 end,
        expire = case when rate_limits.expire <= $1 then ${expireParam} else rate_limits.expire end
      returning points, expire)`;
  });
  const columns = counters.map(
    (_c, i) => `(select points from c${i}) as p${i}, (select expire from c${i}) as e${i}`,
  );
  const result = await pool.query<Record<string, number | null>>(
    `with ${steps.join(',\n')} select ${columns.join(', ')}`,
    values,
  );
  const row = result.rows[0] ?? {};
  return counters.map((_c, i) => {
    const points = row[`p${i}`];
    const expire = row[`e${i}`];
    return points == null || expire == null ? undefined : { points, expire: Number(expire) };
  });
}
