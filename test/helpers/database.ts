import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openEmbedded, type EmbeddedDatabase } from '../../src/db/embedded';
import { createDb, type Db } from '../../src/db/knex';
import { migrateLatest } from '../../src/db/migrate';

/**
 * One real PostgreSQL for the whole run: DATABASE_URL when given, else a throw-away embedded
 * cluster on a free port (never the development data). Migrated once; emptied before each test.
 */
interface TestDatabase {
  url: string;
  db: Db;
  embedded?: EmbeddedDatabase;
}

let current: TestDatabase | undefined;

export async function startTestDatabase(): Promise<TestDatabase> {
  let url = process.env.DATABASE_URL;
  let embedded: EmbeddedDatabase | undefined;
  if (!url) {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'tickets-test-'));
    embedded = await openEmbedded({ dataDir, persistent: false, autovacuum: false });
    url = embedded.url;
  }
  const db = createDb(url);
  await migrateLatest(db);
  current = { url, db, embedded };
  return current;
}

export function testDatabase(): TestDatabase {
  if (!current) throw new Error('test database not started (root hooks missing?)');
  return current;
}

const TABLES = [
  'housekeeping',
  'attachment_chunks',
  'attachments',
  'ticket_events',
  'messages',
  'ticket_confirmations',
  'reply_addresses',
  'tickets',
  'login_tokens',
  'requesters',
  'users',
  'mail_outbox',
  'audit_events',
  'workspaces',
  'portal_sessions',
  'admin_sessions',
  'rate_limits',
  'inbound_receipts',
];

/** TRUNCATE is not subject to row-level security, so no scope is needed to empty the tables. */
export async function resetDatabase(): Promise<void> {
  await testDatabase().db.raw(`truncate ${TABLES.join(', ')} cascade`);
}

export async function stopTestDatabase(): Promise<void> {
  if (!current) return;
  await current.db.destroy();
  await current.embedded?.stop();
  current = undefined;
}
