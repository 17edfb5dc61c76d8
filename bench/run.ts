/**
 * npm run bench: the real app, compiled and in production mode, under autocannon load from real
 * signed-in sessions, against a bare Express + pg + Nunjucks baseline in the same run; database
 * round trips counted through a proxy; the CSV export timed; the server's memory watched.
 * Prints a table with PASS/MISS per target and saves JSON under bench-results/. See README.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../src/config';
import { databaseTarget } from '../src/db/connect';
import { projectRoot } from '../src/project-root';
import { readDataset } from './dataset';
import { MailCatcher } from './mail-catcher';
import { parseOptions, USAGE, UsageError, type Options } from './options';
import { startCountingProxy } from './pg-proxy';
import type { Child } from './processes';
import {
  evaluate,
  formatReport,
  otherSizes,
  saveReport,
  type BenchReport,
  type RoundResult,
} from './report';
import { BACKGROUND_RULES } from './round-trips';
import { EXPORT_SCENARIO, hostOf, scenarios, Sessions, WRITER_EMAIL } from './scenarios';
import { hostAndPort, RAISED_LIMITS, startApp, startBare, viaProxy } from './servers';
import { embeddedSuperuserUrl } from './superuser-url';
import { COUNTED_REQUESTS, Suite } from './suite';

const RESULTS_DIR = path.join(projectRoot, 'bench-results');
const say = (line: string) => process.stdout.write(`${line}\n`);

/** The bench could not run (as opposed to: it ran and missed a target). */
class BenchError extends Error {}

/** Things to undo, last first, also when interrupted. */
class Cleanup {
  private readonly steps: (() => Promise<unknown>)[] = [];
  push(step: () => Promise<unknown>): void {
    this.steps.push(step);
  }
  async run(): Promise<void> {
    for (let step = this.steps.pop(); step; step = this.steps.pop()) {
      await step().catch((error: unknown) => say(`cleanup: ${String(error)}`));
    }
  }
}

function build(): void {
  say('npm run build');
  const result = spawnSync('npm', ['run', 'build'], { cwd: projectRoot, stdio: 'inherit' });
  if (result.status !== 0) throw new BenchError('npm run build failed');
}

function commit(): string | undefined {
  try {
    const git = (...args: string[]) =>
      execFileSync('git', args, { cwd: projectRoot, stdio: ['ignore', 'pipe', 'ignore'] });
    const head = git('rev-parse', '--short', 'HEAD');
    const dirty = git('status', '--porcelain', '--untracked-files=no');
    return `${head.toString().trim()}${dirty.length ? '-dirty' : ''}`;
  } catch {
    return undefined;
  }
}

