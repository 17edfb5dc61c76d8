import path from 'node:path';
import type { Db } from './knex';

export const migrationsDirectory = path.resolve(__dirname, '../../migrations');

export async function migrateLatest(db: Db): Promise<string[]> {
  const [, applied] = (await db.migrate.latest({
    directory: migrationsDirectory,
    loadExtensions: ['.ts'],
  })) as [number, string[]];
  return applied;
}
