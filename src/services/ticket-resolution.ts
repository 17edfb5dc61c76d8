import type { Trx } from '../db/knex';
import { NotFoundError, ValidationError } from '../errors';
import type { Requester } from '../models/requesters';
import * as ticketEvents from '../models/ticket-events';
import type { EventActor } from '../models/ticket-events';
import * as tickets from '../models/tickets';
import type { Ticket, TicketStatus } from '../models/tickets';

/**
 * A customer closes and reopens their own ticket (#10 point 2): "My problem is solved" on an Open
 * or Pending ticket, and "Reopen" on a Resolved one for a while after it was resolved. After that
 * window, and on a Closed ticket always, the portal offers a new ticket that names the old one.
 * Each change is an event in the thread. A visitor's session acts for the ticket's requester, as
 * its replies do.
 */

const solvable: readonly TicketStatus[] = ['open', 'pending'];

export function canMarkSolved(ticket: Ticket): boolean {
  return solvable.includes(ticket.status);
}

/**
 * Until when a Resolved ticket may be reopened. A resolved ticket written without a resolution
 * time (raw SQL, e.g. the benchmark seed) counts from its last activity.
 */
export function reopenDeadline(ticket: Ticket, windowMs: number): Date | undefined {
  if (ticket.status !== 'resolved') return undefined;
  return new Date((ticket.resolvedAt ?? ticket.lastActivityAt).getTime() + windowMs);
}

export function canReopen(ticket: Ticket, now: Date, windowMs: number): boolean {
  const deadline = reopenDeadline(ticket, windowMs);
  return deadline !== undefined && now < deadline;
}

/** What a customer who may no longer reopen or reply is offered instead: a follow-up ticket. */
export function needsFollowUp(ticket: Ticket, now: Date, windowMs: number): boolean {
  return (
    ticket.status === 'closed' ||
    (ticket.status === 'resolved' && !canReopen(ticket, now, windowMs))
  );
}

/** The subject a follow-up ticket starts with: the old reference, for the agents to find it. */
export function followUpSubject(reference: string): string {
  return `Follow-up to ${reference}`;
}

export function customerActor(requester: Requester): EventActor {
  return { kind: 'requester', requesterId: requester.id, name: requester.name || requester.email };
}

/** The reopening window in whole days, as the configuration gives it and pages state it. */
export function windowDays(windowMs: number): number {
  return Math.round(windowMs / 86_400_000);
}

/** Why a ticket resolved too long ago takes no reply and cannot be reopened. */
export function expiredError(field: string, windowMs: number): ValidationError {
  return ValidationError.of(field, 'forms.rules.expired', { days: windowDays(windowMs) });
}

/** Why the ticket cannot be marked as solved now; the error points at the page's status line. */
function notSolvable(ticket: Ticket): ValidationError {
  return ValidationError.of(
    'status',
    ticket.status === 'closed' ? 'forms.rules.alreadyClosed' : 'forms.rules.alreadyResolved',
  );
}

/** Why the ticket cannot be reopened now. */
function notReopenable(ticket: Ticket, now: Date, windowMs: number): ValidationError {
  if (ticket.status === 'closed') return ValidationError.of('status', 'forms.rules.closedNoReopen');
  if (ticket.status === 'resolved' && !canReopen(ticket, now, windowMs)) {
    return expiredError('status', windowMs);
  }
  return ValidationError.of('status', 'forms.rules.alreadyOpen');
}

async function changed(
  trx: Trx,
  before: Ticket,
  after: Ticket | undefined,
  actor: EventActor,
  refuse: (current: Ticket) => ValidationError,
): Promise<Ticket> {
  if (!after) {
    // Somebody else changed the ticket since it was read: explain against its status now.
    const current = await tickets.findByNumber(trx, before.workspaceId, before.number);
    if (!current) throw new NotFoundError();
    throw refuse(current);
  }
  await ticketEvents.insert(trx, {
    workspaceId: before.workspaceId,
    ticketId: before.id,
    actor,
    from: before.status,
    to: after.status,
    at: after.lastActivityAt,
  });
  return after;
}

/** "My problem is solved": Open or Pending becomes Resolved, and the window to reopen starts. */
export async function markSolvedByCustomer(
  trx: Trx,
  input: { ticket: Ticket; requester: Requester; at: Date },
): Promise<Ticket> {
  const { ticket } = input;
  if (!canMarkSolved(ticket)) throw notSolvable(ticket);
  const after = await tickets.transition(trx, {
    workspaceId: ticket.workspaceId,
    id: ticket.id,
    from: solvable,
    to: 'resolved',
    at: input.at,
  });
  return changed(trx, ticket, after, customerActor(input.requester), notSolvable);
}

/** Reopen: a Resolved ticket within the window becomes Open again. */
export async function reopenByCustomer(
  trx: Trx,
  input: { ticket: Ticket; requester: Requester; at: Date; windowMs: number },
): Promise<Ticket> {
  const { ticket, at, windowMs } = input;
  if (!canReopen(ticket, at, windowMs)) throw notReopenable(ticket, at, windowMs);
  const after = await tickets.transition(trx, {
    workspaceId: ticket.workspaceId,
    id: ticket.id,
    from: ['resolved'],
    to: 'open',
    resolvedAfter: new Date(at.getTime() - windowMs),
    at,
  });
  return changed(trx, ticket, after, customerActor(input.requester), (current) =>
    notReopenable(current, at, windowMs),
  );
}

/**
 * A status change as a line in the thread; nothing when the status stays. `withMessage`: the
 * change comes with a message written at the same time, and the thread orders entries of the
 * same time by their random ids, so the line is dated a millisecond earlier to come first.
 */
export async function recordStatusChange(
  trx: Trx,
  input: {
    ticket: Ticket;
    actor: EventActor;
    to: TicketStatus | undefined;
    at: Date;
    withMessage?: boolean;
  },
): Promise<void> {
  if (input.to === undefined || input.to === input.ticket.status) return;
  await ticketEvents.insert(trx, {
    workspaceId: input.ticket.workspaceId,
    ticketId: input.ticket.id,
    actor: input.actor,
    from: input.ticket.status,
    to: input.to,
    at: input.withMessage ? new Date(input.at.getTime() - 1) : input.at,
  });
}
