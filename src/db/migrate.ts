import { readdirSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Knex } from 'knex';
import type { Db } from './knex';

/*
 * Migrations are written in TypeScript. Under tsx (tests, the CLI) they load from `migrations/`;
 * the compiled server loads the same migrations from `dist/migrations/` as JavaScript. knex
 * records each migration by file name, so both report the `.ts` name that has always been
 * recorded: a database migrated by one is up to date for the other.
 */
const compiled = __filename.endsWith('.js');
export const migrationsDirectory = path.resolve(__dirname, '../../migrations');
const extension = compiled ? '.js' : '.ts';
const RECORDED_EXTENSION = '.ts';

type Migration = Knex.Migration;

const source: Knex.MigrationSource<string> = {
  getMigrations() {
    const names = readdirSync(migrationsDirectory)
      .filter((file) => file.endsWith(extension) && !file.endsWith('.d.ts'))
      .map((file) => file.slice(0, -extension.length))
      .sort();
    return Promise.resolve(names);
  },
  getMigrationName(name) {
    return `${name}${RECORDED_EXTENSION}`;
  },
  async getMigration(name) {
    const file = path.join(migrationsDirectory, `${name}${extension}`);
    return (await import(pathToFileURL(file).href)) as Migration;
  },
};

/** What every knex migrator call takes (latest, down, list), here and in tests. */
export const migratorConfig: Knex.MigratorConfig = { migrationSource: source };

export async function migrateLatest(db: Db): Promise<string[]> {
  const [, applied] = (await db.migrate.latest(migratorConfig)) as [number, string[]];
  return applied;
}
