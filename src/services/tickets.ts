import { randomUUID } from 'node:crypto';
import type { Trx } from '../db/knex';
import { applyScope, type Scope } from '../db/scopes';
import { NotFoundError, ValidationError } from '../errors';
import { searchCustomerTickets, type CustomerTicketSearch } from '../models/customer-ticket-search';
import * as messages from '../models/messages';
import type { Message, MessageAuthor } from '../models/messages';
import * as thread from '../models/ticket-thread';
import type { ThreadCursor, ThreadPage } from '../models/ticket-thread';
import * as requesters from '../models/requesters';
import type { Requester } from '../models/requesters';
import * as tickets from '../models/tickets';
import type { ActivityCursor, Ticket, TicketFilter } from '../models/tickets';
import * as workspaces from '../models/workspaces';
import type { Workspace } from '../models/workspaces';
import { sendConfirmationLink, type ConfirmationMailContext } from './address-confirmations';
import { clientIp, recordEvent, visitorActor } from './audit-trail';
import { mailLocale } from './mail-locale';
import { acknowledgeTicket, type TicketMailContext } from './ticket-acknowledgements';
import { formatReference, parseReference } from './references';
import { canReopen, customerActor, expiredError, recordStatusChange } from './ticket-resolution';

/**
 * Who is looking at the portal: a signed-in requester (known from the session: id and address),
 * or a visitor holding only the tickets it opened.
 */
export type PortalViewer =
  | { kind: 'requester'; requesterId: string; email: string }
  | { kind: 'visitor'; ticketIds: readonly string[] };

export function portalScope(workspaceId: string, viewer: PortalViewer): Scope {
  return viewer.kind === 'requester'
    ? { kind: 'requester', workspaceId, requesterId: viewer.requesterId }
    : { kind: 'visitor', workspaceId, ticketIds: viewer.ticketIds };
}

function viewerFilter(viewer: PortalViewer): TicketFilter {
  return viewer.kind === 'requester'
    ? { requesterId: viewer.requesterId }
    : { ticketIds: viewer.ticketIds };
}

/** The viewer's tickets, newest activity first, narrowed by the list's search and filter. */
export function listViewerTickets(
  trx: Trx,
  input: {
    workspaceId: string;
    viewer: PortalViewer;
    search?: CustomerTicketSearch;
    after?: ActivityCursor;
    limit: number;
  },
): Promise<Ticket[]> {
  return searchCustomerTickets(trx, {
    workspaceId: input.workspaceId,
    filter: viewerFilter(input.viewer),
    search: input.search ?? {},
    after: input.after,
    limit: input.limit,
  });
}

/** The viewer's ticket by reference; anything else (unknown, garbled, somebody else's) is 404. */
export async function findViewerTicket(
  trx: Trx,
  input: { workspace: Workspace; viewer: PortalViewer; reference: string },
): Promise<Ticket> {
  const number = parseReference(input.workspace.slug, input.reference);
  const ticket =
    number === undefined ? undefined : await tickets.findByNumber(trx, input.workspace.id, number);
  // A held ticket belongs to the visitor session that opened it, until its address is confirmed.
  const mine =
    ticket !== undefined &&
    (input.viewer.kind === 'requester'
      ? ticket.requesterId === input.viewer.requesterId && ticket.heldSince === null
      : input.viewer.ticketIds.includes(ticket.id));
  if (!ticket || !mine) throw new NotFoundError();
  return ticket;
}

/**
 * What a customer may read of a thread, a page at a time (newest first): never internal notes,
 * in the query as well as in RLS.
 */
export function publicThread(
  trx: Trx,
  ticket: Ticket,
  page: { before?: ThreadCursor; limit: number },
): Promise<ThreadPage> {
  return thread.listThreadPage(trx, {
    workspaceId: ticket.workspaceId,
    ticketId: ticket.id,
    includeInternal: false,
    ...page,
  });
}

/** A new ticket, and its first message's id (files sent with it are kept under that message). */
export type OpenedTicket = Ticket & { firstMessageId: string };

