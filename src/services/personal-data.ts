import type { Trx } from '../db/knex';
import * as attachments from '../models/attachments';
import * as messages from '../models/messages';
import * as requesters from '../models/requesters';
import * as tickets from '../models/tickets';
import type { TicketStatus } from '../models/tickets';
import type { Workspace } from '../models/workspaces';
import { NotFoundError } from '../errors';
import { formatReference } from './references';

/**
 * Everything a workspace holds about one requester, as the "Your data" export gives it (JSON and
 * the printable page alike). Times are ISO 8601 in UTC. Internal notes are never part of it: they
 * are left out by the query and, in the requester scope it runs in, by row-level security.
 * The README documents this shape; change both together. Files are listed, not included: the
 * thread's download links serve them.
 */
export interface PersonalData {
  format: 'tickets-portal/your-data/1';
  exportedAt: string;
  workspace: string;
  you: {
    name: string;
    email: string;
    /** When the workspace first knew the address. */
    since: string;
    erasureRequestedAt: string | null;
  };
  tickets: {
    reference: string;
    subject: string;
    status: TicketStatus;
    openedAt: string;
    lastActivityAt: string;
    rating: { stars: number; comment: string | null; ratedAt: string | null } | null;
    messages: {
      from: 'you' | 'support';
      name: string;
      sentAt: string;
      text: string;
      /** The message's files, described (the files themselves are a download away on the ticket). */
      files: { name: string; type: string; size: number }[];
    }[];
  }[];
}

/** Reads the requester's data; runs in that requester's own scope. */
export async function collectPersonalData(
  trx: Trx,
  input: { workspace: Workspace; requesterId: string; at: Date },
): Promise<PersonalData> {
  const { workspace, requesterId } = input;
  const me = await requesters.findRecord(trx, workspace.id, requesterId);
  if (!me) throw new NotFoundError();
  const theirs = await tickets.listAllOfRequester(trx, workspace.id, requesterId);
  const thread = await messages.listPublicOfTickets(
    trx,
    workspace.id,
    theirs.map((t) => t.id),
  );
  const files = new Map<string, attachments.Attachment[]>();
  for (const file of await attachments.listOfTickets(
    trx,
    workspace.id,
    theirs.map((t) => t.id),
  )) {
    const list = files.get(file.messageId) ?? [];
    list.push(file);
    files.set(file.messageId, list);
  }
  const byTicket = new Map<string, messages.Message[]>();
  for (const m of thread) {
    if (m.internal) continue;
    const list = byTicket.get(m.ticketId) ?? [];
    list.push(m);
    byTicket.set(m.ticketId, list);
  }
  return {
    format: 'tickets-portal/your-data/1',
    exportedAt: input.at.toISOString(),
    workspace: workspace.name,
    you: {
      name: me.name,
      email: me.email,
      since: me.createdAt.toISOString(),
      erasureRequestedAt: me.erasureRequestedAt?.toISOString() ?? null,
    },
    tickets: theirs.map((ticket) => ({
      reference: formatReference(workspace.slug, ticket.number),
      subject: ticket.subject,
      status: ticket.status,
      openedAt: ticket.createdAt.toISOString(),
      lastActivityAt: ticket.lastActivityAt.toISOString(),
      rating:
        ticket.rating === null
          ? null
          : {
              stars: ticket.rating,
              comment: ticket.ratingComment,
              ratedAt: ticket.ratedAt?.toISOString() ?? null,
            },
      messages: (byTicket.get(ticket.id) ?? []).map((m) => ({
        from: m.authorKind === 'requester' ? ('you' as const) : ('support' as const),
        name: m.authorName,
        sentAt: m.createdAt.toISOString(),
        text: m.body,
        files: (files.get(m.id) ?? []).map((file) => ({
          name: file.name,
          type: file.contentType,
          size: file.size,
        })),
      })),
    })),
  };
}

/** e.g. acme-your-data-2026-11-25.json (the date in UTC). */
export function personalDataFilename(slug: string, at: Date): string {
  return `${slug}-your-data-${at.toISOString().slice(0, 10)}.json`;
}
