import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../src/db/embedded';
import { migrateLatest, migratorConfig } from '../src/db/migrate';
import { verifyPassword } from '../src/services/passwords';
import { testDatabase } from './helpers/database';
import { anAgent, aWorkspace, rows } from './helpers/fixtures';
import { startScratchCluster } from './helpers/scratch-cluster';

const ROOT = path.resolve(__dirname, '..');
const TSX = path.join(ROOT, 'node_modules/.bin/tsx');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI in its own process, with only the environment given here. */
function cli(args: string[], env: Record<string, string> = {}, stdin = ''): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(TSX, ['src/cli.ts', ...args], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? os.tmpdir(),
        NODE_ENV: 'test',
        SESSION_SECRET: 'test-secret-test-secret-test-secret-0123',
        BASE_URL: 'http://localhost:3000',
        ...env,
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

/** Against the suite's test database; DATA_DIR points at nothing real, so it is never used. */
function cliOnTestDb(args: string[], stdin = ''): Promise<Run> {
  return cli(
    args,
    {
      DATABASE_URL: testDatabase().url,
      DATA_DIR: path.join(os.tmpdir(), 'tickets-cli-unused'),
    },
    stdin,
  );
}

/** A refusal is one line on stderr, nothing on stdout, and no stack trace. */
function assertRefused(run: Run, code: number, message: RegExp): void {
  assert.equal(run.code, code, `exit code (stderr: ${run.stderr})`);
  assert.equal(run.stdout, '');
  assert.match(run.stderr, message);
  assert.equal(run.stderr.trim().split('\n').length, 1, `one line: ${run.stderr}`);
  assert.doesNotMatch(run.stderr, /\bat .+:\d+:\d+/, 'no stack trace');
}

interface WorkspaceRow {
  slug: string;
  name: string;
  portal_enabled: boolean;
}

interface UserRow {
  email: string;
  name: string;
  role: string;
  password_hash: string;
  workspace_id: string;
}

const workspaceRows = () =>
  rows<WorkspaceRow>('select slug, name, portal_enabled from workspaces order by slug');
const userRows = () =>
  rows<UserRow>('select email, name, role, password_hash, workspace_id from users order by email');

const PASSWORD = 'correct horse battery';
const userArgs = (overrides: Record<string, string> = {}): string[] => [
  'user:create',
  ...Object.entries({
    workspace: 'acme',
    email: 'admin@acme.test',
    name: 'Ada Admin',
    role: 'admin',
    password: PASSWORD,
    ...overrides,
  }).flatMap(([name, value]) => [`--${name}`, value]),
];

describe('operator command line', function () {
  this.timeout(30_000);

  describe('usage', () => {
    it('help and no command print the usage and succeed; an unknown command exits 2', async () => {
      const [help, none, unknown] = await Promise.all([
        cli(['help']),
        cli([]),
        cli(['frobnicate']),
      ]);
      for (const run of [help, none]) {
        assert.equal(run.code, 0);
        assert.match(run.stdout, /^Usage: npm run cli -- <command>/);
        for (const command of ['migrate', 'workspace:create', 'workspace:portal', 'user:create']) {
          assert.ok(run.stdout.includes(command), `usage lists ${command}`);
        }
        assert.equal(run.stderr, '');
      }
      assert.equal(unknown.code, 2);
      assert.equal(unknown.stdout, '');
      assert.match(unknown.stderr, /^Unknown command "frobnicate"\n/);
      assert.match(unknown.stderr, /Usage: npm run cli -- <command>/);
    });

    it('a missing option or a value other than on/off exits 2 with one line and changes nothing', async () => {
      await aWorkspace('acme', { portal: false });
      const [missing, badState] = await Promise.all([
        cliOnTestDb(['workspace:create', '--slug', 'globex']),
        cliOnTestDb(['workspace:portal', '--slug', 'acme', 'enabled']),
      ]);
      assertRefused(missing, 2, /^Missing option --name \(usage: workspace:create /);
      assertRefused(badState, 2, /must be on or off, not "enabled"/);
      assert.deepEqual(await workspaceRows(), [
        { slug: 'acme', name: 'Acme Inc', portal_enabled: false },
      ]);
    });
  });

  describe('migrate', () => {
    const options = migratorConfig;

    afterEach(async () => {
      await migrateLatest(testDatabase().db);
    });

    it('applies what is pending and names each migration it applied', async () => {
      const { db } = testDatabase();
      const [, undone] = (await db.migrate.down(options)) as [number, string[]];
      assert.equal(undone.length, 1);
      const run = await cliOnTestDb(['migrate']);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stdout, `Applied 1 migration: ${undone[0]}\n`);
      assert.equal(run.stderr, '');
      const [, pending] = (await db.migrate.list(options)) as [unknown[], unknown[]];
      assert.equal(pending.length, 0, 'nothing left to apply');
    });
  });

  describe('workspace:create', () => {
    it('creates a workspace with its portal on when asked and prints its portal address', async () => {
      const run = await cliOnTestDb([
        'workspace:create',
        '--slug',
        'acme',
        '--name',
        'Acme Inc',
        '--portal',
        'on',
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(
        run.stdout,
        'Created workspace acme ("Acme Inc"), portal on: http://acme.localhost:3000/tickets\n',
      );
      assert.deepEqual(await workspaceRows(), [
        { slug: 'acme', name: 'Acme Inc', portal_enabled: true },
      ]);
    });

    it('refuses an invalid slug with exit 1 and stores nothing', async () => {
      const run = await cliOnTestDb([
        'workspace:create',
        '--slug',
        'Acme_Inc',
        '--name',
        'Acme Inc',
      ]);
      assertRefused(run, 1, /^Invalid slug "Acme_Inc": use 1 to 40 lowercase letters/);
      assert.deepEqual(await workspaceRows(), []);
    });
  });

  describe('workspace:portal', () => {
    it('switches the portal on and says so', async () => {
      await aWorkspace('acme', { portal: false });
      await aWorkspace('globex', { portal: false });
      const run = await cliOnTestDb(['workspace:portal', '--slug', 'acme', 'on']);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(
        run.stdout,
        'Workspace acme ("Acme Inc"): portal on: http://acme.localhost:3000/tickets\n',
      );
      assert.deepEqual(
        (await workspaceRows()).map((w) => [w.slug, w.portal_enabled]),
        [
          ['acme', true],
          ['globex', false],
        ],
      );
    });

    it('refuses an unknown workspace with exit 1', async () => {
      await aWorkspace('acme', { portal: true });
      const run = await cliOnTestDb(['workspace:portal', '--slug', 'initech', 'off']);
      assertRefused(run, 1, /^No workspace with slug "initech"$/m);
      assert.deepEqual(await workspaceRows(), [
        { slug: 'acme', name: 'Acme Inc', portal_enabled: true },
      ]);
    });
  });

  describe('user:create', () => {
    it('creates an account with a lower-cased address and an scrypt hash of the password', async () => {
      const acme = await aWorkspace('acme');
      const run = await cliOnTestDb(userArgs({ email: 'Admin@ACME.test' }));
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stdout, 'Created admin Ada Admin <admin@acme.test> in workspace acme\n');
      const [user, ...others] = await userRows();
      assert.equal(others.length, 0);
      assert.equal(user!.workspace_id, acme.id);
      assert.equal(user!.email, 'admin@acme.test');
      assert.equal(user!.name, 'Ada Admin');
      assert.equal(user!.role, 'admin');
      assert.match(
        user!.password_hash,
        /^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/,
      );
      assert.ok(!user!.password_hash.includes(PASSWORD), 'the password itself is not stored');
      assert.ok(
        await verifyPassword(PASSWORD, user!.password_hash),
        'the hash checks the password',
      );
      assert.ok(!(await verifyPassword('wrong password!', user!.password_hash)));
    });

    it('reads the password from standard input with --password -', async () => {
      await aWorkspace('acme');
      const run = await cliOnTestDb(userArgs({ password: '-' }), `${PASSWORD}\n`);
      assert.equal(run.code, 0, run.stderr);
      const [user] = await userRows();
      assert.ok(
        await verifyPassword(PASSWORD, user!.password_hash),
        'the typed password, line end dropped',
      );
      assert.ok(!(await verifyPassword('-', user!.password_hash)));
    });

    it('refuses an address the portal would refuse and a password under 12 characters', async () => {
      await aWorkspace('acme');
      const [email, password] = await Promise.all([
        cliOnTestDb(userArgs({ email: 'Ada <admin@acme.test>' })),
        cliOnTestDb(userArgs({ password: 'elevenchars' })),
      ]);
      assertRefused(
        email,
        1,
        /^Enter an email address in the correct format, like name@example\.com \(--email\)$/m,
      );
      assertRefused(password, 1, /^Password must be at least 12 characters \(--password\)$/m);
      assert.deepEqual(await userRows(), []);
    });

    it('refuses a second account with the same address in the workspace', async () => {
      const acme = await aWorkspace('acme');
      await anAgent(acme, { email: 'admin@acme.test', name: 'First', passwordHash: 'scrypt$x' });
      const run = await cliOnTestDb(userArgs({ email: 'ADMIN@acme.test', role: 'agent' }));
      assertRefused(
        run,
        1,
        /^admin@acme\.test already has an account in workspace acme \(--email\)$/m,
      );
      const users = await userRows();
      assert.deepEqual(
        users.map((u) => [u.email, u.name, u.password_hash]),
        [['admin@acme.test', 'First', 'scrypt$x']],
      );
    });
  });

  describe('with the database unreachable', () => {
    const unused = path.join(os.tmpdir(), 'tickets-cli-unused');

    it('every command says in one line where and why it cannot reach the database, and exits 3', async () => {
      const port = await freePort();
      const env = {
        DATABASE_URL: `postgres://tickets_app:hunter2-secret@127.0.0.1:${port}/tickets`,
        DATA_DIR: unused,
      };
      const runs = await Promise.all([
        cli(['migrate'], env),
        cli(['workspace:create', '--slug', 'acme', '--name', 'Acme Inc'], env),
        cli(['workspace:portal', '--slug', 'acme', 'on'], env),
        cli(userArgs(), env),
      ]);
      for (const run of runs) {
        assertRefused(
          run,
          3,
          new RegExp(
            `^Cannot reach the database at 127\\.0\\.0\\.1:${port}: connection refused$`,
            'm',
          ),
        );
        assert.ok(!run.stderr.includes('hunter2'), 'the password stays out of the message');
      }
    });

    it('a PostgreSQL that has stopped is reported the same way', async function () {
      this.timeout(90_000);
      const scratch = await startScratchCluster();
      const url = await scratch.createDatabase();
      await scratch.stop();
      const run = await cli(['workspace:portal', '--slug', 'acme', 'on'], {
        DATABASE_URL: url,
        DATA_DIR: unused,
      });
      assertRefused(run, 3, /^Cannot reach the database at 127\.0\.0\.1:\d+: connection refused$/m);
    });
  });

  describe('without DATABASE_URL', () => {
    let dataDir: string;

    beforeEach(() => {
      dataDir = mkdtempSync(path.join(os.tmpdir(), 'tickets-cli-'));
    });

    afterEach(() => {
      rmSync(dataDir, { recursive: true, force: true });
    });

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

    it('starts the embedded PostgreSQL under DATA_DIR, keeps the data, and stops it again', async function () {
      this.timeout(90_000);
      const env = { DATA_DIR: dataDir };
      const args = ['workspace:create', '--slug', 'initech', '--name', 'Initech'];

      const first = await cli(args, env);
      assert.equal(first.code, 0, first.stderr);
      assert.equal(
        first.stdout,
        'Created workspace initech ("Initech"), portal off: http://initech.localhost:3000/tickets\n',
      );
      assert.ok(
        existsSync(path.join(dataDir, 'postgres', 'PG_VERSION')),
        'the cluster lives under DATA_DIR',
      );
      const { port } = JSON.parse(readFileSync(path.join(dataDir, 'postgres.json'), 'utf8')) as {
        port: number;
      };
      assert.equal(await acceptsConnections(port), false, 'stopped after the first run');

      const second = await cli(args, env);
      assertRefused(second, 1, /^A workspace with slug "initech" already exists$/m);
      assert.equal(await acceptsConnections(port), false, 'stopped after the second run');
      assert.deepEqual(await workspaceRows(), [], 'the test database was never touched');
    });
  });
});
