import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { openEmbedded, type EmbeddedDatabase } from '../../src/db/embedded';

/**
 * A throw-away embedded PostgreSQL of a test file's own, apart from the suite's shared database,
 * for tests that need empty databases (migrations from nothing, two instances racing) or a
 * server that stops. Databases are created as the superuser and owned by the app role, as the
 * embedded `tickets` database is.
 */
export interface ScratchCluster {
  /** A new, empty database, and the app role's URL for it. */
  createDatabase(): Promise<string>;
  /** Runs one statement as the superuser on a database of this cluster. */
  asSuperuser<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]>;
  stop(): Promise<void>;
}

interface State {
  superuserPassword: string;
}

export async function startScratchCluster(): Promise<ScratchCluster> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'tickets-scratch-'));
  const embedded: EmbeddedDatabase = await openEmbedded({ dataDir, persistent: false });
  const { superuserPassword } = JSON.parse(
    readFileSync(path.join(dataDir, 'postgres.json'), 'utf8'),
  ) as State;
  let databases = 0;

  async function asSuperuser<T extends pg.QueryResultRow>(url: string, sql: string) {
    const target = new URL(url);
    target.username = 'postgres';
    target.password = superuserPassword;
    const client = new pg.Client({ connectionString: target.href });
    await client.connect();
    try {
      return (await client.query<T>(sql)).rows;
    } finally {
      await client.end();
    }
  }

  return {
    async createDatabase() {
      databases += 1;
      const name = `scratch_${databases}`;
      await asSuperuser(embedded.url, `create database ${name} owner tickets_app`);
      const url = new URL(embedded.url);
      url.pathname = `/${name}`;
      return url.href;
    },
    asSuperuser,
    stop: () => embedded.stop(),
  };
}
