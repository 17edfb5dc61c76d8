import type { Logger } from 'pino';
import type { Db } from './knex';

/**
 * Whether an error means the database cannot be reached at all (stopped, restarting, refusing or
 * too busy to take a connection), as opposed to a statement that failed. Those are answered 503
 * with Retry-After: nothing the visitor did is wrong, and trying again later will work.
 */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);

// SQLSTATE: 57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot connect now (starting up or
// shutting down), 53300 too many connections; class 08 is "connection exception".
const SERVER_CODES = new Set(['57P01', '57P02', '57P03', '53300']);

const MESSAGES = [
  /^Connection terminated/,
  /timeout exceeded when trying to connect/i,
  /^Knex: Timeout acquiring a connection/,
  /Client has encountered a connection error and is not queryable/,
];

export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (!error || typeof error !== 'object' || depth > 4) return false;
  const e = error as {
    code?: unknown;
    name?: unknown;
    message?: unknown;
    errors?: unknown;
    cause?: unknown;
  };
  if (typeof e.code === 'string') {
    if (NETWORK_CODES.has(e.code) || SERVER_CODES.has(e.code) || /^08/.test(e.code)) return true;
  }
  if (e.name === 'KnexTimeoutError') return true;
  if (typeof e.message === 'string' && MESSAGES.some((m) => m.test(e.message as string)))
    return true;
  // Connecting to "localhost" tries each address; node reports them together.
  if (Array.isArray(e.errors) && e.errors.some((inner) => isDatabaseUnavailable(inner, depth + 1)))
    return true;
  return isDatabaseUnavailable(e.cause, depth + 1);
}

/**
 * Remembers, per database handle, whether it is known to be unreachable, so an outage is logged
 * once when it starts and once when it ends, not once per request. Only a log line depends on
 * it: every request still tries the database, which is how serving resumes by itself.
 */
export class DatabaseHealth {
  private downSince: Date | undefined;

  constructor(private readonly logger: Logger) {}

  get isDown(): boolean {
    return this.downSince !== undefined;
  }

  down(error: unknown): void {
    if (this.downSince) return;
    this.downSince = new Date();
    const e = error as { code?: unknown; message?: unknown } | null;
    this.logger.error(
      { code: e?.code, reason: typeof e?.message === 'string' ? e.message : String(error) },
      'database unreachable: pages answer 503 until it is back',
    );
  }

  up(): void {
    if (!this.downSince) return;
    const seconds = Math.round((Date.now() - this.downSince.getTime()) / 1000);
    this.downSince = undefined;
    this.logger.info({ downForSeconds: seconds }, 'database reachable again');
  }
}

const healthByDb = new WeakMap<Db, DatabaseHealth>();

/** The one health record of a database handle (the app, the mail worker and /readyz share it). */
export function healthOf(db: Db, logger: Logger): DatabaseHealth {
  let health = healthByDb.get(db);
  if (!health) {
    health = new DatabaseHealth(logger);
    healthByDb.set(db, health);
  }
  return health;
}

/** For /readyz: a trivial statement, answered within the connection timeout or not at all. */
export async function probe(db: Db): Promise<boolean> {
  try {
    await db.raw('select 1');
    return true;
  } catch (error) {
    if (isDatabaseUnavailable(error)) return false;
    throw error;
  }
}
