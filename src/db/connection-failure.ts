import { isDatabaseUnavailable } from './availability';

/**
 * The database could not be connected to, said in one line an operator can act on: where (host
 * and port, never the credentials) and why, without the driver's stack.
 */
export class DatabaseConnectionError extends Error {}

/** Node's and the server's codes for a failed connection, in an operator's words. */
const REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'the host name could not be looked up',
  ETIMEDOUT: 'no answer in time',
  EHOSTUNREACH: 'no route to the host',
  ENETUNREACH: 'the network is unreachable',
  ECONNRESET: 'the connection was closed',
  EPIPE: 'the connection was closed',
  '57P01': 'the server ended the connection',
  '57P02': 'the server ended the connection',
  '57P03': 'the server is starting up or shutting down',
  '53300': 'too many connections',
};

/** SQLSTATEs of a server that answers but refuses this role or database. */
const REFUSED = new Set(['28000', '28P01', '3D000']);

/** host:port of a connection string, as the operator wrote it; the password stays out. */
export function databaseAddress(connectionString: string): string {
  try {
    const url = new URL(connectionString);
    const host = url.hostname || url.searchParams.get('host') || 'localhost';
    return `${host}:${url.port || 5432}`;
  } catch {
    return 'the configured address';
  }
}

function codeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}

function reasonOf(error: unknown): string {
  const code = codeOf(error);
  if (code && Object.hasOwn(REASONS, code)) return REASONS[code]!;
  // Node reports a host with several addresses (localhost: ::1 and 127.0.0.1) as one of each.
  if (error instanceof AggregateError && error.errors.length) return reasonOf(error.errors[0]);
  if (!(error instanceof Error)) return String(error);
  if (error.name === 'KnexTimeoutError' || /timeout/i.test(error.message)) {
    return 'no answer in time';
  }
  if (/^Connection terminated/.test(error.message)) return 'the connection was closed';
  return error.message;
}

/**
 * The one-line error for a failure to connect to the database at `connectionString`, or
 * undefined when `error` is about something else (a failed statement, a rule of ours). Which
 * errors mean "unreachable" is decided where the pages decide it (availability.ts).
 */
export function connectionFailure(
  error: unknown,
  connectionString: string,
): DatabaseConnectionError | undefined {
  const address = databaseAddress(connectionString);
  const code = codeOf(error);
  if (code && REFUSED.has(code) && error instanceof Error) {
    return new DatabaseConnectionError(
      `The database at ${address} refused the connection: ${error.message}`,
    );
  }
  if (!isDatabaseUnavailable(error)) return undefined;
  return new DatabaseConnectionError(`Cannot reach the database at ${address}: ${reasonOf(error)}`);
}
