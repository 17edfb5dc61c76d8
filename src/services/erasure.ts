import type { Trx } from '../db/knex';
import { NotFoundError } from '../errors';
import * as attachments from '../models/attachments';
import * as auditEvents from '../models/audit-events';
import * as loginTokens from '../models/login-tokens';
import * as messages from '../models/messages';
import * as ticketEvents from '../models/ticket-events';
import * as requesters from '../models/requesters';
import type { Requester } from '../models/requesters';
import * as sessions from '../models/sessions';
import * as tickets from '../models/tickets';
import { recordEvent, requesterActor, type AuditContext } from './audit-trail';
import { revokeReplyAddresses } from './reply-addresses';

/** What an erased text reads as. */
export const ERASED = '[erased]';

/**
 * The address an erased requester is left with: it names the row (so it is unique in the
 * workspace and can never be a real person's, `.invalid` being reserved), and frees the old
 * address for a fresh requester should the person come back.
 */
export function erasedAddress(requesterId: string): string {
  return `erased-${requesterId}@invalid`;
}

/** A signed-in requester asks to be erased (their own scope); asking again changes nothing. */
export async function requestErasure(
  trx: Trx,
  ctx: Omit<AuditContext, 'actor'>,
  requester: Pick<Requester, 'id' | 'email'>,
): Promise<void> {
  const asked = await requesters.requestErasure(trx, {
    workspaceId: ctx.workspaceId,
    id: requester.id,
    at: ctx.at,
  });
  if (asked) {
    await recordEvent(
      trx,
      { ...ctx, actor: requesterActor(requester) },
      { action: 'portal.erasure_requested' },
    );
  }
}

export function listErasureRequests(trx: Trx, workspaceId: string) {
  return requesters.listErasureRequests(trx, workspaceId);
}

/**
 * An admin carries out a pending request (agent scope): the requester's name and address and
 * every text of their tickets become placeholders, every file of their tickets is deleted, their
 * sessions end and their sign-in tokens and reply addresses go, and the audit trail names the
 * placeholder instead of the address. Ticket numbers, statuses, dates and star ratings stay for
 * statistics. Anything but a pending request of this workspace is 404.
 */
export async function eraseRequester(
  trx: Trx,
  ctx: AuditContext,
  requesterId: string,
): Promise<void> {
  const workspaceId = ctx.workspaceId;
  const requester = await requesters.lockPendingErasure(trx, workspaceId, requesterId);
  if (!requester) throw new NotFoundError();
  const placeholderAddress = erasedAddress(requester.id);
  const ticketCount = await tickets.eraseTextsOfRequester(trx, {
    workspaceId,
    requesterId,
    placeholder: ERASED,
  });
  await messages.eraseThreadsOfRequester(trx, { workspaceId, requesterId, placeholder: ERASED });
  // Files can be neither placeholders nor kept: every file of their tickets goes, bytes and all.
  await attachments.deleteOfRequester(trx, { workspaceId, requesterId });
  await ticketEvents.eraseActorNamesOfRequester(trx, {
    workspaceId,
    requesterId,
    placeholder: ERASED,
  });
  await requesters.markErased(trx, {
    workspaceId,
    id: requesterId,
    name: ERASED,
    email: placeholderAddress,
    at: ctx.at,
  });
  await loginTokens.deleteForEmail(trx, workspaceId, requester.email);
  // Mail to an old reply address must not add to the erased threads.
  await revokeReplyAddresses(trx, { workspaceId, requesterId });
  await sessions.deletePortalSessionsOfRequester(trx, workspaceId, requesterId);
  await auditEvents.redactAddress(trx, {
    workspaceId,
    requesterId,
    email: requester.email,
    placeholder: placeholderAddress,
  });
  await recordEvent(trx, ctx, {
    action: 'requester.erased',
    subject: { id: requesterId, label: placeholderAddress },
    details: { tickets: ticketCount },
  });
}
