import { setTimeout as sleep } from 'node:timers/promises';
import { once, type Call } from './load';
import type { BackgroundRule, CountingProxy } from './pg-proxy';

/**
 * Work the app does on its own, recognised by its SQL; a transaction containing any of it is
 * background as a whole. The outbox worker claims with SKIP LOCKED and marks mail sent or
 * failed with an UPDATE (requests only ever INSERT into the outbox); the session stores prune
 * expired rows.
 */
export const BACKGROUND_RULES: readonly BackgroundRule[] = [
  /\bskip\s+locked\b/i,
  /^\s*update\s+"?mail_outbox"?\s/i,
  /^\s*delete\s+from\s+\S*sessions"?\s+where\s+expire\b/i,
];

export interface RoundTripCount {
  requests: number;
  /** Database round trips per request, background work excluded. */
  perRequest: number;
  /** Background round trips seen (and excluded) while counting. */
  background: number;
  /** Requests that answered another status than expected. */
  unexpected: number;
  /** The statements of one more request, in order, whitespace folded: where the round trips go. */
  trace: string[];
}

/** After the last answer, work a request started may still be finishing. */
const SETTLE_MS = 300;
const WARM_UP_REQUESTS = 3;

/** Sends `requests` sequential requests through a server whose database is behind the proxy. */
export async function countRoundTrips(
  proxy: CountingProxy,
  port: number,
  call: Call,
  requests: number,
): Promise<RoundTripCount> {
  // First-use costs (a pool's first connection, compiling a template) are not per request.
  for (let i = 0; i < WARM_UP_REQUESTS; i++) await once(port, call);
  await sleep(SETTLE_MS);
  proxy.reset();
  let unexpected = 0;
  for (let i = 0; i < requests; i++) {
    const answer = await once(port, call);
    if (answer.status !== call.expect) unexpected += 1;
  }
  await sleep(SETTLE_MS);
  const counts = proxy.read();
  proxy.reset();
  await once(port, call);
  await sleep(SETTLE_MS);
  const trace = proxy.trace().map((sql) => sql.replace(/\s+/g, ' ').trim().slice(0, 200));
  return {
    requests,
    perRequest: counts.request / requests,
    background: counts.background,
    unexpected,
    trace,
  };
}

/** Round trips while nothing is asked of the server: what the background rules take out. */
export async function idleRoundTrips(
  proxy: CountingProxy,
  ms: number,
): Promise<{ ms: number; request: number; background: number }> {
  proxy.reset();
  await sleep(ms);
  return { ms, ...proxy.read() };
}
