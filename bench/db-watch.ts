import pg from 'pg';

/** How long a transaction may sit idle before the bench calls it stuck. */
export const STUCK_AFTER_S = 5;

/**
 * The app's database connections that have sat idle inside a transaction for over
 * STUCK_AFTER_S seconds: a transaction never committed (leaked), or requests each holding a
 * connection while waiting for another from the same exhausted pool (a pool deadlock). Either
 * way the app stops answering, so the report says so next to the scenario that caused it.
 */
export async function stuckTransactions(databaseUrl: string): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'bench-watch' });
  await client.connect();
  try {
    const result = await client.query<{ stuck: number }>(
      `select count(*)::int as stuck from pg_stat_activity
        where datname = current_database() and pid <> pg_backend_pid()
          and state like 'idle in transaction%'
          and now() - state_change > make_interval(secs => $1)`,
      [STUCK_AFTER_S],
    );
    return result.rows[0]?.stuck ?? 0;
  } finally {
    await client.end();
  }
}
