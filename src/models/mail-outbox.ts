import type { Trx } from '../db/knex';

export type MailStatus = 'queued' | 'sent' | 'failed' | 'expired';
export type UnsentStatus = Exclude<MailStatus, 'sent'>;

export interface QueuedMail {
  id: string;
  sealed: Buffer | null;
  attempts: number;
  queuedAt: Date;
  /** A sign-in mail's link expiry: after it the mail is worthless and must not go out. */
  expiresAt: Date | null;
}

export async function enqueue(
  trx: Trx,
  input: {
    workspaceId: string | null;
    sealed: Buffer;
    recipientDomain: string;
    queuedAt: Date;
    expiresAt?: Date;
  },
): Promise<void> {
  // No RETURNING: request scopes may write to the queue but not read it back.
  await trx('mail_outbox').insert({
    workspace_id: input.workspaceId,
    sealed: input.sealed,
    recipient_domain: input.recipientDomain,
    queued_at: input.queuedAt,
    next_attempt_at: input.queuedAt,
    expires_at: input.expiresAt ?? null,
  });
}

interface QueuedRow {
  id: string;
  sealed: Buffer | null;
  attempts: number;
  queued_at: Date;
  expires_at: Date | null;
}

/**
 * Claims due messages, mail with an expiry (a sign-in link, dead within the hour) first: a burst
 * of other mail (acknowledgements of many new tickets) must not hold such a link back. SKIP
 * LOCKED lets several workers share the queue; pushing next_attempt_at forward while sending
 * means a crashed worker's claim simply expires.
 */
export async function claimDue(
  trx: Trx,
  input: { now: Date; limit: number; leaseUntil: Date },
): Promise<QueuedMail[]> {
  const expiring = await claim(trx, input, input.limit, true);
  const rest =
    expiring.length < input.limit
      ? await claim(trx, input, input.limit - expiring.length, false)
      : [];
  return [...expiring, ...rest];
}

async function claim(
  trx: Trx,
  input: { now: Date; leaseUntil: Date },
  limit: number,
  expiring: boolean,
): Promise<QueuedMail[]> {
  const due = trx('mail_outbox')
    .select('id')
    .where('status', 'queued')
    .where('next_attempt_at', '<=', input.now);
  if (expiring) due.whereNotNull('expires_at');
  const rows = await trx('mail_outbox')
    .whereIn('id', due.orderBy('next_attempt_at').limit(limit).forUpdate().skipLocked())
    .update({ next_attempt_at: input.leaseUntil })
    .returning<QueuedRow[]>(['id', 'sealed', 'attempts', 'queued_at', 'expires_at']);
  return rows.map((row) => ({
    id: row.id,
    sealed: row.sealed,
    attempts: row.attempts,
    queuedAt: row.queued_at,
    expiresAt: row.expires_at,
  }));
}

/** Claimed messages a stopping worker did not send, handed back to the queue due `now`. */
export async function release(trx: Trx, ids: string[], now: Date): Promise<void> {
  await trx('mail_outbox')
    .whereIn('id', ids)
    .where('status', 'queued')
    .update({ next_attempt_at: now });
}

/** Sent: the body (which may hold a sign-in link) is erased; the row stays as a record. */
export async function markSent(trx: Trx, id: string, at: Date): Promise<void> {
  await trx('mail_outbox')
    .where({ id })
    .update({ status: 'sent', sent_at: at, sealed: null, last_error: null });
}

/** One more failed attempt; the message stays queued until retryAt. */
export async function markRetry(
  trx: Trx,
  input: { id: string; error: string; retryAt: Date },
): Promise<void> {
  await trx('mail_outbox')
    .where({ id: input.id })
    .update({
      attempts: trx.raw('attempts + 1'),
      last_error: input.error.slice(0, 500),
      next_attempt_at: input.retryAt,
    });
}

/** Given up after a failed attempt. The body is kept, so an operator can queue it again. */
export async function markFailed(
  trx: Trx,
  input: { id: string; error: string; at: Date },
): Promise<void> {
  await trx('mail_outbox')
    .where({ id: input.id })
    .update({
      status: 'failed',
      attempts: trx.raw('attempts + 1'),
      last_error: input.error.slice(0, 500),
      given_up_at: input.at,
    });
}

/** Too late to send: the body, whose link no longer works, is erased like a sent one. */
export async function markExpired(trx: Trx, id: string, at: Date): Promise<void> {
  await trx('mail_outbox')
    .where({ id })
    .update({ status: 'expired', sealed: null, given_up_at: at });
}

export async function countPending(trx: Trx): Promise<number> {
  const row = await trx('mail_outbox')
    .where('status', 'queued')
    .count<{ count: number }[]>('id as count');
  return Number(row[0]?.count ?? 0);
}

