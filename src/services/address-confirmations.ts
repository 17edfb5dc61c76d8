import { workspaceOrigin, type Config } from '../config';
import type { Trx } from '../db/knex';
import { applyScope } from '../db/scopes';
import { NotFoundError } from '../errors';
import * as requesters from '../models/requesters';
import * as confirmations from '../models/ticket-confirmations';
import * as tickets from '../models/tickets';
import type { Ticket } from '../models/tickets';
import type { Workspace } from '../models/workspaces';
import { paths } from '../routes/paths';
import { translate } from '../i18n/translate';
import type { Requester } from '../models/requesters';
import { hashLinkToken, newLinkToken } from './link-tokens';
import { queueMail, type MailContext } from './mail';
import type { MailLocale } from './mail-locale';
import { formatReference } from './references';
import { acknowledgeTicket, type TicketMailContext } from './ticket-acknowledgements';

/**
 * Verified anonymous tickets: where the workspace asks for it, a ticket opened without signing in
 * is held (hidden from agents and lists by row-level security) until the owner of the address
 * follows a link mailed to it. The link follows the sign-in link's rules: only its hash stored,
 * valid for the same hour, single use; its GET page only shows a button, the POST spends it.
 */

export type ConfirmationMailContext = MailContext & {
  config: Pick<Config, 'baseUrl' | 'magicLinkTtlMs' | 'inbound' | 'housekeeping'>;
  now: Date;
};

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Issues a link for the held ticket and queues the mail carrying it, to the ticket's address, in
 * the language of the form that asked for it (see mailLocale).
 */
export async function sendConfirmationLink(
  trx: Trx,
  ctx: ConfirmationMailContext,
  input: { workspace: Workspace; ticket: Ticket; email: string; locale: MailLocale },
): Promise<void> {
  const { token, hash } = newLinkToken();
  const expiresAt = new Date(ctx.now.getTime() + ctx.config.magicLinkTtlMs);
  await confirmations.insert(trx, {
    workspaceId: input.workspace.id,
    ticketId: input.ticket.id,
    tokenHash: hash,
    expiresAt,
  });
  const reference = formatReference(input.workspace.slug, input.ticket.number);
  await queueMail(trx, ctx, {
    workspaceId: input.workspace.id,
    to: input.email,
    locale: input.locale,
    subject: translate(input.locale.lang, 'mail.confirmAddress.subject', { reference }),
    template: 'confirm-address',
    data: {
      workspaceName: input.workspace.name,
      reference,
      ticketSubject: input.ticket.subject,
      link: `${workspaceOrigin(ctx.config, input.workspace.slug)}${paths.portal.confirmAddress(token)}`,
      validMinutes: ctx.config.magicLinkTtlMs / 60_000,
      heldDays: Math.round(ctx.config.housekeeping.heldTicketRetentionMs / DAY_MS),
    },
    at: ctx.now,
    // Like a sign-in mail: once the link is dead the mail would only disappoint.
    expiresAt,
  });
}

/** Whom a held ticket's links go to: the requester of the address typed when it was opened. */
export async function heldTicketRequester(trx: Trx, ticket: Ticket): Promise<Requester> {
  const requester = await requesters.findById(trx, ticket.workspaceId, ticket.requesterId);
  if (!requester) throw new NotFoundError();
  return requester;
}

export async function isConfirmationLinkUsable(
  trx: Trx,
  input: { workspaceId: string; token: string; now: Date },
): Promise<boolean> {
  const tokenHash = hashLinkToken(input.token);
  if (!tokenHash) return false;
  return confirmations.isUsable(trx, { workspaceId: input.workspaceId, tokenHash, now: input.now });
}

/**
 * Spends the link and releases its ticket, atomically: the link's UPDATE decides which of two
 * simultaneous uses wins, and the loser finds nothing to spend. The rest of the transaction is
 * narrowed to a visitor holding just that ticket (a held ticket is invisible to every other
 * scope). Returns the released ticket, or undefined for a link that is unknown, used or expired.
 * Runs in a `signin` scope: the person confirming may be on another device. Following the link
 * proves the address is theirs, so the transaction then acts as that requester, who keeps the
 * confirming page's language; the acknowledgement goes out in it.
 */
export async function confirmAddress(
  trx: Trx,
  ctx: TicketMailContext,
  input: { workspace: Workspace; token: string; now: Date; language: string },
): Promise<Ticket | undefined> {
  const workspaceId = input.workspace.id;
  const tokenHash = hashLinkToken(input.token);
  if (!tokenHash) return undefined;
  const ticketId = await confirmations.consume(trx, { workspaceId, tokenHash, now: input.now });
  if (!ticketId) return undefined;
  await applyScope(trx, { kind: 'visitor', workspaceId, ticketIds: [ticketId] });
  const released = await tickets.release(trx, { workspaceId, id: ticketId, at: input.now });
  await confirmations.deleteForTicket(trx, { workspaceId, ticketId });
  // The acknowledgement held back when the ticket was opened goes out now that it is real.
  if (released) {
    const requesterId = released.requesterId;
    await applyScope(trx, { kind: 'requester', workspaceId, requesterId });
    const requester = await requesters.findRememberingLanguage(trx, {
      workspaceId,
      id: requesterId,
      language: input.language,
    });
    if (requester) {
      await acknowledgeTicket(trx, ctx, {
        workspace: input.workspace,
        ticket: released,
        requester,
      });
    }
  }
  return released;
}

/** Held tickets never confirmed are deleted after `before`. Runs in the system scope. */
export function deleteUnconfirmedTickets(trx: Trx, before: Date): Promise<number> {
  return tickets.deleteHeldBefore(trx, before);
}
