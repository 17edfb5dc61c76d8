import type { Trx } from '../db/knex';
import * as outbox from '../models/mail-outbox';
import type { MailRecord, UnsentStatus } from '../models/mail-outbox';

/**
 * What operators see of the outbox and may do to it. They see where mail is stuck (workspace,
 * recipient domain, attempts, last error) but never a body, a token or a full address.
 */

/** `failing`: still queued, after at least one failed attempt. */
export type MailState = 'queued' | 'failing' | 'failed' | 'expired';

export const MAIL_STATES: readonly MailState[] = ['queued', 'failing', 'failed', 'expired'];

export interface UnsentMail extends Omit<MailRecord, 'status'> {
  state: MailState;
}

export interface WorkspaceMail {
  /** null for a message whose workspace is gone. */
  slug: string | null;
  counts: Record<MailState, number>;
  /** The oldest of its messages, as many as the listing's limit left room for. */
  messages: UnsentMail[];
}

export interface OutboxStatus {
  workspaces: WorkspaceMail[];
  total: number;
  listed: number;
}

function stateOf(status: UnsentStatus, retrying: boolean): MailState {
  if (status === 'queued') return retrying ? 'failing' : 'queued';
  return status;
}

const noCounts = (): Record<MailState, number> => ({
  queued: 0,
  failing: 0,
  failed: 0,
  expired: 0,
});

/** Every unsent message counted by workspace and state; the oldest `limit` of them listed. */
export async function outboxStatus(trx: Trx, limit: number): Promise<OutboxStatus> {
  const counts = await outbox.countUnsent(trx);
  const records = await outbox.listUnsent(trx, limit);
  const bySlug = new Map<string | null, WorkspaceMail>();
  const entry = (slug: string | null): WorkspaceMail => {
    let found = bySlug.get(slug);
    if (!found) {
      found = { slug, counts: noCounts(), messages: [] };
      bySlug.set(slug, found);
    }
    return found;
  };
  let total = 0;
  for (const count of counts) {
    entry(count.workspaceSlug).counts[stateOf(count.status, count.retrying)] += count.count;
    total += count.count;
  }
  for (const { status, ...record } of records) {
    entry(record.workspaceSlug).messages.push({
      ...record,
      state: stateOf(status, record.attempts > 0),
    });
  }
  const workspaces = [...bySlug.values()].sort((a, b) =>
    (a.slug ?? '').localeCompare(b.slug ?? ''),
  );
  return { workspaces, total, listed: records.length };
}

/** A retry the outbox refuses, with the reason an operator needs. */
export class MailRetryError extends Error {}

/**
 * Queues failed messages again, due now and with a fresh retry window. Only failed ones: a
 * queued message may be in a worker's hands at this moment, a sent one went out, and an expired
 * sign-in mail carries a link that no longer works (its body is erased; the customer asks for a
 * new link).
 */
export async function retryMail(
  trx: Trx,
  input: { id: string; now: Date } | { failed: true; now: Date },
): Promise<string[]> {
  if ('failed' in input) return outbox.requeueFailed(trx, { now: input.now });
  const record = await outbox.find(trx, input.id);
  if (!record) throw new MailRetryError(`No message with id ${input.id}`);
  if (record.status === 'sent') throw new MailRetryError(`Message ${input.id} was already sent`);
  if (record.status === 'expired') {
    throw new MailRetryError(
      `Message ${input.id} expired: its sign-in link no longer works, so it is not sent again`,
    );
  }
  if (record.status === 'queued') {
    throw new MailRetryError(
      `Message ${input.id} is still queued (${record.attempts} failed attempts); the worker retries it by itself`,
    );
  }
  return outbox.requeueFailed(trx, { id: input.id, now: input.now });
}
