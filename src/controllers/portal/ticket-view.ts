import type { Message } from '../../models/messages';
import type { ThreadEntry, ThreadPage } from '../../models/ticket-thread';
import { threadLinks, type KeysetCursor } from '../../services/cursors';
import type { Ticket } from '../../models/tickets';
import { paths } from '../../routes/paths';
import { formatReference } from '../../services/references';
import { attachmentView, type AttachmentView } from '../../services/attachments';
import { threadComponents } from '../../services/thread-components';

/** What templates see of a ticket: plain values, its reference and link. */
export interface TicketView {
  reference: string;
  href: string;
  subject: string;
  status: Ticket['status'];
  lastReplyAt: Date | null;
  rating: number | null;
  ratingComment: string | null;
  /** Waiting for its address to be confirmed: only the visitor who opened it sees it. */
  held: boolean;
}

export function ticketView(slug: string, ticket: Ticket): TicketView {
  const reference = formatReference(slug, ticket.number);
  return {
    reference,
    href: paths.portal.ticket(reference),
    subject: ticket.subject,
    status: ticket.status,
    lastReplyAt: ticket.lastReplyAt,
    rating: ticket.rating,
    ratingComment: ticket.ratingComment,
    held: ticket.heldSince !== null,
  };
}

export interface MessageView {
  kind: 'message';
  authorKind: Message['authorKind'];
  authorName: string;
  body: string;
  createdAt: Date;
  files: AttachmentView[];
}

/** A status change as the customer reads it: by "you" (the ticket's requester) or the team. */
export interface EventView {
  kind: 'event';
  byCustomer: boolean;
  actorName: string;
  fromStatus: Ticket['status'];
  toStatus: Ticket['status'];
  createdAt: Date;
}

function entryView(entry: ThreadEntry, reference: string): MessageView | EventView {
  if (entry.kind === 'message') {
    const { message } = entry;
    return {
      kind: 'message',
      authorKind: message.authorKind,
      authorName: message.authorName,
      body: message.body,
      createdAt: message.createdAt,
      files: entry.files.map((file) =>
        attachmentView(file, paths.portal.attachment(reference, file.id)),
      ),
    };
  }
  const { event } = entry;
  return {
    kind: 'event',
    byCustomer: event.actorKind === 'requester',
    actorName: event.actorName,
    fromStatus: event.fromStatus,
    toStatus: event.toStatus,
    createdAt: event.createdAt,
  };
}

/** One page of a thread, with its files, and the links to earlier entries and back to the latest. */
export function threadView(ticket: TicketView, before: KeysetCursor | undefined, page: ThreadPage) {
  const ticketHref = ticket.href;
  const thread = page.entries.map((entry) => entryView(entry, ticket.reference));
  return {
    thread,
    threadHas: threadComponents(thread),
    ...threadLinks(ticketHref, before, page.earlier),
  };
}