export async function openTicket(
  trx: Trx,
  input: {
    workspace: Workspace;
    requester: Requester;
    subject: string;
    body: string;
    at: Date;
    id?: string;
    held?: boolean;
  },
): Promise<OpenedTicket> {
  const number = await workspaces.nextTicketNumber(trx, input.workspace.id);
  const ticket = await tickets.insert(trx, {
    workspaceId: input.workspace.id,
    id: input.id,
    held: input.held,
    number,
    requesterId: input.requester.id,
    subject: input.subject,
    at: input.at,
  });
  const first = await messages.insert(trx, {
    workspaceId: input.workspace.id,
    ticketId: ticket.id,
    author: requesterAuthor(input.requester),
    body: input.body,
    internal: false,
    at: input.at,
  });
  return { ...ticket, firstMessageId: first.id };
}

/**
 * A signed-in requester's new ticket (the requester is read here: the session holds only the id,
 * and the read remembers the page's language), acknowledged by mail in that language.
 */
export async function openTicketAsRequester(
  trx: Trx,
  ctx: TicketMailContext,
  input: {
    workspace: Workspace;
    requesterId: string;
    subject: string;
    body: string;
    at: Date;
    language: string;
  },
): Promise<Ticket> {
  const requester = await requesters.findRememberingLanguage(trx, {
    workspaceId: input.workspace.id,
    id: input.requesterId,
    language: input.language,
  });
  if (!requester) throw new NotFoundError();
  const ticket = await openTicket(trx, { ...input, requester });
  await acknowledgeTicket(trx, ctx, { workspace: input.workspace, ticket, requester });
  return ticket;
}

type AddressTicketInput = {
  workspace: Workspace;
  email: string;
  name: string;
  subject: string;
  body: string;
  at: Date;
  held?: boolean;
  /** The portal form's language, remembered on the requester; none for mail or an agent. */
  language?: string;
};

/**
 * A ticket for an email address rather than a signed-in requester: an anonymous visitor's, or one
 * an agent opens on a customer's behalf. The address's requester is found or created (a known name
 * is kept, a blank one filled in), then the rest of the transaction is narrowed to that requester,
 * who writes the ticket and its first, public message. Runs in a `signin` or `agent` scope.
 *
 * A held ticket (its address still to be confirmed) is invisible to the requester scope, so the
 * transaction is narrowed instead to a visitor holding just this ticket, whose id is therefore
 * chosen here, before the row exists.
 */
export async function openTicketForAddress(
  trx: Trx,
  input: AddressTicketInput,
): Promise<OpenedTicket> {
  return (await openForAddress(trx, input)).ticket;
}

async function openForAddress(
  trx: Trx,
  input: AddressTicketInput,
): Promise<{ ticket: OpenedTicket; requester: Requester }> {
  const workspaceId = input.workspace.id;
  const found = await requesters.findOrCreate(trx, {
    workspaceId,
    email: input.email,
    name: input.name,
    language: input.language,
  });
  if (!found.name) await requesters.setNameIfBlank(trx, workspaceId, found.id, input.name);
  const requester = found.name ? found : { ...found, name: input.name };
  if (input.held) {
    const id = randomUUID();
    await applyScope(trx, { kind: 'visitor', workspaceId, ticketIds: [id] });
    return { ticket: await openTicket(trx, { ...input, requester, id }), requester };
  }
  await applyScope(trx, { kind: 'requester', workspaceId, requesterId: requester.id });
  return { ticket: await openTicket(trx, { ...input, requester }), requester };
}

/**
 * The portal's form for visitors who are not signed in (and mail to a workspace's address): the
 * ticket, and in the audit trail the address it was opened for, as given (nobody proved it is
 * theirs). Where the workspace asks for it, the ticket is held and a link to confirm the address
 * is mailed (see address-confirmations); otherwise the acknowledgement goes out at once. Either
 * mail is in the form's language, which the address's requester keeps (mail that opens a ticket
 * has none: the requester's remembered language applies, else the workspace's).
 */
export async function openAnonymousTicket(
  trx: Trx,
  ctx: ConfirmationMailContext & TicketMailContext,
  input: Omit<AddressTicketInput, 'held'> & {
    ip: string | undefined;
    /** Which audit action records it: the portal's form or a mail to the workspace. */
    via?: 'portal' | 'mail';
  },
): Promise<OpenedTicket> {
  const held = input.workspace.confirmAnonymousEmail;
  const { ticket, requester } = await openForAddress(trx, { ...input, held });
  if (held) {
    await sendConfirmationLink(trx, ctx, {
      workspace: input.workspace,
      ticket,
      email: input.email,
      locale: mailLocale(input.workspace, requester),
    });
  } else {
    await acknowledgeTicket(trx, ctx, { workspace: input.workspace, ticket, requester });
  }
  await recordEvent(
    trx,
    {
      workspaceId: input.workspace.id,
      actor: visitorActor(input.email),
      ip: clientIp(input.ip),
      at: input.at,
    },
    {
      action: input.via === 'mail' ? 'mail.ticket_opened' : 'portal.ticket_opened_anonymously',
      subject: { id: ticket.id, label: formatReference(input.workspace.slug, ticket.number) },
      ...(held && { details: { held } }),
    },
  );
  return ticket;
}

