import type { Trx } from '../db/knex';

/** The security events the trail records; the table's check constraint holds the same list. */
export const auditActions = [
  'portal.signin_link_requested',
  'portal.signin_link_used',
  'portal.ticket_opened_anonymously',
  'agent.signin_succeeded',
  'agent.signin_failed',
  'agent.locked_out',
  'agent.signed_out',
  'module.changed',
  'branding.changed',
  'logo.changed',
  'logo.removed',
  'user.created',
  'portal.erasure_requested',
  'requester.erased',
  'mail.ticket_opened',
  'mail.reply_refused',
  'portal.signin_code_exhausted',
] as const;

export type AuditAction = (typeof auditActions)[number];

/**
 * Who did it. `label` is the actor's email address as it was at the time (a visitor's as typed,
 * unverified), so the trail still reads right after an address changes.
 */
export type AuditActor =
  | { kind: 'requester'; id: string; label: string }
  | { kind: 'user'; id: string; label: string }
  | { kind: 'visitor'; label: string }
  | { kind: 'system' };

/** Small, flat facts about the event: never a token, a password or a hash of either. */
export type AuditDetails = Record<string, string | number | boolean | null>;

export interface AuditEvent {
  id: string;
  occurredAt: Date;
  action: AuditAction;
  actor: AuditActor;
  subject: { id: string | null; label: string } | undefined;
  ip: string | null;
  details: AuditDetails;
}

interface AuditEventRow {
  id: string;
  occurred_at: Date;
  action: AuditAction;
  actor_kind: AuditActor['kind'];
  actor_id: string | null;
  actor_label: string;
  subject_id: string | null;
  subject_label: string;
  ip: string | null;
  details: AuditDetails;
}

const columns = [
  'id',
  'occurred_at',
  'action',
  'actor_kind',
  'actor_id',
  'actor_label',
  'subject_id',
  'subject_label',
  'ip',
  'details',
];

function toActor(row: AuditEventRow): AuditActor {
  switch (row.actor_kind) {
    case 'requester':
    case 'user':
      return { kind: row.actor_kind, id: row.actor_id ?? '', label: row.actor_label };
    case 'visitor':
      return { kind: 'visitor', label: row.actor_label };
    case 'system':
      return { kind: 'system' };
  }
}

function toEvent(row: AuditEventRow): AuditEvent {
  return {
    id: row.id,
    occurredAt: row.occurred_at,
    action: row.action,
    actor: toActor(row),
    subject:
      row.subject_id || row.subject_label
        ? { id: row.subject_id, label: row.subject_label }
        : undefined,
    ip: row.ip,
    details: row.details,
  };
}

export async function insert(
  trx: Trx,
  input: {
    workspaceId: string;
    occurredAt: Date;
    action: AuditAction;
    actor: AuditActor;
    subject?: { id?: string; label: string };
    ip: string | null;
    details?: AuditDetails;
  },
): Promise<void> {
  const { actor } = input;
  await trx('audit_events').insert({
    workspace_id: input.workspaceId,
    occurred_at: input.occurredAt,
    action: input.action,
    actor_kind: actor.kind,
    actor_id: actor.kind === 'requester' || actor.kind === 'user' ? actor.id : null,
    actor_label: actor.kind === 'system' ? '' : actor.label,
    subject_id: input.subject?.id ?? null,
    subject_label: input.subject?.label ?? '',
    ip: input.ip,
    details: JSON.stringify(input.details ?? {}),
  });
}

/** Position in the trail (newest first), for keyset pages of it. */
export interface AuditCursor {
  at: Date;
  id: string;
}

export interface AuditPage {
  events: AuditEvent[];
  older: AuditCursor | undefined;
}

/** The newest `limit` events before `before` (or the newest of all), newest first. */
export async function listPage(
  trx: Trx,
  input: { workspaceId: string; before?: AuditCursor; limit: number },
): Promise<AuditPage> {
  const query = trx('audit_events')
    .select<AuditEventRow[]>(columns)
    .where({ workspace_id: input.workspaceId });
  if (input.before) {
    query.whereRaw('(occurred_at, id) < (?, ?)', [input.before.at, input.before.id]);
  }
  const rows = await query
    .orderBy([
      { column: 'occurred_at', order: 'desc' },
      { column: 'id', order: 'desc' },
    ])
    .limit(input.limit + 1);
  const events = rows.slice(0, input.limit).map(toEvent);
  const last = events[events.length - 1];
  return {
    events,
    older: rows.length > input.limit && last ? { at: last.occurredAt, id: last.id } : undefined,
  };
}

/** Retention: removes every workspace's events from before `cutoff`; system scope only. */
export async function deleteOlderThan(trx: Trx, cutoff: Date): Promise<number> {
  return trx('audit_events').where('occurred_at', '<', cutoff).delete();
}

/**
 * Erasure: wherever the trail names the address (as actor or subject), it names the placeholder
 * instead; the IP addresses of the person's own events are cleared. What happened, and when,
 * stays. The database allows no other change to an event (see the erasure migration).
 */
export async function redactAddress(
  trx: Trx,
  input: { workspaceId: string; requesterId: string; email: string; placeholder: string },
): Promise<void> {
  const { workspaceId, requesterId, email, placeholder } = input;
  await trx('audit_events')
    .where({ workspace_id: workspaceId })
    .whereRaw(
      `((actor_kind = 'requester' and actor_id = ?) or (actor_kind = 'visitor' and actor_label = ?))`,
      [requesterId, email],
    )
    .update({ ip: null });
  await trx('audit_events')
    .where({ workspace_id: workspaceId, actor_label: email })
    .update({ actor_label: placeholder });
  await trx('audit_events')
    .where({ workspace_id: workspaceId, subject_label: email })
    .update({ subject_label: placeholder });
}
