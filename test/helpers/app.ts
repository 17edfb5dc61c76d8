import { Writable } from 'node:stream';
import type pg from 'pg';
import pino from 'pino';
import type { Express } from 'express';
import { createApp, type AppDeps } from '../../src/app';
import { loadConfig, type Config } from '../../src/config';
import type { Clock } from '../../src/deps';
import { processOutbox } from '../../src/services/mail';
import type { MailTransport, OutgoingMail } from '../../src/services/mail-transport';
import { createRateLimits } from '../../src/services/rate-limits';
import { createTemplates } from '../../src/services/templates';
import { testDatabase } from './database';
import { createDb, createPool, type Db } from '../../src/db/knex';

export class FakeClock implements Clock {
  constructor(private current = new Date('2026-11-25T10:00:00Z')) {}
  now(): Date {
    return new Date(this.current);
  }
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

/** A transport that keeps what it is given, for tests that are not about SMTP itself. */
export class CapturingTransport implements MailTransport {
  readonly sent: OutgoingMail[] = [];
  send(mail: OutgoingMail): Promise<void> {
    this.sent.push(mail);
    return Promise.resolve();
  }
}

export function testConfig(env: NodeJS.ProcessEnv = {}): Config {
  return loadConfig({
    NODE_ENV: 'test',
    DATA_DIR: '/tmp/tickets-test-data',
    SESSION_SECRET: 'test-secret-test-secret-test-secret-0123',
    BASE_URL: 'http://localhost:3000',
    LOG_LEVEL: 'silent',
    ...env,
  });
}

export interface TestApp {
  app: Express;
  deps: AppDeps;
  clock: FakeClock;
  transport: MailTransport;
  /** Everything the logger wrote, for tests about what must never be logged. */
  logLines: string[];
  /** Runs the mail worker once and returns what it delivered (with the capturing transport). */
  deliverMail(): Promise<OutgoingMail[]>;
}

/**
 * One session-store pool for every test app: a pool per app would hold idle connections past
 * PostgreSQL's connection limit over a few hundred tests.
 */
let sharedSessionPool: pg.Pool | undefined;

function sessionPoolFor(url: string): pg.Pool {
  if (!sharedSessionPool) {
    sharedSessionPool = createPool(url, 4);
    // pg-pool's end() resolves before idle sockets close; when the database then stops, an idle
    // client's "terminating connection" must not surface as an unhandled error.
    sharedSessionPool.on('error', () => undefined);
    // Every test app adds its own listener to this one pool (createApp does, once per app).
    sharedSessionPool.setMaxListeners(0);
  }
  return sharedSessionPool;
}

export function makeTestApp(
  options: {
    env?: NodeJS.ProcessEnv;
    transport?: MailTransport;
    clock?: FakeClock;
    /**
     * A second instance: its own knex pool and its own pool of lone statements (sessions, rate
     * limits, the workspace of an anonymous request) on the same database. Close both with
     * closeInstance.
     */
    ownPool?: boolean;
    /** Another database altogether (e.g. a cluster a test stops): its pools, closed by the test. */
    database?: { db: Db; sessionPool: pg.Pool };
  } = {},
): TestApp {
  const shared = testDatabase();
  const url = shared.url;
  const db = options.database?.db ?? (options.ownPool ? createDb(url, 4) : shared.db);
  const config = testConfig(options.env);
  const clock = options.clock ?? new FakeClock();
  const transport = options.transport ?? new CapturingTransport();
  const logLines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(chunk.toString());
      done();
    },
  });
  const logger = pino({ level: 'debug' }, sink);
  const sessionPool =
    options.database?.sessionPool ?? (options.ownPool ? createPool(url, 2) : sessionPoolFor(url));
  const deps: AppDeps = {
    config,
    db,
    clock,
    logger,
    templates: createTemplates(),
    mailTransport: transport,
    rateLimits: createRateLimits(sessionPool, config.rateLimits),
    sessionPool,
  };
  const app = createApp(deps);
  return {
    app,
    deps,
    clock,
    transport,
    logLines,
    async deliverMail() {
      const before = transport instanceof CapturingTransport ? transport.sent.length : 0;
      await processOutbox({
        db,
        clock,
        logger,
        mailTransport: transport,
        secrets: config.secrets,
        maxBackoffMs: config.mailWorker.maxBackoffMs,
        retryForMs: config.mailWorker.retryForMs,
      });
      return transport instanceof CapturingTransport ? transport.sent.slice(before) : [];
    },
  };
}

export async function closeTestApps(): Promise<void> {
  const pool = sharedSessionPool;
  sharedSessionPool = undefined;
  await pool?.end();
}

/** Closes the pools of an app made with `ownPool`. */
export async function closeInstance(app: TestApp): Promise<void> {
  await app.deps.db.destroy();
  await app.deps.sessionPool.end();
}
