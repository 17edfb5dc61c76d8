import { setTimeout as sleep } from 'node:timers/promises';
import { createDb } from '../src/db/knex';
import { withScope } from '../src/db/scopes';
import { countPending } from '../src/models/mail-outbox';

/** How long the bench waits for the app to send what a round queued before it goes on. */
const DRAIN_MAX_MS = 180_000;
const POLL_MS = 250;

export interface OutboxDrain {
  /** Messages waiting when the round's scenarios ended. */
  pending: number;
  /** How long the app's worker took to send them (or how long the bench waited). */
  ms: number;
  /** Still waiting when the bench stopped waiting (0: all sent). */
  left: number;
}

/**
 * Waits until the app's outbox is empty. The write scenarios queue a mail for every ticket and
 * reply; left to itself, the worker sends them during the next round's scenarios (the app's and
 * the bare baseline's alike, on the same cores), so each round starts only once they are out,
 * and the time that took is reported as the worker's throughput.
 */
export async function waitForOutbox(url: string): Promise<OutboxDrain> {
  const db = createDb(url, 1);
  const pending = () => withScope(db, { kind: 'system' }, (trx) => countPending(trx));
  try {
    const started = Date.now();
    const first = await pending();
    let left = first;
    while (left > 0 && Date.now() - started < DRAIN_MAX_MS) {
      await sleep(POLL_MS);
      left = await pending();
    }
    return { pending: first, ms: Date.now() - started, left };
  } finally {
    await db.destroy();
  }
}

/** "1,234 messages sent in 12.3 s (100 a second)", as the report prints it. */
export function describeDrain(drain: OutboxDrain): string {
  const seconds = drain.ms / 1000;
  const sent = drain.pending - drain.left;
  if (drain.pending === 0) return 'no mail waiting';
  const rate = seconds > 0 ? ` (${Math.round(sent / seconds)} a second)` : '';
  const left = drain.left > 0 ? `; ${drain.left} still waiting when the bench went on` : '';
  return `${drain.pending.toLocaleString('en-GB')} messages waiting, ${sent.toLocaleString('en-GB')} sent in ${seconds.toFixed(1)} s${rate}${left}`;
}
