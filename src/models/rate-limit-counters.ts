import type { Trx } from '../db/knex';

/**
 * rate-limiter-flexible writes this table; its own clean-up (one timer per instance) is off and
 * the housekeeper deletes counters whose window has ended (expire is in epoch milliseconds).
 */
export async function deleteExpired(trx: Trx, now: Date): Promise<number> {
  return trx('rate_limits').where('expire', '<', now.getTime()).delete();
}
