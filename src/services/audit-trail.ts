import { isIP } from 'node:net';
import type { Trx } from '../db/knex';
import * as auditEvents from '../models/audit-events';
import type { AuditAction, AuditActor, AuditDetails, AuditEvent } from '../models/audit-events';
import type { Requester } from '../models/requesters';
import type { User } from '../models/users';

/**
 * Who acts, from where and when, for the events one unit of work records. `at` comes from the
 * app's clock, so the trail and the change it describes carry the same time.
 */
export interface AuditContext {
  workspaceId: string;
  actor: AuditActor;
  ip: string | null;
  at: Date;
}

export const systemActor: AuditActor = { kind: 'system' };

export function userActor(user: Pick<User, 'id' | 'email'>): AuditActor {
  return { kind: 'user', id: user.id, label: user.email };
}

export function requesterActor(requester: Pick<Requester, 'id' | 'email'>): AuditActor {
  return { kind: 'requester', id: requester.id, label: requester.email };
}

/** Someone not signed in, known only by the address they typed (never checked against accounts). */
export function visitorActor(email = ''): AuditActor {
  return { kind: 'visitor', label: email };
}

/**
 * The client's address as the trail stores it (PostgreSQL `inet`). Behind a proxy Express takes
 * it from X-Forwarded-For, which a client can fill with anything: what is not an IP is not kept.
 */
export function clientIp(ip: string | undefined): string | null {
  return ip !== undefined && isIP(ip) !== 0 ? ip : null;
}

/** Records one event in the caller's transaction, so it exists exactly when the change commits. */
export function recordEvent(
  trx: Trx,
  ctx: AuditContext,
  event: {
    action: AuditAction;
    subject?: { id?: string; label: string };
    details?: AuditDetails;
  },
): Promise<void> {
  return auditEvents.insert(trx, {
    workspaceId: ctx.workspaceId,
    occurredAt: ctx.at,
    actor: ctx.actor,
    ip: ctx.ip,
    ...event,
  });
}

/** Retention: deletes every workspace's events older than `cutoff`. Runs in the system scope. */
export function pruneAuditTrail(trx: Trx, cutoff: Date): Promise<number> {
  return auditEvents.deleteOlderThan(trx, cutoff);
}

const what: Record<AuditAction, string> = {
  'portal.signin_link_requested': 'Sign-in link requested (Tickets Portal)',
  'portal.signin_link_used': 'Signed in from a sign-in email (Tickets Portal)',
  'portal.ticket_opened_anonymously': 'Ticket opened without signing in (Tickets Portal)',
  'agent.signin_succeeded': 'Signed in to the agent app',
  'agent.signin_failed': 'Failed sign-in to the agent app',
  'agent.locked_out': 'Agent app sign-in locked for 15 minutes',
  'agent.signed_out': 'Signed out of the agent app',
  'module.changed': 'Module switched',
  'branding.changed': 'Workspace settings changed',
  'logo.changed': 'Logo uploaded',
  'logo.removed': 'Logo removed',
  'user.created': 'User added',
  'portal.erasure_requested': 'Erasure of their data requested (Tickets Portal)',
  'requester.erased': 'Customer’s data erased',
  'mail.ticket_opened': 'Ticket opened by email',
  'mail.reply_refused': 'Emailed reply refused: not from the ticket’s customer',
  'portal.signin_code_exhausted':
    'Sign-in code given up after too many wrong tries (Tickets Portal)',
};

function who(actor: AuditActor): string {
  switch (actor.kind) {
    case 'requester':
      return `${actor.label} (customer)`;
    case 'user':
      return actor.label;
    case 'visitor':
      return actor.label ? `${actor.label} (not signed in)` : 'Someone not signed in';
    case 'system':
      return 'Operator (command line)';
  }
}

function change(details: AuditDetails, field: string, label: string): string | undefined {
  const from = details[`${field}From`];
  const to = details[`${field}To`];
  return to === undefined ? undefined : `${label} from ${String(from)} to ${String(to)}`;
}

function detailsOf(event: AuditEvent): string {
  const d = event.details;
  const subject = event.subject?.label ?? '';
  switch (event.action) {
    case 'portal.signin_link_requested':
      return '';
    case 'portal.signin_code_exhausted':
      return `${String(d.tries)} wrong tries in the browser that asked; the link still works`;
    case 'portal.signin_link_used':
      // One event either way (link and code are one sign-in, spent together); events from
      // before codes existed carry no method, and were all links.
      return d.method === 'code' ? 'With its code, in the browser that asked' : 'With its link';
    case 'portal.ticket_opened_anonymously':
      return d.held
        ? `Ticket ${subject}, held until the address is confirmed`
        : `Ticket ${subject}`;
    case 'agent.signin_succeeded':
    case 'agent.signed_out':
      return '';
    case 'agent.signin_failed':
      return d.reason === 'wrong password'
        ? `Wrong password for ${subject}`
        : 'No user with the address given';
    case 'agent.locked_out':
      return d.limit === 'ip'
        ? 'Too many failed sign-ins from this IP address'
        : `Too many failed sign-ins for ${subject || 'an address that is not a user'}`;
    case 'module.changed':
      return `${subject} turned ${d.enabled ? 'on' : 'off'}`;
    case 'branding.changed':
      return [
        change(d, 'name', 'Name'),
        change(d, 'colour', 'Colour'),
        change(d, 'contact', 'Contact address'),
        change(d, 'language', 'Portal default language'),
        change(d, 'timeZone', 'Time zone'),
      ]
        .filter((part) => part !== undefined)
        .join('; ');
    case 'logo.changed':
      return `${String(d.type)}, ${String(d.bytes)} bytes`;
    case 'logo.removed':
      return '';
    case 'user.created':
      return `${subject} as ${d.role === 'admin' ? 'admin' : 'agent'}`;
    case 'portal.erasure_requested':
      return '';
    case 'requester.erased':
      return `${subject}, ${String(d.tickets)} ticket${d.tickets === 1 ? '' : 's'} kept without their texts`;
    case 'mail.ticket_opened':
      return d.held
        ? `Ticket ${subject}, held until the address is confirmed`
        : `Ticket ${subject}`;
    case 'mail.reply_refused':
      return `To ticket ${subject}`;
  }
}

/** An event in words, for the admin page: plain strings, escaped by the template. */
export function describeEvent(event: AuditEvent): {
  occurredAt: Date;
  who: string;
  what: string;
  details: string;
  ip: string;
} {
  return {
    occurredAt: event.occurredAt,
    who: who(event.actor),
    what: what[event.action],
    details: detailsOf(event),
    ip: event.ip ?? '',
  };
}
