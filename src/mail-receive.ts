import { parseArgs } from 'node:util';
import pino from 'pino';
import type { Config } from './config';
import { databaseTarget } from './db/connect';
import { isDatabaseUnavailable } from './db/availability';
import { connectionFailure, DatabaseConnectionError } from './db/connection-failure';
import { createDb, createPool } from './db/knex';
import { systemClock } from './deps';
import { receiveMail, type InboundOutcome } from './services/inbound-mail';
import { createRateLimits } from './services/rate-limits';
import { createTemplates } from './services/templates';

/**
 * `npm run cli -- mail:receive [--to <recipient>] [--from <sender>]`: one raw message on standard
 * input, as an MTA's pipe transport delivers it. The exit status is what MTAs read (sysexits.h):
 * 0 taken (added, opened, refused with an answer, or dropped on purpose), 67 no such recipient
 * (the MTA bounces it), 75 try again later (the database is down, or a sender over its limit:
 * the MTA keeps the message and retries), 65 a message too big, 64 wrong usage.
 */
export const EX_OK = 0;
export const EX_USAGE = 64;
export const EX_DATAERR = 65;
export const EX_NOUSER = 67;
export const EX_TEMPFAIL = 75;

export const MAIL_RECEIVE_USAGE = 'mail:receive [--to <recipient>] [--from <sender>] < message.eml';

/** Standard input up to `max` bytes; undefined once it is longer (the rest is read, not kept). */
async function readMessage(max: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    size += (chunk as Buffer).length;
    if (size <= max) chunks.push(chunk as Buffer);
  }
  return size > max ? undefined : Buffer.concat(chunks);
}

function exitCodeOf(outcomes: InboundOutcome[]): number {
  if (outcomes.some((o) => o.kind === 'deferred')) return EX_TEMPFAIL;
  if (outcomes.every((o) => o.kind === 'unknown-recipient')) return EX_NOUSER;
  return EX_OK;
}

function describe(outcome: InboundOutcome): string {
  switch (outcome.kind) {
    case 'added':
      return `added to ${outcome.reference}`;
    case 'opened':
      return `opened ${outcome.reference}`;
    case 'dropped':
      return `dropped (${outcome.reason})`;
    case 'refused':
      return `refused (${outcome.reason})${outcome.answered ? ', answered' : ''}`;
    case 'unknown-recipient':
      return 'no such recipient';
    case 'deferred':
      return `deferred: try again in ${outcome.retryAfterSeconds} s`;
    case 'duplicate':
      return 'already received: nothing done';
  }
}

export async function mailReceive(args: string[], config: Config): Promise<number> {
  let values: { to?: string; from?: string };
  try {
    ({ values } = parseArgs({
      args,
      options: { to: { type: 'string' }, from: { type: 'string' } },
      strict: true,
    }));
  } catch (error) {
    process.stderr.write(
      `${error instanceof Error ? error.message : String(error)} (usage: ${MAIL_RECEIVE_USAGE})\n`,
    );
    return EX_USAGE;
  }
  if (!config.inbound.domain) {
    process.stderr.write('INBOUND_DOMAIN is not set: this installation receives no mail\n');
    return EX_NOUSER;
  }
  const raw = await readMessage(config.inbound.maxMessageBytes);
  if (!raw) {
    process.stderr.write('Message too big for this system\n');
    return EX_DATAERR;
  }
  let target: Awaited<ReturnType<typeof databaseTarget>> | undefined;
  try {
    target = await databaseTarget(config);
    const db = createDb(target.url, 2);
    const pool = createPool(target.url, 2);
    try {
      const outcomes = await receiveMail(
        {
          config,
          db,
          clock: systemClock,
          logger: pino({ level: config.logLevel }, pino.destination(2)),
          templates: createTemplates(),
          rateLimits: createRateLimits(pool, config.rateLimits),
        },
        raw,
        { from: values.from, to: values.to ? [values.to] : [] },
      );
      process.stdout.write(`${outcomes.map(describe).join('\n')}\n`);
      return exitCodeOf(outcomes);
    } catch (error) {
      throw connectionFailure(error, target.url) ?? error;
    } finally {
      await pool.end();
      await db.destroy();
    }
  } catch (error) {
    if (error instanceof DatabaseConnectionError || isDatabaseUnavailable(error)) {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      return EX_TEMPFAIL;
    }
    throw error;
  } finally {
    await target?.stop();
  }
}
