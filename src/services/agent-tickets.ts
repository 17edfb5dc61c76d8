import type { Config } from '../config';
import type { Trx } from '../db/knex';
import { NotFoundError, ValidationError } from '../errors';
import * as messages from '../models/messages';
import type { Message, MessageAuthor } from '../models/messages';
import * as thread from '../models/ticket-thread';
import * as ticketSearch from '../models/ticket-search';
import type { ListedTicket } from '../models/ticket-search';
import type { ThreadCursor, ThreadPage } from '../models/ticket-thread';
import * as tickets from '../models/tickets';
import type { Ticket, TicketStatus } from '../models/tickets';
import type { EventActor } from '../models/ticket-events';
import type { User } from '../models/users';
import type { Workspace } from '../models/workspaces';
import { filesForMail, type SavedFile } from './attachments';
import { translate } from '../i18n/translate';
import { sizeInUnits } from './file-sizes';
import { queueMail, type MailContext } from './mail';
import { mailLocale } from './mail-locale';
import { formatReference, parseReference } from './references';
import { issueReplyAddress } from './reply-addresses';
import {
  acknowledgeTicket,
  portalTicketLink,
  type TicketMailContext,
} from './ticket-acknowledgements';
import { recordStatusChange } from './ticket-resolution';
import { openTicketForAddress, ticketRequester } from './tickets';

/**
 * The agent app's ticket rules. Everything here runs in an `agent` scope: row-level security
 * shows the agent's own workspace only, internal notes included.
 */

export type AgentMailContext = MailContext & {
  config: Pick<Config, 'baseUrl' | 'inbound' | 'attachments'>;
};

/**
 * A ticket of this workspace by reference, with its requester's name and address; unknown,
 * garbled or another workspace's: 404.
 */
export async function findAgentTicket(
  trx: Trx,
  input: { workspace: Workspace; reference: string },
): Promise<ListedTicket> {
  const number = parseReference(input.workspace.slug, input.reference);
  const ticket =
    number === undefined
      ? undefined
      : await ticketSearch.findByNumber(trx, input.workspace.id, number);
  // The lookup leaves out held tickets (address not yet confirmed): as if they did not exist,
  // as row-level security agrees.
  if (!ticket) throw new NotFoundError();
  return ticket;
}

/** The thread a page at a time (newest first), internal notes included: for agents' eyes only. */
export function agentThread(
  trx: Trx,
  ticket: Ticket,
  page: { before?: ThreadCursor; limit: number },
): Promise<ThreadPage> {
  return thread.listThreadPage(trx, {
    workspaceId: ticket.workspaceId,
    ticketId: ticket.id,
    includeInternal: true,
    ...page,
  });
}

function agentAuthor(agent: User): MessageAuthor & EventActor {
  return { kind: 'agent', userId: agent.id, name: agent.name };
}

export const closedTicketReplyMessage =
  'This ticket is closed. Choose another status for it in this form to reply, or add an internal note.';

/**
 * A public reply: the ticket becomes Pending (waiting for the customer) unless the agent chose
 * another status in the same form. A Closed ticket takes a reply only together with a status
 * that reopens it, because its customer can no longer answer. The requester gets the reply by
 * mail, queued in this transaction, in their language and zone (the agent's are not theirs); the
 * link to the portal only when the portal is on.
 */
