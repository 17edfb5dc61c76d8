import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { freePort } from '../../src/db/embedded';
import { createDb, type Db } from '../../src/db/knex';
import {
  holdMigrationLock,
  migrateLatest,
  migrationsDirectory,
  migratorConfig,
} from '../../src/db/migrate';
import { startScratchCluster, type ScratchCluster } from '../helpers/scratch-cluster';

const ROOT = path.resolve(__dirname, '../..');
const KNEX = path.join(ROOT, 'node_modules/.bin/knex');
const TSX = path.join(ROOT, 'node_modules/.bin/tsx');

/** The migration files, by the names knex records (`.ts`, as the app records them). */
const MIGRATIONS = readdirSync(migrationsDirectory)
  .filter((file) => file.endsWith('.ts'))
  .sort();

/**
 * What a migration can change, read from the catalogs, one line per object: relations (kind,
 * logged or not, row-level security, grants), columns, constraints, indexes, policies, triggers,
 * functions, types and extensions. knex's own bookkeeping tables are left out.
 */
const SCHEMA = `
  with ours as (
    select c.oid, c.relname from pg_class c
    where c.relnamespace = 'public'::regnamespace and c.relname not like 'knex\\_%'
      and not exists (select 1 from pg_depend d where d.objid = c.oid and d.deptype = 'e')
  )
  select 'relation ' || c.relname || ' kind=' || c.relkind::text || ' persistence=' || c.relpersistence::text
         || ' rls=' || c.relrowsecurity || ' force=' || c.relforcerowsecurity
         || ' acl=' || coalesce(c.relacl::text, '-') as line
    from pg_class c join ours using (oid)
  union all
  select 'column ' || ours.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
         || case when a.attnotnull then ' not null' else '' end
         || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '')
    from pg_attribute a join ours on ours.oid = a.attrelid
    left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
   where a.attnum > 0 and not a.attisdropped
  union all
  select 'constraint ' || ours.relname || '.' || con.conname || ' ' || pg_get_constraintdef(con.oid)
    from pg_constraint con join ours on ours.oid = con.conrelid
  union all
  select 'index ' || pg_get_indexdef(i.indexrelid)
    from pg_index i join ours on ours.oid = i.indrelid
  union all
  select 'policy ' || p.tablename || '.' || p.policyname || ' ' || p.cmd || ' ' || p.permissive
         || ' to ' || p.roles::text || ' using ' || coalesce(p.qual, '-')
         || ' check ' || coalesce(p.with_check, '-')
    from pg_policies p where p.schemaname = 'public'
  union all
  select 'trigger ' || pg_get_triggerdef(t.oid)
    from pg_trigger t join ours on ours.oid = t.tgrelid where not t.tgisinternal
  union all
  select 'function ' || pg_get_functiondef(p.oid) || ' leakproof=' || p.proleakproof
    from pg_proc p
   where p.pronamespace = 'public'::regnamespace
     and not exists (select 1 from pg_depend d where d.objid = p.oid and d.deptype = 'e')
  union all
  select 'type ' || t.typname || ' ' || t.typtype::text
    from pg_type t
   where t.typnamespace = 'public'::regnamespace and t.typtype in ('e', 'd')
     and not exists (select 1 from pg_depend d where d.objid = t.oid and d.deptype = 'e')
  union all
  select 'extension ' || e.extname || ' ' || e.extversion from pg_extension e
   where e.extname <> 'plpgsql'
  order by 1`;

async function schemaOf(db: Db): Promise<string[]> {
  const result = await db.raw<{ rows: { line: string }[] }>(SCHEMA);
  return result.rows.map((row) => row.line);
}

