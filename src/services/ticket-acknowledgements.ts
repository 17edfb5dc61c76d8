import { workspaceOrigin, type Config } from '../config';
import type { Trx } from '../db/knex';
import type { Requester } from '../models/requesters';
import type { Ticket } from '../models/tickets';
import type { Workspace } from '../models/workspaces';
import { paths } from '../routes/paths';
import { translate } from '../i18n/translate';
import { queueMail, type MailContext } from './mail';
import { mailLocale } from './mail-locale';
import { formatReference } from './references';
import { issueReplyAddress } from './reply-addresses';

/** What a mail to a requester about a ticket needs: templates, seal, origins and reply domain. */
export type TicketMailContext = MailContext & {
  config: Pick<Config, 'baseUrl' | 'inbound'>;
  now: Date;
};

/** The portal page of a ticket, or undefined while the workspace's portal is off. */
export function portalTicketLink(
  config: Pick<Config, 'baseUrl'>,
  workspace: Workspace,
  reference: string,
): string | undefined {
  return workspace.portalEnabled
    ? `${workspaceOrigin(config, workspace.slug)}${paths.portal.ticket(reference)}`
    : undefined;
}

/**
 * "We have your ticket": the reference to quote, the portal's page when the portal is on, and a
 * Reply-To that adds the customer's answer to the thread. Queued in the transaction that opens
 * the ticket (for a held ticket: the one that releases it), so it goes out exactly when the
 * ticket exists for the agents. It is in the requester's language: whatever the portal action
 * that opened it remembered on them (see requesters.rememberLanguage), else the workspace's.
 */
export async function acknowledgeTicket(
  trx: Trx,
  ctx: TicketMailContext,
  input: { workspace: Workspace; ticket: Ticket; requester: Requester },
): Promise<void> {
  const { workspace, ticket, requester } = input;
  const reference = formatReference(workspace.slug, ticket.number);
  const replyTo = await issueReplyAddress(trx, ctx.config.inbound.domain, {
    workspaceId: workspace.id,
    ticketId: ticket.id,
    requesterId: requester.id,
    at: ctx.now,
  });
  const locale = mailLocale(workspace, requester);
  await queueMail(trx, ctx, {
    workspaceId: workspace.id,
    to: requester.email,
    locale,
    subject: translate(locale.lang, 'mail.ticketOpened.subject', {
      reference,
      ticketSubject: ticket.subject,
    }),
    template: 'ticket-opened',
    data: {
      workspaceName: workspace.name,
      reference,
      ticketSubject: ticket.subject,
      link: portalTicketLink(ctx.config, workspace, reference),
      canReply: replyTo !== undefined,
    },
    at: ctx.now,
    replyTo,
    autoSubmitted: 'auto-generated',
  });
}