async function bench(options: Options, cleanup: Cleanup): Promise<boolean> {
  const startedAt = new Date().toISOString();
  if (options.build) build();
  const config = loadConfig();
  const target = await databaseTarget(config);
  cleanup.push(() => target.stop());
  const dataset = await readDataset(target.url, WRITER_EMAIL);
  if (!dataset) throw new BenchError('no bench workspace: run npm run bench:seed first');
  if (!options.bareUrl && !target.embedded) {
    throw new BenchError(
      'with DATABASE_URL, pass --bare-url (a role that bypasses row-level security)',
    );
  }
  const bareUrl = options.bareUrl ?? embeddedSuperuserUrl(config.dataDir);
  say(
    `${dataset.tickets.toLocaleString('en-GB')} tickets (${dataset.benchTickets.toLocaleString('en-GB')} in the bench workspace)`,
  );

  const logDir = path.join(RESULTS_DIR, 'logs');
  mkdirSync(logDir, { recursive: true });
  const logFile = (name: string) =>
    path.join(logDir, `${startedAt.replace(/[:.]/g, '-')}-${name}.log`);
  const mail = new MailCatcher();
  const smtpPort = await mail.listen();
  cleanup.push(() => mail.close());
  const sessionSecret = randomBytes(32).toString('base64url');
  const started = async (child: Promise<Child>) => {
    const server = await child;
    cleanup.push(() => server.stop());
    return server;
  };
  const appInput = { databaseUrl: target.url, dataDir: config.dataDir, smtpPort, sessionSecret };
  const servers = {
    app: await started(
      startApp({
        ...appInput,
        name: 'app',
        logFile: logFile('app'),
        profileDir: options.profileDir,
      }),
    ),
    bare: await started(
      startBare({ name: 'bare', databaseUrl: bareUrl, logFile: logFile('bare') }),
    ),
  };
  say(
    `app server pid ${servers.app.pid} on port ${servers.app.port}, bare baseline pid ${servers.bare.pid}`,
  );

  const wanted = (name: string) => !options.only || options.only.includes(name);
  const selected = scenarios.filter((s) => s.server === 'bare' || wanted(s.name));
  const sessions = new Sessions(
    { port: servers.app.port, host: hostOf('app', servers.app.port) },
    { port: servers.bare.port, host: hostOf('bare', servers.bare.port) },
    mail,
    options.adminPassword,
    say,
  );
  const suite = new Suite(
    selected,
    wanted(EXPORT_SCENARIO),
    sessions,
    dataset.closedInBench,
    target.url,
    say,
  );
  const rounds: RoundResult[] = [];
  for (let round = 1; round <= options.rounds; round++) {
    say(`round ${round} of ${options.rounds}`);
    rounds.push(await suite.round(round, servers, options));
  }

  const notes = [
    'The app allows one sign-in mail a minute per address (not configurable): after the first ' +
      'request of each minute, the sign-in request scenarios get the same page and no mail is queued, ' +
      'for the known and the unknown address alike.',
  ];
  let idle: BenchReport['idle'];
  const firstRound = rounds[0];
  if (firstRound) {
    say(`counting database round trips (${COUNTED_REQUESTS} sequential requests a scenario)`);
    try {
      // The counting pass: a second app server and bare server behind counting proxies.
      const proxies = {
        app: await startCountingProxy(hostAndPort(target.url), BACKGROUND_RULES),
        bare: await startCountingProxy(hostAndPort(bareUrl), []),
      };
      cleanup.push(() => Promise.all([proxies.app.close(), proxies.bare.close()]));
      const counting = {
        app: await started(
          startApp({
            ...appInput,
            databaseUrl: viaProxy(target.url, proxies.app.port),
            name: 'app (counting)',
            logFile: logFile('app-counting'),
            keepRequestLog: true,
          }),
        ),
        bare: await started(
          startBare({
            name: 'bare (counting)',
            databaseUrl: viaProxy(bareUrl, proxies.bare.port),
            logFile: logFile('bare-counting'),
          }),
        ),
      };
      idle = await suite.countRoundTrips(counting, proxies, firstRound);
    } catch (error) {
      notes.push(
        `Round trips not counted: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

  const report: BenchReport = {
    startedAt,
    finishedAt: new Date().toISOString(),
    machine: {
      cores: os.cpus().length,
      cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
      node: process.versions.node,
      platform: `${os.platform()} ${os.release()}`,
    },
    commit: commit(),
    options: {
      connections: options.connections,
      duration: options.duration,
      warmup: options.warmup,
      rounds: options.rounds,
      only: options.only,
    },
    dataset,
    deepPage: selected.some((s) => s.name === 'portal-list-deep')
      ? await sessions.deepPage().catch(() => undefined)
      : undefined,
    raisedLimits: RAISED_LIMITS,
    roundTripMethod:
      `a second app server (and bare server) whose database connections go through a counting proxy; ` +
      `${COUNTED_REQUESTS} sequential requests a scenario; every simple query and every Sync of the ` +
      `extended protocol is one round trip; a transaction (or lone statement) that claims or marks ` +
      `outbox mail or prunes sessions is the app's background work and is not counted.`,
    idle,
    rounds,
    checks: [],
    notes,
  };
  report.checks = evaluate(report, otherSizes(RESULTS_DIR, dataset.tickets));
  say('');
  say(formatReport(report));
  const file = saveReport(RESULTS_DIR, report);
  say(
    `\nSaved ${path.relative(projectRoot, file)} (and latest-${dataset.tickets}.json); server logs in ${path.relative(projectRoot, logDir)}/`,
  );
  return rounds.every((round) => round.scenarios.every((s) => s.load !== undefined));
}

async function main(): Promise<number> {
  let options: Options | undefined;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`${error.message}\n\n${USAGE}\n`);
    return 2;
  }
  if (!options) {
    say(USAGE);
    return 0;
  }
  const cleanup = new Cleanup();
  let interrupted = false;
  const stop = (signal: NodeJS.Signals) => {
    interrupted = true;
    say(`\n${signal}: stopping`);
    void cleanup.run().then(() => process.exit(130));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    return (await bench(options, cleanup)) ? 0 : 1;
  } catch (error) {
    // Interrupted: the signal handler cleans up and exits.
    if (interrupted) return new Promise<number>(() => undefined);
    process.stderr.write(
      `bench could not run: ${error instanceof BenchError || error instanceof ConfigError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    return 1;
  } finally {
    await cleanup.run();
  }
}

void main().then((code) => process.exit(code));
