import type { Logger } from 'pino';
import type { Db } from '../db/knex';
import { withScope } from '../db/scopes';
import type { Clock } from '../deps';
import * as housekeeping from '../models/housekeeping';
import * as inboundReceipts from '../models/inbound-receipts';
import * as loginTokens from '../models/login-tokens';
import * as mailOutbox from '../models/mail-outbox';
import * as rateLimitCounters from '../models/rate-limit-counters';
import * as sessions from '../models/sessions';
import { deleteUnconfirmedTickets } from './address-confirmations';
import { pruneAuditTrail } from './audit-trail';

export interface HousekeepingDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  config: {
    housekeeping: {
      intervalMs: number;
      sentMailRetentionMs: number;
      failedMailRetentionMs: number;
      heldTicketRetentionMs: number;
      inboundReceiptRetentionMs: number;
    };
    audit: { retentionMs: number };
  };
}

/** What one run deleted, by kind. */
export interface Pruned {
  portalSessions: number;
  adminSessions: number;
  loginTokens: number;
  /** Sent and expired mail after a week, failed mail after 30 days. */
  finishedMail: number;
  rateLimits: number;
  auditEvents: number;
  /** Tickets opened without signing in whose address was never confirmed, after 7 days. */
  unconfirmedTickets: number;
  /** Receipts of mail taken, after a week: no server retries a message that long. */
  inboundReceipts: number;
}

/**
 * Deletes what has outlived its use, once an interval for the whole cluster: the first instance
 * to take the advisory lock after the interval has passed does it, in one transaction, and every
 * other instance finds it done. Returns what was deleted, or undefined when another instance
 * is (or was) the housekeeper for this interval.
 */
export async function runHousekeeping(deps: HousekeepingDeps): Promise<Pruned | undefined> {
  const now = deps.clock.now();
  const { intervalMs, sentMailRetentionMs, failedMailRetentionMs, heldTicketRetentionMs } =
    deps.config.housekeeping;
  return withScope(deps.db, { kind: 'system' }, async (trx) => {
    if (!(await housekeeping.claimRun(trx, { now, intervalMs }))) return undefined;
    return {
      portalSessions: await sessions.deleteExpired(trx, 'portal_sessions', now),
      adminSessions: await sessions.deleteExpired(trx, 'admin_sessions', now),
      loginTokens: await loginTokens.deleteSpent(trx, now),
      finishedMail: await mailOutbox.deleteFinishedBefore(trx, {
        before: new Date(now.getTime() - sentMailRetentionMs),
        failedBefore: new Date(now.getTime() - failedMailRetentionMs),
      }),
      rateLimits: await rateLimitCounters.deleteExpired(trx, now),
      auditEvents: await pruneAuditTrail(
        trx,
        new Date(now.getTime() - deps.config.audit.retentionMs),
      ),
      unconfirmedTickets: await deleteUnconfirmedTickets(
        trx,
        new Date(now.getTime() - heldTicketRetentionMs),
      ),
      inboundReceipts: await inboundReceipts.deleteBefore(
        trx,
        new Date(now.getTime() - deps.config.housekeeping.inboundReceiptRetentionMs),
      ),
    };
  });
}

export interface Housekeeper {
  stop(): Promise<void>;
}

/**
 * Every instance runs this timer; runHousekeeping makes sure only one of them works each
 * interval. A failure (the database away, say) is logged and tried again next time.
 */
export function startHousekeeper(deps: HousekeepingDeps): Housekeeper {
  let running: Promise<unknown> = Promise.resolve();
  const tick = (): void => {
    running = runHousekeeping(deps)
      .then((pruned) => {
        if (pruned) deps.logger.info({ pruned }, 'housekeeping done');
      })
      .catch((error: unknown) => deps.logger.warn({ err: error }, 'housekeeping failed'));
  };
  const timer = setInterval(tick, deps.config.housekeeping.intervalMs);
  timer.unref();
  // A first run soon after start, so a long-stopped cluster is tidied without waiting.
  const first = setTimeout(tick, 5_000);
  first.unref();
  return {
    async stop() {
      clearInterval(timer);
      clearTimeout(first);
      await running;
    },
  };
}