async function recorded(db: Db): Promise<string[]> {
  const result = await db.raw<{ rows: { name: string }[] }>(
    'select name from knex_migrations order by name',
  );
  return result.rows.map((row) => row.name);
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `npx knex …` from the checkout, as an operator would, with only the environment given. */
function knex(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(KNEX, args, {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? os.tmpdir(),
        NODE_ENV: 'test',
        NO_COLOR: '1',
        SESSION_SECRET: 'test-secret-test-secret-test-secret-0123',
        DATA_DIR: path.join(os.tmpdir(), 'tickets-knex-unused'),
        ...env,
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function acceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function eventually(check: () => Promise<boolean>, what: string, ms = 15_000) {
  for (const end = Date.now() + ms; Date.now() < end;) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.fail(`timed out waiting until ${what}`);
}

describe('migrations', function () {
  this.timeout(60_000);
  let scratch: ScratchCluster;
  const opened: Db[] = [];

  /** A knex pool on a new, empty database of the scratch cluster. */
  async function emptyDatabase(): Promise<{ url: string; db: Db }> {
    const url = await scratch.createDatabase();
    const db = createDb(url, 3);
    opened.push(db);
    return { url, db };
  }

  before(async function () {
    this.timeout(120_000);
    scratch = await startScratchCluster();
  });

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((db) => db.destroy()));
  });

  after(async function () {
    this.timeout(60_000);
    await scratch?.stop();
  });

  it('every down undoes exactly what its up did, and the whole chain goes down to nothing and up again', async () => {
    const { db } = await emptyDatabase();
    const empty = await schemaOf(db);
    assert.deepEqual(empty, [], 'a new database holds nothing of ours');

    let before: string[] = empty;
    for (const name of MIGRATIONS) {
      const [, up] = (await db.migrate.up(migratorConfig)) as [number, string[]];
      assert.deepEqual(up, [name]);
      const after = await schemaOf(db);
      assert.notDeepEqual(after, before, `${name} changes the schema`);
      await db.migrate.down(migratorConfig);
      assert.deepEqual(await schemaOf(db), before, `${name}: down leaves the schema as before up`);
      await db.migrate.up(migratorConfig);
      assert.deepEqual(await schemaOf(db), after, `${name}: up again after down`);
      before = after;
    }

    const [, undone] = (await db.migrate.rollback(migratorConfig, true)) as [number, string[]];
    assert.equal(undone.length, MIGRATIONS.length);
    assert.deepEqual(await schemaOf(db), empty, 'all the way down, nothing of ours is left');
    assert.deepEqual(await migrateLatest(db), MIGRATIONS);
    assert.deepEqual(await schemaOf(db), before, 'all the way up again, the same schema');
  });

  it('marks the messages that already have files (20261201170000), and its trigger every message that gets one', async () => {
    const { db } = await emptyDatabase();
    const target = '20261201170000_messages_with_files.ts';
    for (const name of MIGRATIONS.slice(0, MIGRATIONS.indexOf(target))) {
      const [, up] = (await db.migrate.up(migratorConfig)) as [number, string[]];
      assert.deepEqual(up, [name]);
    }
    const asSystem = <T>(sql: string) =>
      db.transaction(async (trx) => {
        await trx.raw(`select set_config('app.scope', 'system', true)`);
        return (await trx.raw<{ rows: T[] }>(sql)).rows;
      });
    const flags = async () =>
      asSystem<{ body: string; has_files: boolean }>(
        'select body, has_files from messages order by body',
      );
    await asSystem(`
      with w as (insert into workspaces (slug, name) values ('acme', 'Acme') returning id),
           r as (insert into requesters (workspace_id, email) select id, 'jo@example.com' from w
                 returning workspace_id, id),
           t as (insert into tickets (workspace_id, number, requester_id, subject, status)
                 select workspace_id, 1001, id, 'Printer', 'open' from r returning workspace_id, id),
           m as (insert into messages (workspace_id, ticket_id, author_kind, author_name, body)
                 select workspace_id, id, 'agent', 'Alex', body from t,
                        (values ('with a file'), ('without'), ('later')) v(body)
                 returning workspace_id, id, body)
      insert into attachments (workspace_id, message_id, position, name, content_type, size,
                               storage_key)
      select workspace_id, id, 0, 'photo.png', 'image/png', 3, gen_random_uuid()
        from m where body = 'with a file'`);

    await db.migrate.up(migratorConfig);
    assert.deepEqual(await flags(), [
      { body: 'later', has_files: false },
      { body: 'with a file', has_files: true },
      { body: 'without', has_files: false },
    ]);
    await asSystem(`
      insert into attachments (workspace_id, message_id, position, name, content_type, size,
                               storage_key)
      select workspace_id, id, 0, 'log.txt', 'text/plain', 3, gen_random_uuid()
        from messages where body = 'later'`);
    assert.deepEqual(await flags(), [
      { body: 'later', has_files: true },
      { body: 'with a file', has_files: true },
      { body: 'without', has_files: false },
    ]);
  });

  describe('knex command line (knexfile.ts)', () => {
    it('migrate:latest, migrate:list and migrate:rollback work on the app database and agree with the app', async () => {
      const { url, db } = await emptyDatabase();
      const env = { DATABASE_URL: url };

      const pending = await knex(['migrate:list'], env);
      assert.equal(pending.code, 0, pending.stderr);
      assert.match(pending.stdout, /No Completed Migration files Found/);
      assert.match(pending.stdout, new RegExp(`Found ${MIGRATIONS.length} Pending`));
      for (const name of MIGRATIONS) assert.ok(pending.stdout.includes(`\n${name}\n`), name);

      const latest = await knex(['migrate:latest'], env);
      assert.equal(latest.code, 0, latest.stderr);
      assert.match(latest.stdout, new RegExp(`Batch 1 run: ${MIGRATIONS.length} migrations`));
      assert.deepEqual(await recorded(db), MIGRATIONS, 'recorded under the names the app records');
      assert.deepEqual(await migrateLatest(db), [], 'the app finds nothing left to apply');

      const listed = await knex(['migrate:status'], env);
      assert.equal(listed.code, 0, listed.stderr);
      assert.match(listed.stdout, new RegExp(`Found ${MIGRATIONS.length} Completed`));
      assert.match(listed.stdout, /No Pending Migration files Found/);

      const rollback = await knex(['migrate:rollback'], env);
      assert.equal(rollback.code, 0, rollback.stderr);
      assert.match(rollback.stdout, new RegExp(`Batch 1 rolled back: ${MIGRATIONS.length}`));
      assert.deepEqual(await schemaOf(db), []);
      assert.deepEqual(await recorded(db), []);

      assert.deepEqual(await migrateLatest(db), MIGRATIONS, 'the app applies them again');
      const again = await knex(['migrate:latest'], env);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, /Already up to date/, 'and the command line agrees');
      assert.deepEqual(await recorded(db), MIGRATIONS, 'each recorded once');
    });

    it('migrate:make writes a TypeScript migration with up and down into migrations/, without a database', async () => {
      // Nothing listens here: making a file must not need a database.
      const env = { DATABASE_URL: `postgres://nobody:x@127.0.0.1:${await freePort()}/none` };
      const run = await knex(['migrate:make', 'add_widgets'], env);
      const file = /Created Migration: (.+\.ts)$/m.exec(run.stdout)?.[1];
      try {
        assert.equal(run.code, 0, run.stderr);
        assert.ok(file, run.stdout);
        assert.equal(path.dirname(file), migrationsDirectory);
        assert.match(path.basename(file), /^\d{14}_add_widgets\.ts$/);
        const text = readFileSync(file, 'utf8');
        assert.match(text, /^import type \{ Knex \} from 'knex';$/m);
        assert.match(text, /^export async function up\(knex: Knex\): Promise<void> \{$/m);
        assert.match(text, /^export async function down\(knex: Knex\): Promise<void> \{$/m);
        const names = await migratorConfig.migrationSource!.getMigrations([]);
        assert.ok(
          names.some(
            (m) => migratorConfig.migrationSource!.getMigrationName(m) === path.basename(file),
          ),
          'the app sees it as a migration to apply',
        );
      } finally {
        if (file) rmSync(file, { force: true });
      }
    });

    it('waits, like a starting instance, while the migration lock is held, and then migrates once', async () => {
      const { url, db } = await emptyDatabase();
      const release = await holdMigrationLock(url);
      const command = knex(['migrate:latest'], { DATABASE_URL: url });
      const instance = migrateLatest(db);
      try {
        const waiting = async () => {
          const result = await db.raw<{ rows: { count: number }[] }>(
            `select count(*)::int as count from pg_stat_activity
              where datname = current_database() and wait_event = 'advisory'`,
          );
          return result.rows[0]?.count === 2;
        };
        await eventually(waiting, 'both the command and the instance wait for the lock');
        const table = await db.raw<{ rows: { t: string | null }[] }>(
          `select to_regclass('knex_migrations')::text as t`,
        );
        assert.equal(table.rows[0]?.t, null, 'nothing migrated while the lock is held');
      } finally {
        await release();
        await Promise.allSettled([command, instance]);
      }
      const [run, applied] = await Promise.all([command, instance]);
      assert.equal(run.code, 0, run.stderr);
      const byCommand = /Batch 1 run: (\d+) migrations/.exec(run.stdout)?.[1];
      assert.equal(
        Number(byCommand ?? 0) + applied.length,
        MIGRATIONS.length,
        `one of them applied everything (${run.stdout})`,
      );
      assert.deepEqual(await recorded(db), MIGRATIONS);
    });

    it('without DATABASE_URL, starts the embedded PostgreSQL under DATA_DIR for the command and stops it after', async function () {
      this.timeout(90_000);
      const dataDir = mkdtempSync(path.join(os.tmpdir(), 'tickets-knex-'));
      try {
        const latest = await knex(['migrate:latest'], { DATA_DIR: dataDir });
        assert.equal(latest.code, 0, latest.stderr);
        assert.match(latest.stdout, new RegExp(`Batch 1 run: ${MIGRATIONS.length} migrations`));
        const { port } = JSON.parse(readFileSync(path.join(dataDir, 'postgres.json'), 'utf8')) as {
          port: number;
        };
        await eventually(async () => !(await acceptsConnections(port)), 'PostgreSQL has stopped');

        const listed = await knex(['migrate:list'], { DATA_DIR: dataDir });
        assert.equal(listed.code, 0, listed.stderr);
        assert.match(listed.stdout, new RegExp(`Found ${MIGRATIONS.length} Completed`));
        await eventually(async () => !(await acceptsConnections(port)), 'stopped again');
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    });
  });

  describe('two instances starting at the same moment on an empty database', () => {
    /** An instance process (test/helpers/migrate-child.ts) and its answers, line by line. */
    interface Instance {
      child: ChildProcessWithoutNullStreams;
      next(): Promise<string>;
    }

    function startInstance(): Instance {
      const child = spawn(TSX, [path.join(ROOT, 'test/helpers/migrate-child.ts')], {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test' },
      });
      const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
      return {
        child,
        async next() {
          const line = await lines.next();
          if (line.done) throw new Error('the instance process ended');
          return line.value;
        },
      };
    }

    it('apply the migrations once between them, round after round', async function () {
      this.timeout(120_000);
      const instances = [startInstance(), startInstance()];
      try {
        for (let round = 1; round <= 4; round += 1) {
          const { url, db } = await emptyDatabase();
          for (const { child } of instances) child.stdin.write(`${url}\n`);
          for (const instance of instances) assert.equal(await instance.next(), 'ready');
          for (const { child } of instances) child.stdin.write('go\n');
          const answers = await Promise.all(
            instances.map(
              async (instance) =>
                JSON.parse(await instance.next()) as { applied?: string[]; error?: string },
            ),
          );
          for (const answer of answers) {
            assert.equal(answer.error, undefined, `round ${round}: an instance failed`);
          }
          assert.deepEqual(
            answers.flatMap((answer) => answer.applied ?? []).sort(),
            MIGRATIONS,
            `round ${round}: each migration applied by exactly one instance`,
          );
          assert.deepEqual(await recorded(db), MIGRATIONS, `round ${round}: recorded once`);
        }
      } finally {
        for (const { child } of instances) child.stdin.end();
      }
    });
  });
});
