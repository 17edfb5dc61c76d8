import type { Message, ThreadPage } from '../../models/messages';
import { threadLinks, type KeysetCursor } from '../../services/cursors';
import type { Ticket } from '../../models/tickets';
import { paths } from '../../routes/paths';
import { formatReference } from '../../services/references';

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
  authorKind: Message['authorKind'];
  authorName: string;
  body: string;
  createdAt: Date;
}

export function messageView(message: Message): MessageView {
  return {
    authorKind: message.authorKind,
    authorName: message.authorName,
    body: message.body,
    createdAt: message.createdAt,
  };
}

/** One page of a thread, with the links to earlier messages and back to the latest. */
export function threadView(ticketHref: string, before: KeysetCursor | undefined, page: ThreadPage) {
  return {
    thread: page.messages.map(messageView),
    ...threadLinks(ticketHref, before, page.earlier),
  };
}
