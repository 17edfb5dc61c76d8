import type { Trx } from '../db/knex';

export interface QueuedMail {
  id: string;
  sealed: Buffer;
  attempts: number;
}

export async function enqueue(
  trx: Trx,
  input: { workspaceId: string; sealed: Buffer; dueAt?: Date },
): Promise<void> {
  // No RETURNING: request scopes may write to the queue but not read it back.
  await trx('mail_outbox').insert({
    workspace_id: input.workspaceId,
    sealed: input.sealed,
    next_attempt_at: input.dueAt,
  });
}

/**
 * Claims due messages. SKIP LOCKED lets several workers share the queue; pushing
 * next_attempt_at forward while sending means a crashed worker's claim simply expires.
 */
export async function claimDue(
  trx: Trx,
  input: { now: Date; limit: number; leaseUntil: Date },
): Promise<QueuedMail[]> {
  const rows = await trx('mail_outbox')
    .whereIn(
      'id',
      trx('mail_outbox')
        .select('id')
        .whereNull('sent_at')
        .where('next_attempt_at', '<=', input.now)
        .orderBy('next_attempt_at')
        .limit(input.limit)
        .forUpdate()
        .skipLocked(),
    )
    .update({ next_attempt_at: input.leaseUntil })
    .returning<{ id: string; sealed: Buffer; attempts: number }[]>(['id', 'sealed', 'attempts']);
  return rows;
}

/** Sent: the body (which may hold a sign-in link) is erased; the row stays as a record. */
export async function markSent(trx: Trx, id: string, at: Date): Promise<void> {
  await trx('mail_outbox').where({ id }).update({ sent_at: at, sealed: null, last_error: null });
}

export async function markFailed(
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

export async function countPending(trx: Trx): Promise<number> {
  const row = await trx('mail_outbox')
    .whereNull('sent_at')
    .count<{ count: number }[]>('id as count');
  return Number(row[0]?.count ?? 0);
}

/** The record of a sent message (its body is already erased) is kept for a while, then deleted. */
export async function deleteSentBefore(trx: Trx, before: Date): Promise<number> {
  return trx('mail_outbox').whereNotNull('sent_at').where('sent_at', '<', before).delete();
}
