/**
 * The names `npm run bench:seed` writes and `npm run bench` reads: one place, so the two agree.
 */
export const BENCH_SLUG = 'bench';
/** The 50 small workspaces beside the big one: bench-01 … bench-50. */
export const SMALL_WORKSPACES = 50;
export const smallSlug = (n: number): string => `bench-${String(n).padStart(2, '0')}`;

/** A requester with many tickets: the list scenarios page through them. */
export const HEAVY_EMAIL = 'heavy@bench.test';
export const HEAVY_TICKETS = 1000;
/** One of the heavy requester's tickets, with this many public messages. */
export const LONG_THREAD_SUBJECT = 'Long thread';
export const LONG_THREAD_MESSAGES = 200;

/** The bench workspace's admin for the agent-app scenarios. */
export const ADMIN_EMAIL = 'admin@bench.test';
export const DEFAULT_ADMIN_PASSWORD = 'bench admin password, not a secret';

/** Closed tickets in the bench workspace: the CSV export scenario exports exactly these. */
export const closedTicketCount = (benchTickets: number): number =>
  Math.min(100_000, Math.floor(benchTickets / 9));
