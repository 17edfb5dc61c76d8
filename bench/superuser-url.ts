import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The embedded PostgreSQL's superuser on database `tickets`, from the DATA_DIR/postgres.json that
 * the app's embedded start-up writes. A superuser bypasses row-level security: the bare baseline
 * and the bench's own bookkeeping queries only, never the app.
 */
export function embeddedSuperuserUrl(dataDir: string): string {
  const state = JSON.parse(readFileSync(path.join(dataDir, 'postgres.json'), 'utf8')) as {
    port: number;
    superuserPassword: string;
  };
  const password = encodeURIComponent(state.superuserPassword);
  return `postgres://postgres:${password}@127.0.0.1:${state.port}/tickets`;
}
