import type { NextFunction, Request, Response } from 'express';
import type { Trx } from '../../db/knex';
import { agentScope } from '../../middleware/admin-viewer';
import { withPage } from '../../middleware/page-transaction';
import type { ListedTicket } from '../../models/ticket-search';
import type { ThreadEntry } from '../../models/ticket-thread';
import type { Ticket } from '../../models/tickets';
import { ticketStatuses } from '../../models/tickets';
import { paths } from '../../routes/paths';
import { agentThread, findAgentTicket } from '../../services/agent-tickets';
import { formatReference, parseReference } from '../../services/references';
import type { FormErrors } from '../../validation/form-errors';
import { takeFlash } from '../../middleware/flash';
import { decodeCursor, threadLinks } from '../../services/cursors';
import { attachmentView } from '../../services/attachments';
import { depsOf } from '../../deps';
import { threadComponents } from '../../services/thread-components';

export const statusOptions = ticketStatuses.map((value) => ({
  value,
  text: value[0]!.toUpperCase() + value.slice(1),
}));

export function referenceOf(req: Request): string {
  const ref = req.params.ref;
  return typeof ref === 'string' ? ref : '';
}

export function ticketPath(res: Response, ticket: Ticket): string {
  return paths.admin.ticket(formatReference(res.locals.workspace.slug, ticket.number));
}

/** Loads this workspace's ticket named by the URL (404 for anything else) and runs work on it, in one agent scope. */
export function withAgentTicket<T>(
  req: Request,
  res: Response,
  work: (trx: Trx, ticket: ListedTicket) => Promise<T>,
): Promise<T> {
  const workspace = res.locals.workspace;
  return withPage(req, res, agentScope(res), async (trx) => {
    const ticket = await findAgentTicket(trx, { workspace, reference: referenceOf(req) });
    return work(trx, ticket);
  });
}

/** A message with its files, or a status change with who made it (a requester or an agent). */
function entryView(entry: ThreadEntry, reference: string) {
  if (entry.kind === 'event') {
    const { event } = entry;
    return {
      kind: 'event' as const,
      byCustomer: event.actorKind === 'requester',
      actorName: event.actorName,
      fromStatus: event.fromStatus,
      toStatus: event.toStatus,
      createdAt: event.createdAt,
    };
  }
  const { message } = entry;
  return {
    kind: 'message' as const,
    authorKind: message.authorKind,
    authorName: message.authorName,
    body: message.body,
    internal: message.internal,
    createdAt: message.createdAt,
    files: entry.files.map((file) =>
      attachmentView(file, paths.admin.attachment(reference, file.id)),
    ),
  };
}

/** The ticket page; the reply and status forms re-render it with their errors (422). */
export async function renderTicketPage(
  req: Request,
  res: Response,
  form: { status?: number; errors?: FormErrors; values?: unknown } = {},
): Promise<void> {
  const before = decodeCursor(req.query.before);
  const limit = depsOf(req).config.threadPageSize;
  const { ticket, thread } = await withAgentTicket(req, res, async (trx, ticket) => ({
    ticket,
    thread: await agentThread(trx, ticket, { before, limit }),
  }));
  const reference = formatReference(res.locals.workspace.slug, ticket.number);
  const href = paths.admin.ticket(reference);
  const entries = thread.entries.map((entry) => entryView(entry, reference));
  res.status(form.status ?? 200).render('admin/ticket.njk', {
    section: 'inbox',
    ticket: {
      reference,
      subject: ticket.subject,
      status: ticket.status,
      createdAt: ticket.createdAt,
      rating: ticket.rating,
      ratingComment: ticket.ratingComment,
    },
    requester: { name: ticket.requesterName, email: ticket.requesterEmail },
    thread: entries,
    threadHas: threadComponents(entries),
    ...threadLinks(href, before, thread.earlier),
    statusOptions,
    replyAction: paths.admin.reply(reference),
    statusAction: paths.admin.status(reference),
    flash: form.errors || before ? undefined : takeFlash(req, res),
    values: form.values ?? {},
    errors: form.errors,
  });
}

/**
 * Anything that is not shaped like one of this workspace's references falls through to the
 * routes after this one (e.g. /admin/tickets/export.csv) and, failing those, to the 404 page.
 */
export async function get(req: Request, res: Response, next: NextFunction): Promise<void> {
  if (parseReference(res.locals.workspace.slug, referenceOf(req)) === undefined)
    return next('route');
  await renderTicketPage(req, res);
}
