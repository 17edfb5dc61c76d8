import { simpleParser, type ParsedMail } from 'mailparser';
import type { Environment } from 'nunjucks';
import type { Logger } from 'pino';
import { workspaceOrigin, type Config } from '../config';
import type { Db, Trx } from '../db/knex';
import { applyScope, withScope } from '../db/scopes';
import type { Clock } from '../deps';
import { TooManyRequestsError } from '../errors';
import * as requesters from '../models/requesters';
import * as tickets from '../models/tickets';
import * as workspaces from '../models/workspaces';
import type { Workspace } from '../models/workspaces';
import { paths } from '../routes/paths';
import { clientIp, recordEvent, visitorActor } from './audit-trail';
import { filesOf, keepInboundAttachments } from './inbound-attachments';
import { alreadyTaken, messageIdentity, receiptKey, recordTaken } from './inbound-receipts';
import { messageBody, plainText, ticketSubject } from './inbound-text';
import { translate } from '../i18n/translate';
import { queueMail } from './mail';
import { mailLocale, noWorkspaceLocale } from './mail-locale';
import { dropReason } from './mail-loops';
import { addressOf } from './mail-transport';
import type { RateLimits } from './rate-limits';
import { formatReference } from './references';
import { findReplyTarget, parseInboundRecipient } from './reply-addresses';
import { acknowledgeTicket, type TicketMailContext } from './ticket-acknowledgements';
import { followUpSubject, needsFollowUp } from './ticket-resolution';
import { openAnonymousTicket, openTicket, replyAsRequester } from './tickets';

/**
 * Mail coming in, from the SMTP listener or an MTA's pipe (`npm run cli -- mail:receive`): one
 * service decides what each message becomes. A reply to `reply+<token>@` joins its ticket's
 * thread as the requester's public message; mail to `<slug>@` opens a ticket in that workspace.
 * Machine-written mail and our own is dropped unanswered (see mail-loops); a reply from the wrong
 * address or to an unknown token is refused with one short answer, at most one an hour per
 * address.
 */

export interface InboundDeps {
  config: Pick<Config, 'inbound' | 'mailFrom' | 'limits' | 'sessionSecret' | 'baseUrl'> &
    Pick<Config, 'reopenWindowMs' | 'magicLinkTtlMs' | 'attachments' | 'housekeeping'>;
  db: Db;
  clock: Clock;
  logger: Logger;
  templates: Environment;
  rateLimits: Pick<RateLimits, 'newTicketByMail' | 'inboundAnswer'>;
}

export interface Envelope {
  /** MAIL FROM: '' for the null sender of a bounce, undefined when not known. */
  from: string | undefined;
  /** RCPT TO; empty when not known (a pipe without --to): the To and Cc headers are read. */
  to: readonly string[];
  /** The connecting client, for the audit trail. */
  clientIp?: string;
}

export type InboundOutcome =
  | { kind: 'added'; reference: string }
  | { kind: 'opened'; reference: string }
  | { kind: 'dropped'; reason: string }
  | { kind: 'refused'; reason: RefusalReason; answered: boolean }
  | { kind: 'unknown-recipient' }
  /** Over the tickets-by-mail limit: the sending server should try again later. */
  | { kind: 'deferred'; retryAfterSeconds: number }
  /** Taken already for this recipient: the message came again (see inbound-receipts). */
  | { kind: 'duplicate' };

type RefusalReason = 'unknown-token' | 'not-requester';

/** Whether SMTP should accept mail for this recipient: our domain, and a workspace if a slug. */
export async function acceptsRecipient(deps: InboundDeps, address: string): Promise<boolean> {
  const recipient = parseInboundRecipient(address, deps.config.inbound.domain);
  if (!recipient) return false;
  if (recipient.kind === 'reply') return true;
  return (await workspaces.findBySlug(deps.db, recipient.slug)) !== undefined;
}

const ADDRESS = /^[^\s@<>()",;:]+@[^\s@<>()",;:]+\.[^\s@<>()",;:]+$/;

interface Sender {
  email: string;
  name: string;
}

function senderOf(mail: ParsedMail, maxEmail: number, maxName: number): Sender | undefined {
  const from = mail.from?.value[0];
  const email = from?.address?.trim().toLowerCase();
  if (!email || email.length > maxEmail || !ADDRESS.test(email)) return undefined;
  const name = plainText(from?.name ?? '')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, maxName);
  return { email, name: name || email.slice(0, email.lastIndexOf('@')).slice(0, maxName) };
}

function headerRecipients(mail: ParsedMail): string[] {
  const lists = [mail.to, mail.cc].flatMap((field) =>
    field === undefined ? [] : Array.isArray(field) ? field : [field],
  );
  return lists.flatMap((list) => list.value.map((a) => a.address ?? '')).filter(Boolean);
}

