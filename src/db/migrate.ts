import { readdirSync } from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import pg from 'pg';
import type { Db } from './knex';

/*
 * Migrations are written in TypeScript. Under tsx (tests, the CLI) and under knex's own command
 * line (knexfile.ts, through sucrase) they load from `migrations/`; the compiled server loads the
 * same migrations from `dist/migrations/` as JavaScript. knex records each migration by file name,
 * so all of them record the `.ts` name that has always been recorded: a database migrated by one
 * is up to date for the others.
 */
const compiled = __filename.endsWith('.js');
export const migrationsDirectory = path.resolve(__dirname, '../../migrations');
const extension = compiled ? '.js' : '.ts';
const RECORDED_EXTENSION = '.ts';

/** Shaped like knex's own file source, whose `file` knex's CLI prints in `migrate:list`. */
interface MigrationFile {
  /** The name recorded in knex_migrations. */
  file: string;
}

const source: Knex.MigrationSource<MigrationFile> = {
  getMigrations() {
    const files = readdirSync(migrationsDirectory)
      .filter((file) => file.endsWith(extension) && !file.endsWith('.d.ts'))
      .map((file) => `${file.slice(0, -extension.length)}${RECORDED_EXTENSION}`)
      .sort();
    return Promise.resolve(files.map((file) => ({ file })));
  },
  getMigrationName(migration) {
    return migration.file;
  },
  getMigration({ file }) {
    const loaded = path.join(
      migrationsDirectory,
      `${file.slice(0, -RECORDED_EXTENSION.length)}${extension}`,
    );
    // require, not import(): sucrase's require hook (knex's CLI) turns import() into a require of
    // the file URL, which fails; tsx and the compiled server load the file either way.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return Promise.resolve(require(loaded) as Knex.Migration);
  },
};

/** What every knex migrator call takes (latest, down, list), here, in knexfile.ts and in tests. */
export const migratorConfig: Knex.MigratorConfig = { migrationSource: source };

/**
 * Migrations run once per cluster, however many instances start at once. knex's own lock is a
 * row in a table that knex creates first, unguarded: two instances starting together on an empty
 * database both create it and one dies (duplicate key in pg_type). Every migration run therefore
 * first takes this PostgreSQL advisory lock; whoever comes second waits, then finds nothing to do.
 */
const MIGRATION_LOCK = `hashtextextended('tickets-portal: migrations', 0)`;

/**
 * Applies pending migrations under the migration lock, which a transaction of its own holds (so a
 * commit, a rollback or a lost connection all release it) while knex migrates on another
 * connection: the pool needs room for two.
 */
export function migrateLatest(db: Db): Promise<string[]> {
  return db.transaction(async (trx) => {
    await trx.raw(`select pg_advisory_xact_lock(${MIGRATION_LOCK})`);
    const [, applied] = (await db.migrate.latest(migratorConfig)) as [number, string[]];
    return applied;
  });
}

/**
 * For knex's own command line, which runs the migrator itself and then ends the process: takes
 * the migration lock on a connection of its own, to keep until the process ends and PostgreSQL
 * releases the lock with the connection (or until the returned function is called).
 */
export async function holdMigrationLock(connectionString: string): Promise<() => Promise<void>> {
  const client = new pg.Client({ connectionString, application_name: 'tickets-portal migrations' });
  // A lost lock connection surfaces as the command's own queries failing, not as a crash here.
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.query(`select pg_advisory_lock(${MIGRATION_LOCK})`);
  } catch (error) {
    await client.end();
    throw error;
  }
  return () => client.end();
}