export async function replyAsAgent(
  trx: Trx,
  ctx: AgentMailContext,
  input: {
    workspace: Workspace;
    ticket: Ticket;
    agent: User;
    body: string;
    status?: TicketStatus;
    at: Date;
    /** Keeps the reply's files once the message exists; the mail names what it kept. */
    attach?: (message: Message) => Promise<readonly SavedFile[]>;
  },
): Promise<Message> {
  const { ticket } = input;
  if (ticket.status === 'closed' && (input.status ?? 'closed') === 'closed') {
    throw new ValidationError('body', closedTicketReplyMessage);
  }
  // Only a status the agent chose shows in the thread; the default Pending goes without saying.
  await recordStatusChange(trx, {
    ticket,
    actor: agentAuthor(input.agent),
    to: input.status,
    at: input.at,
    withMessage: true,
  });
  const message = await messages.insert(trx, {
    workspaceId: ticket.workspaceId,
    ticketId: ticket.id,
    author: agentAuthor(input.agent),
    body: input.body,
    internal: false,
    at: input.at,
  });
  const files = (await input.attach?.(message)) ?? [];
  await tickets.recordReply(trx, {
    workspaceId: ticket.workspaceId,
    id: ticket.id,
    at: input.at,
    status: input.status ?? 'pending',
    isPublic: true,
  });
  const requester = await ticketRequester(trx, ticket);
  const reference = formatReference(input.workspace.slug, ticket.number);
  const link = portalTicketLink(ctx.config, input.workspace, reference);
  // The customer's Reply lands in this thread (see inbound-mail).
  const replyTo = await issueReplyAddress(trx, ctx.config.inbound.domain, {
    workspaceId: ticket.workspaceId,
    ticketId: ticket.id,
    requesterId: requester.id,
    at: input.at,
  });
  const locale = mailLocale(input.workspace, requester);
  // With the portal on, the files are named and stay behind its access checks. With it off, the
  // mail is the customer's only way to them: it carries what fits and names the rest.
  const { attached, tooLarge } = link
    ? { attached: [], tooLarge: [] }
    : filesForMail(files, ctx.config.attachments.maxMailBytes);
  const named = (list: typeof files) =>
    list.map((f) => ({ name: f.name, size: sizeInUnits(f.size) }));
  await queueMail(trx, ctx, {
    workspaceId: ticket.workspaceId,
    to: requester.email,
    locale,
    subject: translate(locale.lang, 'mail.agentReply.subject', {
      ticketSubject: ticket.subject,
      reference,
    }),
    template: 'agent-reply',
    data: {
      workspaceName: input.workspace.name,
      reference,
      ticketSubject: ticket.subject,
      agentName: input.agent.name,
      body: input.body,
      files: named(link ? files : attached),
      tooLarge: named(tooLarge),
      link,
      canReply: replyTo !== undefined,
    },
    at: input.at,
    replyTo,
    files: attached.map((f) => ({
      workspaceId: ticket.workspaceId,
      ticketId: ticket.id,
      attachmentId: f.id,
    })),
  });
  return message;
}

/** An internal note: never mailed, never shown in the portal; the status changes only if chosen. */
export async function addInternalNote(
  trx: Trx,
  input: { ticket: Ticket; agent: User; body: string; status?: TicketStatus; at: Date },
): Promise<Message> {
  const { ticket } = input;
  await recordStatusChange(trx, {
    ticket,
    actor: agentAuthor(input.agent),
    to: input.status,
    at: input.at,
    withMessage: true,
  });
  const message = await messages.insert(trx, {
    workspaceId: ticket.workspaceId,
    ticketId: ticket.id,
    author: agentAuthor(input.agent),
    body: input.body,
    internal: true,
    at: input.at,
  });
  await tickets.recordReply(trx, {
    workspaceId: ticket.workspaceId,
    id: ticket.id,
    at: input.at,
    status: input.status,
    isPublic: false,
  });
  return message;
}

/** The status control; a change shows in the thread for the agents and the customer alike. */
export async function changeStatus(
  trx: Trx,
  input: { ticket: Ticket; agent: User; status: TicketStatus; at: Date },
): Promise<void> {
  await recordStatusChange(trx, {
    ticket: input.ticket,
    actor: agentAuthor(input.agent),
    to: input.status,
    at: input.at,
  });
  await tickets.setStatus(trx, {
    workspaceId: input.ticket.workspaceId,
    id: input.ticket.id,
    status: input.status,
    at: input.at,
  });
}

/**
 * "Open a ticket for a customer": the address's requester is found or created, and gets the
 * acknowledgement mail (with its Reply-To) as if they had opened the ticket themselves.
 */
export async function openTicketForCustomer(
  trx: Trx,
  ctx: TicketMailContext,
  input: Omit<Parameters<typeof openTicketForAddress>[1], 'held' | 'language'>,
): Promise<Ticket> {
  const ticket = await openTicketForAddress(trx, input);
  const requester = await ticketRequester(trx, ticket);
  await acknowledgeTicket(trx, ctx, { workspace: input.workspace, ticket, requester });
  return ticket;
}