/** Reads one raw message and does what it asks, once per recipient of ours. */
export async function receiveMail(
  deps: InboundDeps,
  raw: Buffer,
  envelope: Envelope,
): Promise<InboundOutcome[]> {
  let mail: ParsedMail;
  try {
    mail = await simpleParser(raw, { skipImageLinks: true, skipTextLinks: true });
  } catch (error) {
    deps.logger.warn({ err: error }, 'inbound mail could not be parsed: dropped');
    return [{ kind: 'dropped', reason: 'unreadable' }];
  }
  const { limits, inbound } = deps.config;
  const sender = senderOf(mail, limits.email, limits.name);
  const drop = dropReason(mail, {
    envelopeFrom: envelope.from,
    sender: sender?.email,
    ownAddress: addressOf(deps.config.mailFrom),
    inboundDomain: inbound.domain,
  });
  if (drop || !sender) {
    deps.logger.info({ reason: drop ?? 'no-sender' }, 'inbound mail dropped');
    return [{ kind: 'dropped', reason: drop ?? 'no-sender' }];
  }
  const addresses = envelope.to.length ? envelope.to : headerRecipients(mail);
  const identity = messageIdentity(mail, raw, sender.email);
  const seen = new Set<string>();
  const outcomes: InboundOutcome[] = [];
  for (const address of addresses) {
    const recipient = parseInboundRecipient(address, inbound.domain);
    const key =
      recipient && (recipient.kind === 'reply' ? recipient.token.toLowerCase() : recipient.slug);
    if (key && seen.has(key)) continue;
    if (key) seen.add(key);
    // One SMTP answer covers every recipient: a message deferred for one of them comes again
    // whole, and the others must not get it twice.
    const receipt =
      recipient && key ? receiptKey(identity, `${recipient.kind}\0${key}`) : undefined;
    const outcome =
      !recipient || !receipt
        ? ({ kind: 'unknown-recipient' } as const)
        : (await alreadyTaken(deps.db, receipt))
          ? ({ kind: 'duplicate' } as const)
          : recipient.kind === 'reply'
            ? await receiveReply(deps, mail, sender, recipient.token, envelope, receipt)
            : await receiveNewTicket(deps, mail, sender, recipient.slug, envelope, receipt);
    deps.logger.info(
      { outcome: outcome.kind, ...('reason' in outcome && { reason: outcome.reason }) },
      'inbound mail',
    );
    outcomes.push(outcome);
  }
  return outcomes.length ? outcomes : [{ kind: 'unknown-recipient' }];
}

function mailContext(deps: InboundDeps, now: Date): TicketMailContext {
  return { templates: deps.templates, secret: deps.config.sessionSecret, config: deps.config, now };
}

/**
 * One answer to a refused mail, unless this address had one within the hour: the limit is what
 * keeps two auto-responders from mailing each other forever (they are dropped above, but not
 * every auto-responder says what it is). Queued in the system scope, so also for no workspace.
 * In the language the workspace knows the address by (its requester's, else the workspace's);
 * English where the mail names no workspace.
 */
async function refuse(
  trx: Trx,
  deps: InboundDeps,
  input: { reason: RefusalReason; to: string; workspace?: Workspace; now: Date },
): Promise<InboundOutcome> {
  const answered = await deps.rateLimits.inboundAnswer(input.to);
  if (answered) {
    const portalLink = input.workspace?.portalEnabled
      ? `${workspaceOrigin(deps.config, input.workspace.slug)}${paths.portal.home}`
      : undefined;
    const { workspace } = input;
    const locale = workspace
      ? mailLocale(workspace, await requesters.findByEmail(trx, workspace.id, input.to))
      : noWorkspaceLocale;
    await queueMail(trx, mailContext(deps, input.now), {
      workspaceId: workspace?.id ?? null,
      to: input.to,
      locale,
      subject: translate(locale.lang, 'mail.mailRefused.subject'),
      template: 'mail-refused',
      data: { reason: input.reason, portalLink },
      at: input.now,
      autoSubmitted: 'auto-replied',
    });
  }
  return { kind: 'refused', reason: input.reason, answered };
}

/** Later than the ticket's last activity, so replies that arrive at once keep their order. */
function after(now: Date, last: Date): Date {
  return now > last ? now : new Date(last.getTime() + 1);
}

/**
 * A reply by mail. The token is looked up in the system scope (mail names no workspace); the
 * rest runs as the token's requester, like a portal reply: Pending or Resolved becomes Open, and
 * a ticket that takes no more replies (Closed, or Resolved too long ago) gets a follow-up
 * ticket that names it, as the portal offers.
 */
