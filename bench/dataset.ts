import { createDb } from '../src/db/knex';
import { withScope } from '../src/db/scopes';
import { BENCH_SLUG } from './bench-data';

/** What the bench reports about the data it ran on. */
export interface Dataset {
  /** Tickets in all workspaces as seeded: without those the bench's own writer opened. */
  tickets: number;
  benchTickets: number;
  /** Closed tickets of the bench workspace: what the CSV export scenario must return. */
  closedInBench: number;
  /** Tickets the bench's writer opened in earlier runs (not counted above). */
  writerTickets: number;
}

interface Row {
  tickets: number;
  bench_tickets: number;
  closed: number;
  writer_tickets: number;
}

/** Reads the counts in the `system` scope; undefined when there is no bench workspace. */
export async function readDataset(url: string, writerEmail: string): Promise<Dataset | undefined> {
  const db = createDb(url, 1);
  try {
    const row = await withScope(db, { kind: 'system' }, async (trx) => {
      // A database nobody has migrated yet has no bench data either.
      const tables = await trx.raw<{ rows: { migrated: boolean }[] }>(
        `select to_regclass('workspaces') is not null as migrated`,
      );
      if (!tables.rows[0]?.migrated) return undefined;
      const result = await trx.raw<{ rows: Row[] }>(
        `select (select count(*) from tickets) as tickets,
                (select count(*) from tickets t where t.workspace_id = w.id) as bench_tickets,
                (select count(*) from tickets t
                  where t.workspace_id = w.id and t.status = 'closed') as closed,
                (select count(*) from tickets t join requesters r
                     on r.workspace_id = t.workspace_id and r.id = t.requester_id
                  where t.workspace_id = w.id and r.email = ?) as writer_tickets
           from workspaces w where w.slug = ?`,
        [writerEmail, BENCH_SLUG],
      );
      return result.rows[0];
    });
    if (!row) return undefined;
    return {
      tickets: row.tickets - row.writer_tickets,
      benchTickets: row.bench_tickets - row.writer_tickets,
      closedInBench: row.closed,
      writerTickets: row.writer_tickets,
    };
  } finally {
    await db.destroy();
  }
}
