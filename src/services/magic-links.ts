import { createHash, randomBytes } from 'node:crypto';
import { workspaceOrigin, type Config } from '../config';
import type { Trx } from '../db/knex';
import * as loginTokens from '../models/login-tokens';
import * as requesters from '../models/requesters';
import type { Requester } from '../models/requesters';
import type { Workspace } from '../models/workspaces';
import { paths } from '../routes/paths';
import { clientIp, recordEvent, requesterActor, visitorActor } from './audit-trail';
import { queueMail, type MailContext } from './mail';

const TOKEN_BYTES = 32;
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** Only this hash is stored; the token itself exists in the mail alone. */
function hashToken(token: string): Buffer | undefined {
  if (!TOKEN_PATTERN.test(token)) return undefined;
  return createHash('sha256').update(token).digest();
}

export function isWellFormedToken(token: string): boolean {
  return TOKEN_PATTERN.test(token);
}

/**
 * Issues a token for the address and queues the mail carrying it. Runs in a `signin` scope.
 * The audit trail records the request the same way whether or not the address is a customer's,
 * without looking: like the answer and its timing, the trail must not tell the two apart.
 */
export async function sendSignInLink(
  trx: Trx,
  ctx: MailContext & { config: Pick<Config, 'baseUrl' | 'magicLinkTtlMs'>; now: Date },
  input: { workspace: Workspace; email: string; ip: string | undefined },
): Promise<void> {
  const token = randomBytes(TOKEN_BYTES).toString('base64url');
  const expiresAt = new Date(ctx.now.getTime() + ctx.config.magicLinkTtlMs);
  await loginTokens.insert(trx, {
    workspaceId: input.workspace.id,
    email: input.email,
    tokenHash: createHash('sha256').update(token).digest(),
    expiresAt,
  });
  const link = `${workspaceOrigin(ctx.config, input.workspace.slug)}${paths.portal.signInLink(token)}`;
  await queueMail(trx, ctx, {
    workspaceId: input.workspace.id,
    to: input.email,
    subject: `Your sign-in link for ${input.workspace.name}`,
    template: 'sign-in',
    data: {
      workspaceName: input.workspace.name,
      link,
      validMinutes: ctx.config.magicLinkTtlMs / 60_000,
    },
    at: ctx.now,
    // A link that no longer works is worse than no mail: it would only tell them it failed.
    expiresAt,
  });
  await recordEvent(
    trx,
    {
      workspaceId: input.workspace.id,
      actor: visitorActor(input.email),
      ip: clientIp(input.ip),
      at: ctx.now,
    },
    { action: 'portal.signin_link_requested' },
  );
}

export async function isSignInLinkUsable(
  trx: Trx,
  input: { workspaceId: string; token: string; now: Date },
): Promise<boolean> {
  const tokenHash = hashToken(input.token);
  if (!tokenHash) return false;
  return loginTokens.isUsable(trx, { workspaceId: input.workspaceId, tokenHash, now: input.now });
}

/**
 * Spends the token (atomically: of two simultaneous uses exactly one wins) and returns the
 * requester it signs in, creating one for a first-time address. Runs in a `signin` scope.
 */
export async function redeemSignInLink(
  trx: Trx,
  input: { workspaceId: string; token: string; now: Date; ip: string | undefined },
): Promise<Requester | undefined> {
  const tokenHash = hashToken(input.token);
  if (!tokenHash) return undefined;
  const email = await loginTokens.consume(trx, {
    workspaceId: input.workspaceId,
    tokenHash,
    now: input.now,
  });
  if (!email) return undefined;
  const requester = await requesters.findOrCreate(trx, {
    workspaceId: input.workspaceId,
    email,
    name: '',
  });
  await recordEvent(
    trx,
    {
      workspaceId: input.workspaceId,
      actor: requesterActor(requester),
      ip: clientIp(input.ip),
      at: input.now,
    },
    { action: 'portal.signin_link_used' },
  );
  return requester;
}
