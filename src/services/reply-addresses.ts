import type { Trx } from '../db/knex';
import * as replyAddresses from '../models/reply-addresses';
import type { ReplyAddressTarget } from '../models/reply-addresses';
import { hashReplyToken, newReplyToken } from './link-tokens';

/**
 * The addresses inbound mail arrives at, all at INBOUND_DOMAIN: `reply+<token>@` for a reply
 * into a ticket's thread, `<slug>@` for a new ticket in that workspace.
 */

export type InboundRecipient =
  { kind: 'reply'; token: string } | { kind: 'new-ticket'; slug: string };

const REPLY_LOCAL = /^reply\+([^@]+)$/i;
const SLUG_LOCAL = /^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$/;

/** What an envelope recipient asks for; undefined for an address not at our domain. */
export function parseInboundRecipient(
  address: string,
  domain: string | undefined,
): InboundRecipient | undefined {
  const at = address.lastIndexOf('@');
  if (!domain || at < 1 || address.slice(at + 1).toLowerCase() !== domain) return undefined;
  const local = address.slice(0, at);
  const reply = REPLY_LOCAL.exec(local);
  if (reply?.[1]) return { kind: 'reply', token: reply[1] };
  const slug = local.toLowerCase();
  return SLUG_LOCAL.test(slug) ? { kind: 'new-ticket', slug } : undefined;
}

/**
 * A fresh reply address for one mail about a ticket to its requester; undefined where no inbound
 * domain is configured (the mail then has no Reply-To). Each mail gets its own token: only hashes
 * are stored, so an earlier token cannot be written out again, and every one stays good.
 */
export async function issueReplyAddress(
  trx: Trx,
  domain: string | undefined,
  input: { workspaceId: string; ticketId: string; requesterId: string; at: Date },
): Promise<string | undefined> {
  if (!domain) return undefined;
  const { token, hash } = newReplyToken();
  await replyAddresses.insert(trx, { ...input, tokenHash: hash });
  return `reply+${token}@${domain}`;
}

/** The ticket and requester a token names, or undefined (unknown, revoked, malformed). */
export function findReplyTarget(trx: Trx, token: string): Promise<ReplyAddressTarget | undefined> {
  const hash = hashReplyToken(token);
  return hash ? replyAddresses.findByHash(trx, hash) : Promise.resolve(undefined);
}

/** Erasure: the requester's reply addresses stop working. */
export async function revokeReplyAddresses(
  trx: Trx,
  input: { workspaceId: string; requesterId: string },
): Promise<void> {
  await replyAddresses.deleteForRequester(trx, input);
}