export function requesterAuthor(requester: Requester): MessageAuthor {
  return { kind: 'requester', requesterId: requester.id, name: requester.name || requester.email };
}

/**
 * A customer's reply. It reopens a Resolved (or Pending) ticket; a Closed one takes no replies,
 * nor does a Resolved one past the reopening window (the page offers a follow-up ticket instead).
 * Reopening shows in the thread as an event, just before the reply.
 */
export async function replyAsRequester(
  trx: Trx,
  input: { ticket: Ticket; requester: Requester; body: string; at: Date; reopenWindowMs: number },
): Promise<Message> {
  const { ticket, at } = input;
  // The errors point at the page's notices, since such a ticket has no reply field.
  if (ticket.status === 'closed') throw ValidationError.of('closed', 'forms.rules.closedNoReply');
  if (ticket.status === 'resolved' && !canReopen(ticket, at, input.reopenWindowMs)) {
    throw expiredError('follow-up', input.reopenWindowMs);
  }
  if (ticket.status === 'resolved') {
    const actor = customerActor(input.requester);
    await recordStatusChange(trx, { ticket, actor, to: 'open', at, withMessage: true });
  }
  const message = await messages.insert(trx, {
    workspaceId: ticket.workspaceId,
    ticketId: ticket.id,
    author: requesterAuthor(input.requester),
    body: input.body,
    internal: false,
    at,
  });
  await tickets.recordReply(trx, {
    workspaceId: ticket.workspaceId,
    id: ticket.id,
    at,
    status: 'open',
    isPublic: true,
  });
  return message;
}

export function canBeRated(ticket: Ticket): boolean {
  return ticket.status === 'resolved' || ticket.status === 'closed';
}

/** CSAT: only Resolved or Closed tickets; a later rating replaces the earlier one. */
export async function rateTicket(
  trx: Trx,
  input: { ticket: Ticket; rating: number; comment: string | null; at: Date },
): Promise<Ticket> {
  if (!canBeRated(input.ticket)) {
    // An unrateable ticket has no rating field: the error points at its status.
    throw ValidationError.of('status', 'forms.rules.rateOnceResolved');
  }
  const rated = await tickets.setRating(trx, {
    workspaceId: input.ticket.workspaceId,
    id: input.ticket.id,
    rating: input.rating,
    comment: input.comment,
    at: input.at,
  });
  if (!rated) throw new NotFoundError();
  return rated;
}

/**
 * The requester a portal action on the ticket is done for, read with the page's language
 * remembered when the viewer is that requester, signed in. A visitor (the session that opened an
 * anonymous ticket) proved no address, and may only read the requester: its form's language was
 * remembered when it opened the ticket, and its later actions change nothing.
 */
export async function actingRequester(
  trx: Trx,
  input: { ticket: Ticket; viewer: PortalViewer; language: string },
): Promise<Requester> {
  const { ticket, viewer } = input;
  if (viewer.kind !== 'requester') return ticketRequester(trx, ticket);
  const requester = await requesters.findRememberingLanguage(trx, {
    workspaceId: ticket.workspaceId,
    id: viewer.requesterId,
    language: input.language,
  });
  if (!requester) throw new NotFoundError();
  return requester;
}

/** For an action that does not read the requester otherwise (a rating): see actingRequester. */
export async function rememberViewerLanguage(
  trx: Trx,
  input: { workspaceId: string; viewer: PortalViewer; language: string },
): Promise<void> {
  if (input.viewer.kind !== 'requester') return;
  await requesters.rememberLanguage(trx, {
    workspaceId: input.workspaceId,
    id: input.viewer.requesterId,
    language: input.language,
  });
}

/** The requester a ticket belongs to (a visitor's replies are written in that requester's name). */
export async function ticketRequester(trx: Trx, ticket: Ticket): Promise<Requester> {
  const requester = await requesters.findById(trx, ticket.workspaceId, ticket.requesterId);
  if (!requester) throw new NotFoundError();
  return requester;
}