async function receiveReply(
  deps: InboundDeps,
  mail: ParsedMail,
  sender: Sender,
  token: string,
  envelope: Envelope,
  receipt: Buffer,
): Promise<InboundOutcome> {
  const now = deps.clock.now();
  return withScope(deps.db, { kind: 'system' }, async (trx) => {
    const target = await findReplyTarget(trx, token);
    // In this transaction: a second connection, wanted while holding a ticket's lock that others
    // wait for on the same pool, is how a burst of replies would deadlock the pool.
    const workspace = target && (await workspaces.findById(trx, target.workspaceId));
    if (!target || !workspace) {
      return refuse(trx, deps, { reason: 'unknown-token', to: sender.email, now });
    }
    const requester = await requesters.findById(trx, target.workspaceId, target.requesterId);
    const ticket = await tickets.lockById(trx, target.workspaceId, target.ticketId);
    if (!requester || !ticket) {
      return refuse(trx, deps, { reason: 'unknown-token', to: sender.email, now });
    }
    const reference = formatReference(workspace.slug, ticket.number);
    if (requester.email !== sender.email) {
      await recordEvent(
        trx,
        {
          workspaceId: workspace.id,
          actor: visitorActor(sender.email),
          ip: clientIp(envelope.clientIp),
          at: now,
        },
        { action: 'mail.reply_refused', subject: { id: ticket.id, label: reference } },
      );
      return refuse(trx, deps, { reason: 'not-requester', to: sender.email, workspace, now });
    }
    await applyScope(trx, {
      kind: 'requester',
      workspaceId: workspace.id,
      requesterId: requester.id,
    });
    await recordTaken(trx, receipt, now);
    const at = after(now, ticket.lastActivityAt);
    const body = messageBody(mail, deps.config.limits.body);
    const files = filesOf(mail.attachments);
    if (needsFollowUp(ticket, at, deps.config.reopenWindowMs)) {
      const followUp = await openTicket(trx, {
        workspace,
        requester,
        subject: followUpSubject(reference),
        body,
        at,
      });
      await keepInboundAttachments(trx, {
        workspaceId: workspace.id,
        ticketId: followUp.id,
        messageId: followUp.firstMessageId,
        files,
        limits: deps.config.attachments,
      });
      await acknowledgeTicket(trx, mailContext(deps, now), {
        workspace,
        ticket: followUp,
        requester,
      });
      return { kind: 'opened', reference: formatReference(workspace.slug, followUp.number) };
    }
    const message = await replyAsRequester(trx, {
      ticket,
      requester,
      body,
      at,
      reopenWindowMs: deps.config.reopenWindowMs,
    });
    await keepInboundAttachments(trx, {
      workspaceId: workspace.id,
      ticketId: ticket.id,
      messageId: message.id,
      files,
      limits: deps.config.attachments,
    });
    return { kind: 'added', reference };
  });
}

/**
 * Mail to a workspace's address opens a ticket there, with the limits and the address check of
 * the portal's form for people not signed in (the From address is as unproven as a typed one).
 */
async function receiveNewTicket(
  deps: InboundDeps,
  mail: ParsedMail,
  sender: Sender,
  slug: string,
  envelope: Envelope,
  receipt: Buffer,
): Promise<InboundOutcome> {
  const workspace = await workspaces.findBySlug(deps.db, slug);
  if (!workspace) return { kind: 'unknown-recipient' };
  try {
    await deps.rateLimits.newTicketByMail({ workspaceId: workspace.id, email: sender.email });
  } catch (error) {
    if (error instanceof TooManyRequestsError) {
      return { kind: 'deferred', retryAfterSeconds: error.retryAfterSeconds };
    }
    throw error;
  }
  const now = deps.clock.now();
  const { limits } = deps.config;
  return withScope(deps.db, { kind: 'signin', workspaceId: workspace.id }, async (trx) => {
    await recordTaken(trx, receipt, now);
    const ticket = await openAnonymousTicket(
      trx,
      { ...mailContext(deps, now), config: deps.config },
      {
        workspace,
        email: sender.email,
        name: sender.name,
        subject: ticketSubject(mail, limits.subject),
        body: messageBody(mail, limits.body),
        at: now,
        ip: envelope.clientIp,
        via: 'mail',
      },
    );
    await keepInboundAttachments(trx, {
      workspaceId: workspace.id,
      ticketId: ticket.id,
      messageId: ticket.firstMessageId,
      files: filesOf(mail.attachments),
      limits: deps.config.attachments,
    });
    return { kind: 'opened', reference: formatReference(workspace.slug, ticket.number) };
  });
}
