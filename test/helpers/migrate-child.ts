import { createInterface } from 'node:readline';
import { createDb, type Db } from '../../src/db/knex';
import { migrateLatest } from '../../src/db/migrate';

/**
 * One "server instance" for the concurrent-migration test, in a process of its own. A line with
 * a database URL: connect to it, as start-up does, and answer "ready". A line "go": migrate it,
 * answer what was applied (or the error) as one JSON line, and disconnect. The parent says "go"
 * to every instance once all are ready, so they reach the migrations at the same moment.
 */
async function main(): Promise<void> {
  let db: Db | undefined;
  for await (const line of createInterface({ input: process.stdin })) {
    if (line !== 'go') {
      db = createDb(line, 2);
      await db.raw('select 1');
      process.stdout.write('ready\n');
    } else if (db) {
      try {
        process.stdout.write(`${JSON.stringify({ applied: await migrateLatest(db) })}\n`);
      } catch (error) {
        process.stdout.write(`${JSON.stringify({ error: String(error) })}\n`);
      } finally {
        await db.destroy();
        db = undefined;
      }
    }
  }
}

void main();
