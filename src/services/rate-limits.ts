import { createHash } from 'node:crypto';
import { RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';
import type { RateLimits as RateLimitConfig } from '../config';
import type pg from 'pg';
import { TooManyRequestsError } from '../errors';
import { consumeInOrder } from '../models/rate-limit-counters';

/**
 * Counters live in PostgreSQL (table rate_limits, made by a migration) so limits hold across
 * any number of app servers. Keys are hashed: the table never holds addresses or IPs. They are
 * counted on the session stores' pool, in statements of their own: a count must stand even when
 * the request's work is rolled back, and a request holding its page transaction must never wait
 * for a second connection from the same pool (under load, that is how pools deadlock).
 */
export interface RateLimits {
  /**
   * A sign-in request. Throws TooManyRequestsError over an hourly limit; returns false when the
   * address already had a mail this minute (answer as usual, send nothing).
   */
  signinRequest(input: { workspaceId: string; email: string; ip: string }): Promise<boolean>;
  /** An anonymous new-ticket submission; throws TooManyRequestsError over the limit. */
  newTicket(ip: string): Promise<void>;
  /**
   * A ticket opened by mail, counted per sender address and per workspace (mail has no IP worth
   * counting); throws TooManyRequestsError over either limit.
   */
  newTicketByMail(input: { workspaceId: string; email: string }): Promise<void>;
  /**
   * Whether refused inbound mail from this address may be answered now: at most one answer an
   * hour, so two auto-responders can never keep each other busy.
   */
  inboundAnswer(address: string): Promise<boolean>;
  /** Before checking an agent's password: throws TooManyRequestsError after too many failures. */
  agentLoginAllowed(input: { workspaceId: string; email: string; ip: string }): Promise<void>;
  /**
   * Counts a failed agent sign-in against the account and the IP; says which limit, if any, this
   * very failure used up (the account's first), so a lock is reported once, when it begins.
   */
  agentLoginFailed(input: {
    workspaceId: string;
    email: string;
    ip: string;
  }): Promise<'account' | 'ip' | undefined>;
  /** A successful sign-in clears the account's failures. */
  agentLoginSucceeded(input: { workspaceId: string; email: string }): Promise<void>;
}

const HOUR_S = 60 * 60;

function key(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\0')).digest('base64url');
}

function limiter(
  pool: pg.Pool,
  prefix: string,
  points: number,
  duration: number,
): RateLimiterPostgres {
  return new RateLimiterPostgres({
    storeClient: pool,
    storeType: 'pool',
    tableName: 'rate_limits',
    tableCreated: true,
    clearExpiredByTimeout: false,
    keyPrefix: prefix,
    points,
    duration,
  });
}

/** Consumes one point; the library rejects with a RateLimiterRes when none are left. */
async function take(rl: RateLimiterPostgres, k: string): Promise<RateLimiterRes | undefined> {
  try {
    await rl.consume(k);
    return undefined;
  } catch (error) {
    if (error instanceof RateLimiterRes) return error;
    throw error;
  }
}

/** Consumes one point; true when that was the last one, so the next attempt is refused. */
async function takeLast(rl: RateLimiterPostgres, k: string): Promise<boolean> {
  try {
    return (await rl.consume(k)).remainingPoints === 0;
  } catch (error) {
    if (error instanceof RateLimiterRes) return false;
    throw error;
  }
}

function tooMany(res: RateLimiterRes): TooManyRequestsError {
  return new TooManyRequestsError(Math.ceil(res.msBeforeNext / 1000));
}

export function createRateLimits(pool: pg.Pool, config: RateLimitConfig): RateLimits {
  const perIp = limiter(pool, 'signin-ip', config.signinPerIpPerHour, HOUR_S);
  const perAddressHour = limiter(pool, 'signin-addr-h', config.signinPerAddressPerHour, HOUR_S);
  const perAddressMinute = limiter(pool, 'signin-addr-m', config.signinPerAddressPerMinute, 60);
  const newTicketIp = limiter(pool, 'new-ticket-ip', config.newTicketPerIpPerHour, HOUR_S);
  const byMailSender = limiter(
    pool,
    'new-ticket-mail-sender',
    config.newTicketByMailPerSenderPerHour,
    HOUR_S,
  );
  const byMailWorkspace = limiter(
    pool,
    'new-ticket-mail-workspace',
    config.newTicketByMailPerWorkspacePerHour,
    HOUR_S,
  );
  const answers = limiter(pool, 'inbound-answer', config.inboundAnswersPerAddressPerHour, HOUR_S);
  const agentAccount = limiter(
    pool,
    'agent-fail-account',
    config.agentLoginFailuresPerAccount,
    15 * 60,
  );
  const agentIp = limiter(pool, 'agent-fail-ip', config.agentLoginFailuresPerIp, 15 * 60);
  const blocked = async (rl: RateLimiterPostgres, k: string): Promise<void> => {
    const res = await rl.get(k);
    if (res && res.remainingPoints <= 0) throw tooMany(res);
  };
  return {
    async signinRequest({ workspaceId, email, ip }) {
      // Three counters in one round trip, each counted only while the ones before it allow
      // (an address's budget is not used up by an IP that is already refused).
      const address = key(workspaceId, email);
      const counters = [
        { limiter: perIp, k: key(ip), durationMs: HOUR_S * 1000 },
        { limiter: perAddressHour, k: address, durationMs: HOUR_S * 1000 },
        { limiter: perAddressMinute, k: address, durationMs: 60 * 1000 },
      ];
      const now = Date.now();
      const counts = await consumeInOrder(
        pool,
        counters.map((c) => ({
          key: c.limiter.getKey(c.k),
          limit: c.limiter.points,
          durationMs: c.durationMs,
        })),
        now,
      );
      for (const [i, count] of counts.entries()) {
        const limit = counters[i]?.limiter.points ?? 0;
        const over = count === undefined || count.points > limit;
        if (!over) continue;
        // The minute's limit sends nothing but answers as usual; the hourly ones refuse.
        if (i === counters.length - 1) return false;
        throw new TooManyRequestsError(Math.ceil(Math.max((count?.expire ?? now) - now, 0) / 1000));
      }
      return true;
    },
    async newTicket(ip) {
      const over = await take(newTicketIp, key(ip));
      if (over) throw tooMany(over);
    },
    async newTicketByMail({ workspaceId, email }) {
      const overSender = await take(byMailSender, key(workspaceId, email));
      if (overSender) throw tooMany(overSender);
      const overWorkspace = await take(byMailWorkspace, key(workspaceId));
      if (overWorkspace) throw tooMany(overWorkspace);
    },
    async inboundAnswer(address) {
      return (await take(answers, key(address.toLowerCase()))) === undefined;
    },
    async agentLoginAllowed({ workspaceId, email, ip }) {
      await blocked(agentAccount, key(workspaceId, email));
      await blocked(agentIp, key(ip));
    },
    async agentLoginFailed({ workspaceId, email, ip }) {
      const account = await takeLast(agentAccount, key(workspaceId, email));
      const byIp = await takeLast(agentIp, key(ip));
      return account ? 'account' : byIp ? 'ip' : undefined;
    },
    async agentLoginSucceeded({ workspaceId, email }) {
      await agentAccount.delete(key(workspaceId, email));
    },
  };
}
