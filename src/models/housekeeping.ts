import type { Trx } from '../db/knex';

/** One advisory lock key for the cluster's housekeeper (any fixed 64-bit number of our own). */
export const HOUSEKEEPING_LOCK = 7_284_913_650_001;

/**
 * Whether this transaction is the cluster's housekeeper for this interval: it holds the advisory
 * lock (released at commit) and the last run is at least `intervalMs` old, in which case the run
 * is recorded now. Another instance finds the lock taken, or the run already recorded.
 */
export async function claimRun(
  trx: Trx,
  input: { now: Date; intervalMs: number },
): Promise<boolean> {
  const lock = await trx.raw<{ rows: { locked: boolean }[] }>(
    'select pg_try_advisory_xact_lock(?::bigint) as locked',
    [HOUSEKEEPING_LOCK],
  );
  if (!lock.rows[0]?.locked) return false;
  const due = new Date(input.now.getTime() - input.intervalMs);
  const claimed = await trx.raw<{ rows: unknown[] }>(
    `insert into housekeeping (id, last_run_at) values (1, :now)
     on conflict (id) do update set last_run_at = :now where housekeeping.last_run_at <= :due
     returning id`,
    { now: input.now, due },
  );
  return claimed.rows.length === 1;
}