/**
 * Records of finished messages are kept a while for operators, then deleted: sent ones (body
 * already erased) and expired sign-in mail after `before`, failed ones (body kept, so that
 * mail:retry can still send them) after `failedBefore`.
 */
export async function deleteFinishedBefore(
  trx: Trx,
  input: { before: Date; failedBefore: Date },
): Promise<number> {
  return trx('mail_outbox')
    .whereRaw(
      `(status in ('sent', 'expired') and coalesce(sent_at, given_up_at) < ?)
       or (status = 'failed' and given_up_at < ?)`,
      [input.before, input.failedBefore],
    )
    .delete();
}

/** What an operator may see of a message: never its body or its full recipient. */
export interface MailRecord<S extends MailStatus = MailStatus> {
  id: string;
  workspaceSlug: string | null;
  recipientDomain: string | null;
  status: S;
  attempts: number;
  lastError: string | null;
  queuedAt: Date;
  nextAttemptAt: Date;
  givenUpAt: Date | null;
}

interface RecordRow {
  id: string;
  slug: string | null;
  recipient_domain: string | null;
  status: MailStatus;
  attempts: number;
  last_error: string | null;
  queued_at: Date;
  next_attempt_at: Date;
  given_up_at: Date | null;
}

function toRecord(row: RecordRow): MailRecord {
  return {
    id: row.id,
    workspaceSlug: row.slug,
    recipientDomain: row.recipient_domain,
    status: row.status,
    attempts: row.attempts,
    lastError: row.last_error,
    queuedAt: row.queued_at,
    nextAttemptAt: row.next_attempt_at,
    givenUpAt: row.given_up_at,
  };
}

const RECORD_COLUMNS = [
  'm.id',
  'w.slug',
  'm.recipient_domain',
  'm.status',
  'm.attempts',
  'm.last_error',
  'm.queued_at',
  'm.next_attempt_at',
  'm.given_up_at',
];

/** Unsent messages (queued, failed, expired) by workspace, oldest first; at most `limit`. */
export async function listUnsent(trx: Trx, limit: number): Promise<MailRecord<UnsentStatus>[]> {
  const rows = await trx('mail_outbox as m')
    .leftJoin('workspaces as w', 'w.id', 'm.workspace_id')
    .whereNot('m.status', 'sent')
    .orderBy([{ column: 'w.slug' }, { column: 'm.queued_at' }, { column: 'm.id' }])
    .limit(limit)
    .select<RecordRow[]>(RECORD_COLUMNS);
  return rows.map((row) => toRecord(row) as MailRecord<UnsentStatus>);
}

export interface UnsentCount {
  workspaceSlug: string | null;
  status: UnsentStatus;
  /** Queued after at least one failed attempt. */
  retrying: boolean;
  count: number;
}

/** How many unsent messages each workspace has, by status: the whole picture, however long. */
export async function countUnsent(trx: Trx): Promise<UnsentCount[]> {
  const rows = await trx('mail_outbox as m')
    .leftJoin('workspaces as w', 'w.id', 'm.workspace_id')
    .whereNot('m.status', 'sent')
    .groupBy('w.slug', 'm.status', trx.raw('m.attempts > 0'))
    .select<
      { slug: string | null; status: UnsentCount['status']; retrying: boolean; count: string }[]
    >('w.slug', 'm.status', trx.raw('m.attempts > 0 as retrying'), trx.raw('count(*) as count'));
  return rows.map((row) => ({
    workspaceSlug: row.slug,
    status: row.status,
    retrying: row.retrying,
    count: Number(row.count),
  }));
}

export async function find(trx: Trx, id: string): Promise<MailRecord | undefined> {
  const row = await trx('mail_outbox as m')
    .leftJoin('workspaces as w', 'w.id', 'm.workspace_id')
    .where('m.id', id)
    .first<RecordRow | undefined>(RECORD_COLUMNS);
  return row && toRecord(row);
}

/**
 * Failed messages (all, or the one named) go back on the queue, due now, with a fresh retry
 * window. Only failed ones: a queued message may be in a worker's hands this very moment.
 */
export async function requeueFailed(
  trx: Trx,
  input: { id?: string; now: Date },
): Promise<string[]> {
  const query = trx('mail_outbox').where('status', 'failed').whereNotNull('sealed');
  if (input.id !== undefined) query.where('id', input.id);
  const rows = await query
    .update({
      status: 'queued',
      attempts: 0,
      last_error: null,
      given_up_at: null,
      queued_at: input.now,
      next_attempt_at: input.now,
    })
    .returning<{ id: string }[]>('id');
  return rows.map((row) => row.id);
}
